package rollout

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// canary3 is the example: 5 % for 2m, 25 % for 5m behind a manual gate, 50 % for 5m.
func canary3(target string) Config {
	return withAnalysis(canary(target,
		Step{Percent: 5, Hold: 2 * time.Minute},
		Step{Percent: 25, Hold: 5 * time.Minute, Gate: GateManual},
		Step{Percent: 50, Hold: 5 * time.Minute}))
}

func with(c Config, edit func(*Config)) Config {
	edit(&c)
	return c
}

func paused(reason Reason, step int, split Split, startedAgo time.Duration) Status {
	st := Status{Phase: PhasePaused, Reason: reason, Step: step, Stable: split[0].VersionID, Traffic: split, StepStartedAt: t0.Add(-startedAgo), DeploymentID: "dep-009"}
	if len(split) == 2 {
		st.Candidate = split[1].VersionID
		st.RolloutID = RolloutID(st.Stable, st.Candidate, "")
	}
	return st
}

func TestPlanTransitions(t *testing.T) {
	t.Parallel()
	m := time.Minute
	abID := RolloutID(vA, vB, "")
	cases := []struct {
		name   string
		cfg    Config
		cur    Status
		kind   Kind
		path   []string
		phase  Phase
		reason Reason
		step   int
		split  Split
		detail string // the expected reason text, when checked
		warn   string // a warning that must be given, when checked
	}{
		{
			name: "T1+T3: a canary starts and stops before the unapproved gate",
			cfg:  canary3(vB), cur: stableOn(vA), kind: KindStart,
			path:  []string{"step 1: 5 %, hold 2m, checked"},
			phase: PhasePaused, reason: ReasonGate, step: 1, split: TwoWay(vA, vB, 5),
			detail: "awaiting approval to enter step 2 (25 %): set approved_through_step = 2",
			warn:   "Awaiting approval to enter step 2 (25 %): set approved_through_step = 2.",
		},
		{
			name: "T1+T2: approved, the canary walks every step to the promotion",
			cfg:  with(canary3(vB), func(c *Config) { c.ApprovedThroughStep = 2 }), cur: stableOn(vA), kind: KindStart,
			path:  []string{"step 1: 5 %, hold 2m, checked", "step 2: 25 %, gate approved, hold 5m, checked", "step 3: 50 %, hold 5m, checked", "step 4: 100 %, promote"},
			phase: PhasePromoted, step: 4, split: Only(vB), detail: "bbbbbbbb promoted to 100 %",
			warn: "approved_through_step = 2 already approves the manual gate of step 2 for this new rollout of " + vB,
		},
		{
			name: "T1: a gate on the first step waits before any traffic moves",
			cfg:  withAnalysis(canary(vB, Step{Percent: 10, Hold: m, Gate: GateManual})), cur: stableOn(vA), kind: KindStart,
			phase: PhasePaused, reason: ReasonGate, step: 0, split: Only(vA),
			detail: "awaiting approval to enter step 1 (10 %): set approved_through_step = 1",
		},
		{
			name: "T1: immediate is one write to 100 %, never analysed",
			cfg:  with(withAnalysis(Config{Target: vB, Strategy: StrategyImmediate}), func(c *Config) {}), cur: stableOn(vA), kind: KindStart,
			path:  []string{"step 1: 100 %, promote"},
			phase: PhasePromoted, step: 1, split: Only(vB),
		},
		{
			name: "T1: rolling batches",
			cfg:  Config{Target: vB, Strategy: StrategyRolling, Rolling: &Rolling{BatchPercent: 40, Hold: 3 * m}}, cur: stableOn(vA), kind: KindStart,
			path:  []string{"step 1: 40 %, hold 3m", "step 2: 80 %, hold 3m", "step 3: 100 %, promote"},
			phase: PhasePromoted, step: 3, split: Only(vB),
		},
		{
			name: "T1: blue/green previews at 0 % and waits for the switch",
			cfg:  Config{Target: vB, Strategy: StrategyBlueGreen, Analysis: &Analysis{Probe: &Probe{Path: "/health"}}}, cur: stableOn(vA), kind: KindStart,
			path:  []string{"step 0: preview at 0 % (version-override header only), checked"},
			phase: PhasePaused, reason: ReasonGate, step: 0, split: TwoWay(vA, vB, 0),
			detail: "awaiting approval to switch all traffic to " + vB + ": set approved_through_step = 1",
		},
		{
			name: "T1: blue/green with auto_promote_after previews, then switches",
			cfg: Config{Target: vB, Strategy: StrategyBlueGreen, BlueGreen: &BlueGreen{AutoPromote: true, AutoPromoteAfter: 10 * m},
				Analysis: &Analysis{ErrorRate: &Metric{Max: 0.01}}},
			cur: stableOn(vA), kind: KindStart,
			path:  []string{"step 0: preview at 0 % (version-override header only), hold 10m", "step 1: 100 %, promote"},
			phase: PhasePromoted, step: 1, split: Only(vB),
		},
		{
			name: "T4: blue/green switch approved from the preview",
			cfg:  Config{Target: vB, Strategy: StrategyBlueGreen, ApprovedThroughStep: 1},
			cur:  paused(ReasonGate, 0, TwoWay(vA, vB, 0), time.Hour), kind: KindResume,
			path:  []string{"step 1: 100 %, promote, gate approved"},
			phase: PhasePromoted, step: 1, split: Only(vB),
		},
		{
			name: "T3: still waiting at the gate is no change",
			cfg:  canary3(vB), cur: paused(ReasonGate, 1, TwoWay(vA, vB, 5), time.Hour), kind: KindNoChange,
			phase: PhasePaused, reason: ReasonGate, step: 1, split: TwoWay(vA, vB, 5),
			warn: "Awaiting approval to enter step 2 (25 %): set approved_through_step = 2.",
		},
		{
			name: "T4: the approval resumes with a check of the held split, then the next steps",
			cfg:  with(canary3(vB), func(c *Config) { c.ApprovedThroughStep = 2 }),
			cur:  paused(ReasonGate, 1, TwoWay(vA, vB, 5), time.Hour), kind: KindResume,
			path:  []string{"step 1: stay at 5 %, checked", "step 2: 25 %, gate approved, hold 5m, checked", "step 3: 50 %, hold 5m, checked", "step 4: 100 %, promote"},
			phase: PhasePromoted, step: 4, split: Only(vB),
		},
		{
			name: "T7: the budget stops before a step whose hold does not fit",
			cfg:  with(canary3(vB), func(c *Config) { c.ApprovedThroughStep = 2; c.MaxApplyDuration = 6 * m }), cur: stableOn(vA), kind: KindStart,
			path:  []string{"step 1: 5 %, hold 2m, checked"},
			phase: PhasePaused, reason: ReasonBudget, step: 1, split: TwoWay(vA, vB, 5),
			detail: "max_apply_duration (6m) ends this apply before step 2 (25 %, hold 5m); the next apply continues with it",
		},
		{
			name: "T7: a hold longer than the whole budget starts, and continues on the next apply",
			cfg:  with(canary(vB, Step{Percent: 5, Hold: 2 * time.Hour}), func(c *Config) { c.MaxApplyDuration = 30 * m }), cur: stableOn(vA), kind: KindStart,
			path:  []string{"step 1: 5 %, hold 30m (1h30m left for the next apply)"},
			phase: PhasePaused, reason: ReasonBudget, step: 1, split: TwoWay(vA, vB, 5),
			detail: "max_apply_duration (30m) ends this apply during the hold of step 1 (1h30m of it left); the next apply continues it",
		},
		{
			name: "T10: the next apply continues a long hold, counted from when its split was set",
			cfg:  with(canary(vB, Step{Percent: 5, Hold: 2 * time.Hour}), func(c *Config) { c.MaxApplyDuration = 30 * m }),
			cur:  paused(ReasonBudget, 1, TwoWay(vA, vB, 5), 40*m), kind: KindResume,
			path:  []string{"step 1: stay at 5 %, hold 30m (50m left for the next apply)"},
			phase: PhasePaused, reason: ReasonBudget, step: 1, split: TwoWay(vA, vB, 5),
		},
		{
			name: "T10: what is left of the hold plus the next steps, within the budget",
			cfg:  with(canary3(vB), func(c *Config) { c.ApprovedThroughStep = 2; c.MaxApplyDuration = 9 * m }),
			cur:  paused(ReasonInterrupted, 2, TwoWay(vA, vB, 25), 2*m), kind: KindResume,
			path:  []string{"step 2: stay at 25 %, hold 3m, checked", "step 3: 50 %, hold 5m, checked", "step 4: 100 %, promote"},
			phase: PhasePromoted, step: 4, split: Only(vB),
		},
		{
			name: "T6→T10: an inconclusive pause checks again before moving on",
			cfg:  with(canary3(vB), func(c *Config) { c.ApprovedThroughStep = 2 }),
			cur:  paused(ReasonInconclusive, 2, TwoWay(vA, vB, 25), time.Hour), kind: KindResume,
			path:  []string{"step 2: stay at 25 %, checked", "step 3: 50 %, hold 5m, checked", "step 4: 100 %, promote"},
			phase: PhasePromoted, step: 4, split: Only(vB),
		},
		{
			name: "an inconclusive pause in front of an unapproved gate stays as it is",
			cfg:  canary3(vB), cur: paused(ReasonInconclusive, 1, TwoWay(vA, vB, 5), time.Hour), kind: KindNoChange,
			phase: PhasePaused, reason: ReasonInconclusive, step: 1, split: TwoWay(vA, vB, 5),
			warn: "Awaiting approval to enter step 2 (25 %)",
		},
		{
			name: "an interrupted pause in front of an unapproved gate only records the gate",
			cfg:  canary3(vB), cur: paused(ReasonInterrupted, 1, TwoWay(vA, vB, 5), time.Hour), kind: KindResume,
			phase: PhasePaused, reason: ReasonGate, step: 1, split: TwoWay(vA, vB, 5),
		},
		{
			name: "T11: version_id back to the stable version mid-rollout is one write",
			cfg:  with(canary3(vA), func(c *Config) {}), cur: paused(ReasonGate, 2, TwoWay(vA, vB, 25), m), kind: KindRollback,
			path:  []string{"step 0: all traffic back to the stable version"},
			phase: PhaseStable, step: 0, split: Only(vA), detail: "rolled back to aaaaaaaa (fast rollback: the target is the stable version)",
		},
		{
			name: "T11: abandoning an aborted rollout records the stable version",
			cfg:  canary3(vA), cur: Status{Phase: PhaseAborted, Step: 2, Stable: vA, Candidate: vB, Traffic: Only(vA), RolloutID: abID, DeploymentID: "d"}, kind: KindRollback,
			path:  []string{"step 0: all traffic back to the stable version"},
			phase: PhaseStable, split: Only(vA), detail: "rolled back to aaaaaaaa (the aborted rollout is abandoned)",
		},
		{
			name: "T12: a new target replaces the candidate and starts at step 1",
			cfg:  canary3(vC), cur: paused(ReasonGate, 2, TwoWay(vA, vB, 25), m), kind: KindSupersede,
			path:  []string{"step 1: 5 %, hold 2m, checked"},
			phase: PhasePaused, reason: ReasonGate, step: 1, split: TwoWay(vA, vC, 5),
			warn: vC + " replaces the in-flight candidate " + vB + ", which leaves the deployment (a deployment holds at most two versions)",
		},
		{
			name: "T12: a version not known until apply supersedes too",
			cfg:  with(canary3(""), func(c *Config) {}), cur: paused(ReasonBudget, 1, TwoWay(vA, vB, 5), m), kind: KindSupersede,
			path:  []string{"step 1: 5 %, hold 2m, checked"},
			phase: PhasePaused, reason: ReasonGate, step: 1, split: TwoWay(vA, "", 5),
		},
		{
			name: "T14: promoted, then version_id back to the previous version: no steps",
			cfg:  canary3(vA), cur: Status{Phase: PhasePromoted, Step: 4, Stable: vB, Previous: vA, Traffic: Only(vB), DeploymentID: "d"}, kind: KindRollback,
			path:  []string{"step 0: all traffic back to the stable version"},
			phase: PhaseStable, split: Only(vA), detail: "rolled back to aaaaaaaa (fast rollback to the previous stable version)",
		},
		{
			name: "T15: aborted and not retried is no change, with what to do",
			cfg:  canary3(vB), cur: Status{Phase: PhaseAborted, Step: 2, Stable: vA, Candidate: vB, Traffic: Only(vA), RolloutID: abID, LastAnalysis: "error_rate 0.2 over 412 requests exceeds max 0.01"},
			kind: KindNoChange, phase: PhaseAborted, step: 2, split: Only(vA),
			warn: "The rollout of " + vB + " was aborted at step 2 (error_rate 0.2 over 412 requests exceeds max 0.01); all traffic is on " + vA + ". " +
				"Change retry_token to retry it from step 1, set version_id to " + vA + " to stay on it, or set a new version_id.",
		},
		{
			name: "T15: a new retry_token retries from step 1",
			cfg:  with(canary3(vB), func(c *Config) { c.RetryToken = "2" }), cur: Status{Phase: PhaseAborted, Step: 2, Stable: vA, Candidate: vB, Traffic: Only(vA), RolloutID: abID},
			kind: KindRetry, path: []string{"step 1: 5 %, hold 2m, checked"},
			phase: PhasePaused, reason: ReasonGate, step: 1, split: TwoWay(vA, vB, 5),
		},
		{
			name: "aborted, then a new version: a new rollout",
			cfg:  canary3(vC), cur: Status{Phase: PhaseAborted, Step: 2, Stable: vA, Candidate: vB, Traffic: Only(vA), RolloutID: abID},
			kind: KindStart, path: []string{"step 1: 5 %, hold 2m, checked"},
			phase: PhasePaused, reason: ReasonGate, step: 1, split: TwoWay(vA, vC, 5),
		},
		{
			name: "T16: an out-of-band rollback is re-asserted from step 1",
			cfg:  canary3(vB), cur: Status{Phase: PhasePaused, Reason: ReasonExternalChange, Stable: vA, Candidate: vB, Traffic: Only(vA), Detail: "changed outside"},
			kind: KindStart, path: []string{"step 1: 5 %, hold 2m, checked"},
			phase: PhasePaused, reason: ReasonGate, step: 1, split: TwoWay(vA, vB, 5), warn: "Changed outside.",
		},
		{
			name: "T16: an out-of-band split of the target continues above it",
			cfg:  with(canary3(vC), func(c *Config) { c.ApprovedThroughStep = 2 }),
			cur:  Status{Phase: PhasePaused, Reason: ReasonExternalChange, Step: 7, Stable: vA, Candidate: vC, Traffic: Split{{vA, 60}, {vC, 40}}, StepStartedAt: t0},
			kind: KindResume, path: []string{"step 2: stay at 40 %, checked", "step 3: 50 %, hold 5m, checked", "step 4: 100 %, promote"},
			phase: PhasePromoted, step: 4, split: Only(vC),
		},
		{
			name: "T16: an out-of-band deploy of the target is adopted",
			cfg:  canary3(vB), cur: Status{Phase: PhasePaused, Reason: ReasonExternalChange, Stable: vB, Traffic: Only(vB), DeploymentID: "x"},
			kind: KindAdopt, phase: PhaseStable, split: Only(vB),
		},
		{
			name: "steps changed under a paused rollout: continue from the live share",
			cfg:  withAnalysis(canary(vB, Step{Percent: 10, Hold: m}, Step{Percent: 50, Hold: m}, Step{Percent: 75, Hold: m})),
			cur:  paused(ReasonBudget, 2, TwoWay(vA, vB, 25), 0), kind: KindResume,
			path:  []string{"step 1: stay at 25 %, checked", "step 2: 50 %, hold 1m, checked", "step 3: 75 %, hold 1m, checked", "step 4: 100 %, promote"},
			phase: PhasePromoted, step: 4, split: Only(vB),
		},
		{
			name: "strategy changed to immediate mid-rollout: straight to 100 %",
			cfg:  Config{Target: vB, Strategy: StrategyImmediate}, cur: paused(ReasonGate, 2, TwoWay(vA, vB, 25), m), kind: KindResume,
			path: []string{"step 1: 100 %, promote"}, phase: PhasePromoted, step: 1, split: Only(vB),
		},
		{
			name: "on_failure = pause: the failed rollout waits for a decision",
			cfg:  with(canary3(vB), func(c *Config) { c.OnFailure = OnFailurePause }), cur: paused(ReasonFailed, 2, TwoWay(vA, vB, 25), m),
			kind: KindNoChange, phase: PhasePaused, reason: ReasonFailed, step: 2, split: TwoWay(vA, vB, 25),
			warn: "and on_failure = \"pause\" left traffic at 75 % " + vA + ", 25 % " + vB + ". Change retry_token to retry from step 1",
		},
		{
			name: "on_failure = pause, retried",
			cfg:  with(canary3(vB), func(c *Config) { c.OnFailure = OnFailurePause; c.RetryToken = "again" }), cur: paused(ReasonFailed, 2, TwoWay(vA, vB, 25), m),
			kind: KindRetry, path: []string{"step 1: 5 %, hold 2m, checked"}, phase: PhasePaused, reason: ReasonGate, step: 1, split: TwoWay(vA, vB, 5),
		},
		{
			name: "T5: a rollback that could not be written is finished by the next apply",
			cfg:  canary3(vB), cur: paused(ReasonFailed, 2, TwoWay(vA, vB, 25), m), kind: KindAbort,
			path:  []string{"step 2: all traffic back to the stable version (abort)"},
			phase: PhaseAborted, step: 2, split: Only(vA),
		},
		{
			name: "settled on the target is no change",
			cfg:  canary3(vA), cur: stableOn(vA), kind: KindNoChange, phase: PhaseStable, split: Only(vA),
		},
		{
			name: "a version not known until apply starts a rollout",
			cfg:  canary3(""), cur: stableOn(vA), kind: KindStart,
			path:  []string{"step 1: 5 %, hold 2m, checked"},
			phase: PhasePaused, reason: ReasonGate, step: 1, split: TwoWay(vA, "", 5),
		},
	}
	for _, tc := range cases {
		p := PlanApply(tc.cfg, tc.cur, t0)
		var path []string
		for _, s := range p.Path {
			path = append(path, s.String())
		}
		e := p.Expect
		switch {
		case p.Kind != tc.kind:
			t.Errorf("%s: kind %s, want %s (path %q)", tc.name, p.Kind, tc.kind, path)
		case !reflect.DeepEqual(path, tc.path):
			t.Errorf("%s: path\n %q\nwant\n %q", tc.name, path, tc.path)
		case e.Phase != tc.phase || e.Reason != tc.reason || e.Step != tc.step || !e.Traffic.Equal(tc.split):
			t.Errorf("%s: expect %s(%s) step %d %s, want %s(%s) step %d %s", tc.name, e.Phase, e.Reason, e.Step, e.Traffic, tc.phase, tc.reason, tc.step, tc.split)
		case tc.detail != "" && e.Detail != tc.detail:
			t.Errorf("%s: detail %q, want %q", tc.name, e.Detail, tc.detail)
		case tc.warn != "" && !strings.Contains(strings.Join(p.Warnings, "\n"), tc.warn):
			t.Errorf("%s: warnings %q, want one containing %q", tc.name, p.Warnings, tc.warn)
		}
		if p.Kind == KindNoChange && !reflect.DeepEqual(p.Expect, tc.cur) {
			t.Errorf("%s: a no-change plan must keep the status: %+v", tc.name, p.Expect)
		}
	}
}

// A pause before the first step writes nothing; the plan after it must be empty, or every
// plan would show the same change again.
func TestPlanAfterAPauseIsStable(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]Config{
		"gate on the first step": withAnalysis(canary(vB, Step{Percent: 10, Hold: time.Minute, Gate: GateManual})),
		"gate on a later step":   canary3(vB),
		"blue/green":             {Target: vB, Strategy: StrategyBlueGreen},
	} {
		e := newEdge(Only(vA), "")
		st := e.observe(t, Status{})
		tr := drive(t, PlanApply(cfg, st, e.now), e, script{})
		st = e.observe(t, tr.final.Status)
		if !reflect.DeepEqual(st, tr.final.Status) {
			t.Errorf("%s: Read changed the saved status:\n%+v\n%+v", name, st, tr.final.Status)
		}
		e.now = e.now.Add(time.Hour)
		if p := PlanApply(cfg, st, e.now); p.Kind != KindNoChange {
			t.Errorf("%s: the plan after the pause is %s %v", name, p.Kind, p.Path)
		}
	}
}

func TestPlanSplitsKeepTheStableVersionFirst(t *testing.T) {
	t.Parallel()
	p := PlanApply(with(canary3(vB), func(c *Config) { c.ApprovedThroughStep = 2 }), stableOn(vA), t0)
	var got []string
	for _, s := range p.Path {
		got = append(got, p.Split(s).String())
	}
	want := []string{"95 % " + vA + ", 5 % " + vB, "75 % " + vA + ", 25 % " + vB, "50 % " + vA + ", 50 % " + vB, "100 % " + vB}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("splits %q, want %q", got, want)
	}
	if p.Duration != 12*time.Minute || p.Steps != 4 {
		t.Fatalf("duration %s, steps %d", p.Duration, p.Steps)
	}
	if at := p.Path[2].At; at != 7*time.Minute {
		t.Fatalf("step 3 starts at %s, want 7m", at)
	}
}
