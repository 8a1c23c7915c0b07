package rollout

import (
	"reflect"
	"testing"
	"time"
)

func TestStages(t *testing.T) {
	t.Parallel()
	m := time.Minute
	cases := []struct {
		name      string
		cfg       Config
		want      []Stage
		gateLimit int
	}{
		{name: "immediate", cfg: Config{Strategy: StrategyImmediate},
			want: []Stage{{Step: 1, Percent: 100}}},
		{name: "canary", cfg: canary(vB, Step{Percent: 5, Hold: 2 * m}, Step{Percent: 25, Hold: 5 * m, Gate: GateManual}, Step{Percent: 50, Hold: 5 * m}),
			want:      []Stage{{1, 5, 2 * m, false}, {2, 25, 5 * m, true}, {3, 50, 5 * m, false}, {Step: 4, Percent: 100}},
			gateLimit: 3},
		{name: "rolling 25", cfg: Config{Strategy: StrategyRolling, Rolling: &Rolling{BatchPercent: 25, Hold: m}},
			want:      []Stage{{1, 25, m, false}, {2, 50, m, false}, {3, 75, m, false}, {Step: 4, Percent: 100}},
			gateLimit: 3},
		{name: "rolling 30 ends with a short batch", cfg: Config{Strategy: StrategyRolling, Rolling: &Rolling{BatchPercent: 30, Hold: m}},
			want:      []Stage{{1, 30, m, false}, {2, 60, m, false}, {3, 90, m, false}, {Step: 4, Percent: 100}},
			gateLimit: 3},
		{name: "rolling 50", cfg: Config{Strategy: StrategyRolling, Rolling: &Rolling{BatchPercent: 50, Hold: m}},
			want: []Stage{{1, 50, m, false}, {Step: 2, Percent: 100}}, gateLimit: 1},
		{name: "rolling without batches is one move", cfg: Config{Strategy: StrategyRolling},
			want: []Stage{{Step: 1, Percent: 100}}},
		{name: "blue/green, manual switch", cfg: Config{Strategy: StrategyBlueGreen},
			want: []Stage{{Step: 0}, {Step: 1, Percent: 100, Gate: true}}, gateLimit: 1},
		{name: "blue/green, auto", cfg: Config{Strategy: StrategyBlueGreen, BlueGreen: &BlueGreen{AutoPromote: true, AutoPromoteAfter: 10 * m}},
			want: []Stage{{Step: 0, Hold: 10 * m}, {Step: 1, Percent: 100}}, gateLimit: 1},
	}
	for _, tc := range cases {
		if got := Stages(tc.cfg); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Stages = %+v, want %+v", tc.name, got, tc.want)
		}
		if got := GateableSteps(tc.cfg); got != tc.gateLimit {
			t.Errorf("%s: GateableSteps = %d, want %d", tc.name, got, tc.gateLimit)
		}
	}
	rolling := Stages(Config{Strategy: StrategyRolling, Rolling: &Rolling{BatchPercent: 1}})
	if len(rolling) != 100 || rolling[98].Percent != 99 {
		t.Fatalf("batch_percent = 1 gives %d stages", len(rolling))
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c := Config{Analysis: &Analysis{Probe: &Probe{Path: "/health"}}}.withDefaults()
	a := c.Analysis
	if c.OnFailure != OnFailureRollback || a.FailureLimit != 1 || a.Inconclusive != InconclusivePause || a.Interval != DefaultInterval || a.Probe.ExpectStatus != 200 {
		t.Fatalf("defaults: %+v %+v %+v", c, a, a.Probe)
	}
	orig := Config{Analysis: &Analysis{Probe: &Probe{Path: "/health"}}}
	_ = orig.withDefaults()
	if orig.Analysis.FailureLimit != 0 || orig.Analysis.Probe.ExpectStatus != 0 {
		t.Fatal("withDefaults changed the caller's configuration")
	}
}
