package rollout

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// The property tests run seeded random histories: configurations, config changes, applies
// with failing, inconclusive and passing checks, Ctrl-C, killed applies, lost and failed writes
// and out-of-band deployments, and check after every plan, every write and every apply what
// must always hold. A failure prints its seed; rerun one with -run 'TestProperty.*/seed=N'.

const vD = "dddddddd-0000-4000-8000-00000000000d"

var versionPool = []string{vA, vB, vC, vD}

func propertySeeds(t *testing.T) int {
	if testing.Short() {
		return 100
	}
	return 600
}

func genConfig(rng *rand.Rand) Config {
	m := time.Minute
	hold := func() time.Duration { return time.Duration(2+rng.IntN(40)) * 30 * time.Second }
	c := Config{Target: versionPool[rng.IntN(len(versionPool))], RetryToken: []string{"", "1", "2"}[rng.IntN(3)]}
	c.Strategy = Strategies[rng.IntN(len(Strategies))]
	switch c.Strategy {
	case StrategyCanary:
		p := 0
		for n := 1 + rng.IntN(5); n > 0 && p < 99; n-- {
			p += 1 + rng.IntN(min(40, 99-p))
			s := Step{Percent: p, Hold: hold()}
			if rng.IntN(3) == 0 {
				s.Gate = GateManual
			}
			c.Steps = append(c.Steps, s)
		}
	case StrategyRolling:
		c.Rolling = &Rolling{BatchPercent: 10 + rng.IntN(60), Hold: hold()}
	case StrategyBlueGreen:
		if rng.IntN(2) == 0 {
			c.BlueGreen = &BlueGreen{AutoPromote: true, AutoPromoteAfter: hold()}
		}
	}
	if rng.IntN(10) < 7 {
		a := &Analysis{Interval: m, FailureLimit: 1 + rng.IntN(3), Inconclusive: []InconclusivePolicy{InconclusivePause, InconclusiveFail, InconclusivePass}[rng.IntN(3)]}
		if rng.IntN(2) == 0 {
			a.ErrorRate = &Metric{Max: 0.01, MinRequests: 100}
		}
		if rng.IntN(2) == 0 {
			a.P99LatencyMs = &Metric{Max: 500, MinRequests: 100}
		}
		if rng.IntN(2) == 0 || (a.ErrorRate == nil && a.P99LatencyMs == nil) {
			a.Probe = &Probe{Path: "/health"}
		}
		c.Analysis = a
	}
	if n := GateableSteps(c); n > 0 {
		c.ApprovedThroughStep = rng.IntN(n + 1)
	}
	if rng.IntN(2) == 0 {
		c.MaxApplyDuration = time.Duration(5+rng.IntN(60)) * m
	}
	if rng.IntN(4) == 0 {
		c.OnFailure = OnFailurePause
	}
	return c
}

// mutate is what a user changes between applies.
func mutate(rng *rand.Rand, c Config) Config {
	switch rng.IntN(8) {
	case 0:
		c.Target = versionPool[rng.IntN(len(versionPool))]
	case 1:
		c.RetryToken += "x"
	case 2:
		c.ApprovedThroughStep = GateableSteps(c)
	case 3:
		n := genConfig(rng)
		n.Target = c.Target
		return n
	}
	return c
}

func randomSplit(rng *rand.Rand) Split {
	a := versionPool[rng.IntN(len(versionPool))]
	if rng.IntN(2) == 0 {
		return Only(a)
	}
	b := versionPool[rng.IntN(len(versionPool))]
	for b == a {
		b = versionPool[rng.IntN(len(versionPool))]
	}
	return TwoWay(a, b, float64(1+rng.IntN(99)))
}

// chaos says what one run suffered.
type chaos struct {
	failed, interfered, killed, external bool
}

// chaosDrive performs a run like drive, with random interference, and checks the invariants
// of every decision. It returns the final decision (zero when the apply was killed).
func chaosDrive(t *testing.T, rng *rand.Rand, p Plan, e *edge, calm bool) (Decision, chaos) {
	t.Helper()
	var c chaos
	began := e.now
	run := Begin(p, e.now)
	in := Input{Now: e.now}
	writable := map[int]bool{}
	order := []int{} // path indexes of the writing entries, in order
	for _, s := range p.Path {
		if s.Writes() {
			writable[s.Step] = true
			order = append(order, s.Step)
		}
	}
	next := 0 // the next writing entry the run may write
	lastStep := -1
	seen := e.live // the last deployment the run was shown
	for tick := 0; tick < 20000; tick++ {
		var d Decision
		run, d = run.Tick(in)
		if d.Kind == Finish {
			if !c.interfered && !c.failed && !d.Outcome.AsPlanned {
				t.Fatalf("a calm run did not end as planned: %+v", d.Outcome)
			}
			if d.Outcome.AsPlanned && !sameVisible(d.Status, p.Expect) {
				t.Fatalf("ended as planned with %+v, plan expected %+v", d.Status, p.Expect)
			}
			if !c.failed && !c.interfered && e.now.Sub(began) > p.Duration {
				t.Fatalf("the apply held %s, the plan said %s", e.now.Sub(began), p.Duration)
			}
			if !d.Status.Traffic.Equal(seen.Versions) || d.Status.DeploymentID != seen.ID {
				t.Fatalf("state says %s (%s), the run last saw %s (%s)", d.Status.Traffic, d.Status.DeploymentID, seen.Versions, seen.ID)
			}
			if !c.external && seen.ID != e.live.ID {
				t.Fatalf("nobody else deployed, yet the state says %s and the platform has %s", seen.ID, e.live.ID)
			}
			if d.Status.Phase == PhaseAborted && !seen.Versions.Equal(Only(d.Status.Stable)) {
				t.Fatalf("aborted, but the run last saw %s", seen.Versions)
			}
			if (d.Outcome.Severity == SeverityError) == d.Outcome.AsPlanned {
				t.Fatalf("an outcome is an error exactly when it leaves the plan: %+v", d.Outcome)
			}
			return d, c
		}
		in = Input{Now: e.now}
		switch d.Kind {
		case ReadLive:
			l := e.live
			in.Live = &l
		case Write:
			checkWrite(t, p, d)
			m, _, _ := ParseMarker(d.Message)
			if m.Phase != PhaseAborted || p.Kind == KindAbort {
				switch {
				case m.Step == lastStep: // the same entry again (a write that did not land)
				case next < len(order) && order[next] == m.Step:
					next++
				default:
					t.Fatalf("write of step %d does not follow the path %v (after step %d)", m.Step, order, lastStep)
				}
				lastStep = m.Step
			}
			switch r := rng.IntN(40); {
			case !calm && r == 0: // the write fails
				l := e.live
				in.Live, in.Err = &l, errLostWrite
				c.interfered = true
			case !calm && r == 1: // it lands, the response is lost
				e.deploy(d.Split, d.Message)
				l := e.live
				in.Live, in.Err = &l, errLostWrite
			default:
				dep := e.deploy(d.Split, d.Message)
				in.Live = &dep
			}
		case Wait:
			if !d.Until.After(e.now) {
				t.Fatalf("waits until %s, not after %s", d.Until, e.now)
			}
			e.now = d.Until
			in.Now = e.now
			if !calm && rng.IntN(30) == 0 {
				in.Cancelled, c.interfered = true, true
			}
		case Analyse:
			if calm {
				in.Evidence = healthy
				break
			}
			switch rng.IntN(10) {
			case 0:
				in.Evidence, c.failed = failing, true
			case 1:
				in.Evidence, c.failed = slow, true
			case 2, 3:
				in.Evidence, c.failed = quiet, true // may pause, or fail by policy
			case 4:
				in.Err, c.failed = errors.New("graphql down"), true
			default:
				in.Evidence = healthy
			}
			if rng.IntN(2) == 0 {
				l := e.live
				in.Live = &l
			}
		}
		if !calm && rng.IntN(60) == 0 {
			deployed := e.deploy(randomSplit(rng), "wrangler versions deploy")
			c.interfered, c.external = true, true
			if in.Live != nil && d.Kind != Write {
				in.Live = &deployed
			}
		}
		if in.Live != nil {
			seen = *in.Live
		}
		if !calm && rng.IntN(80) == 0 {
			c.killed = true
			return Decision{}, c
		}
	}
	t.Fatal("run did not finish")
	return Decision{}, c
}

// checkWrite asserts what every write must satisfy: a valid split of at most two versions,
// stable first, the candidate second, a marker within the message limit; an abort goes to
// 100 % stable.
func checkWrite(t *testing.T, p Plan, d Decision) {
	t.Helper()
	if err := d.Split.Validate(); err != nil {
		t.Fatalf("write %s: %v", d.Split, err)
	}
	if len(d.Message) > MaxMessageBytes {
		t.Fatalf("message of %d bytes", len(d.Message))
	}
	m, ok, err := ParseMarker(d.Message)
	if !ok || err != nil {
		t.Fatalf("message %q: %v", d.Message, err)
	}
	switch len(d.Split) {
	case 2:
		if d.Split[0].VersionID != p.Stable || d.Split[1].VersionID != p.Candidate {
			t.Fatalf("split %s is not [stable %s, candidate %s]", d.Split, p.Stable, p.Candidate)
		}
	case 1:
		if v := d.Split[0].VersionID; v != p.Stable && v != p.Candidate {
			t.Fatalf("split %s is neither the stable nor the candidate version", d.Split)
		}
	}
	if m.Phase == PhaseAborted && !d.Split.Equal(Only(p.Stable)) {
		t.Fatalf("an abort writes %s, not 100 %% %s", d.Split, p.Stable)
	}
}

// checkPlan asserts what every plan must satisfy.
func checkPlan(t *testing.T, cfg Config, cur Status, now time.Time, p Plan) {
	t.Helper()
	if again := PlanApply(cfg, cur, now); !reflect.DeepEqual(again, p) {
		t.Fatalf("planning is not deterministic:\n%+v\n%+v", p, again)
	}
	if !p.From.Equal(cur.Traffic) {
		t.Fatalf("the plan starts from %s, the platform has %s", p.From, cur.Traffic)
	}
	if b := cfg.MaxApplyDuration; b > 0 && p.Duration > b {
		t.Fatalf("the path holds %s, beyond max_apply_duration %s: %v", p.Duration, b, p.Path)
	}
	if p.Kind == KindNoChange && (len(p.Path) > 0 || !reflect.DeepEqual(p.Expect, cur)) {
		t.Fatalf("a no-change plan with a path or a new status: %+v", p)
	}
	stages := Stages(cfg)
	index := map[int]int{}
	for i, s := range stages {
		index[s.Step] = i
	}
	last := -1
	for i, s := range p.Path {
		if s.Gate && cfg.ApprovedThroughStep < s.Step {
			t.Fatalf("the path enters step %d, whose gate is not approved", s.Step)
		}
		if s.Hold < 0 || s.HoldLeft < 0 || s.Hold+s.HoldLeft > s.FullHold && s.Kind != StepHold {
			t.Fatalf("entry %v holds %s + %s of %s", s, s.Hold, s.HoldLeft, s.FullHold)
		}
		if s.HoldLeft > 0 && i != len(p.Path)-1 {
			t.Fatalf("a hold cut by the budget must end the path: %v", p.Path)
		}
		if s.HoldLeft > 0 && s.Kind != StepHold && s.FullHold <= cfg.MaxApplyDuration {
			t.Fatalf("entry %v raises traffic with a cut hold, though its hold fits a later apply", s)
		}
		if s.Kind == StepShift || s.Kind == StepPreview || s.Kind == StepPromote {
			at, ok := index[s.Step]
			if !ok || float64(stages[at].Percent) != s.Percent {
				t.Fatalf("entry %v is not a configured stage %v", s, stages)
			}
			if last >= 0 && at != last+1 {
				t.Fatalf("the path skips from stage %d to %d: %v", last, at, p.Path)
			}
			last = at
		}
		if s.Writes() && p.Candidate != "" {
			if err := p.Split(s).Validate(); err != nil {
				t.Fatalf("entry %v: %v", s, err)
			}
		}
	}
	if e := p.Expect; e.Phase == PhasePaused && e.Reason == ReasonGate && last >= 0 && last+1 < len(stages) {
		if n := stages[last+1]; !n.Gate || cfg.ApprovedThroughStep >= n.Step {
			t.Fatalf("the path stops at a gate, but step %d is %+v", n.Step, n)
		}
	}
	if e := p.Expect; e.Phase == PhasePromoted && (!e.Traffic.Equal(Only(cfg.Target)) || e.Stable != cfg.Target) {
		t.Fatalf("promoted to %s with stable %s, target %s", e.Traffic, e.Stable, cfg.Target)
	}
	if e := p.Expect; e.Phase == PhaseAborted && !e.Traffic.Equal(Only(e.Stable)) {
		t.Fatalf("an abort ends on %s, not 100 %% stable", e.Traffic)
	}
	if err := p.Expect.Traffic.Validate(); err != nil {
		t.Fatalf("expected traffic %s: %v", p.Expect.Traffic, err)
	}
}

func TestPropertyHistories(t *testing.T) {
	t.Parallel()
	seeds := propertySeeds(t)
	stats := map[string]int{}
	for seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 0x5e1f))
			e := newEdge(Only(vA), "wrangler deploy")
			cfg := genConfig(rng)
			st := e.observe(t, Status{})
			for apply := 0; apply < 8; apply++ {
				if apply > 0 && rng.IntN(2) == 0 {
					cfg = mutate(rng, cfg)
				}
				if problems := Validate(ValidationInput{Config: cfg}); len(problems) > 0 {
					t.Fatalf("the generator made an invalid configuration %+v: %v", cfg, problems)
				}
				if rng.IntN(10) == 0 {
					e.deploy(randomSplit(rng), "wrangler versions deploy")
				}
				e.now = e.now.Add(time.Duration(rng.IntN(120)) * time.Minute)
				st = e.observe(t, st)
				if again := e.observe(t, st); !reflect.DeepEqual(again, st) {
					t.Fatalf("Read of the same deployment changed the status:\n%+v\n%+v", st, again)
				}
				p := PlanApply(cfg, st, e.now)
				checkPlan(t, cfg, st, e.now, p)
				stats[string(p.Kind)]++
				before := st
				d, c := chaosDrive(t, rng, p, e, false)
				if c.killed {
					stats["killed"]++
					st = e.observe(t, before) // Read with the state the killed apply never saved
					if !st.Traffic.Equal(e.live.Versions) {
						t.Fatalf("Read after a kill says %s, the platform has %s", st.Traffic, e.live.Versions)
					}
					continue
				}
				stats[string(d.Status.Phase)+"/"+string(d.Status.Reason)]++
				st = e.observe(t, d.Status)
				if !c.external && !reflect.DeepEqual(st, d.Status) {
					t.Fatalf("Read right after the apply changed the status:\n%+v\n%+v", d.Status, st)
				}
				if !st.Traffic.Equal(e.live.Versions) || st.DeploymentID != e.live.ID {
					t.Fatalf("Read says %s (%s), the platform has %s (%s)", st.Traffic, st.DeploymentID, e.live.Versions, e.live.ID)
				}
			}
		})
	}
	// The histories must reach every kind of plan and every resting state, or they prove little.
	for _, want := range []string{"start", "resume", "supersede", "retry", "rollback", "no_change", "abort", "adopt", "killed",
		"promoted/", "aborted/", "stable/", "paused/gate", "paused/budget", "paused/interrupted", "paused/inconclusive", "paused/failed", "paused/external_change"} {
		if stats[want] == 0 {
			t.Errorf("no history reached %q (%v)", want, stats)
		}
	}
}

// With every gate approved, every check passing and nobody interfering, repeated applies
// always promote the target, each apply moves the rollout on, and the plan after the
// promotion is empty.
func TestPropertyCalmApplyReachesTheTarget(t *testing.T) {
	t.Parallel()
	for seed := range propertySeeds(t) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 0xca1a))
			cfg := genConfig(rng)
			cfg.Target, cfg.ApprovedThroughStep = vB, GateableSteps(cfg)
			e := newEdge(Only(vA), "")
			st := e.observe(t, Status{})
			var total time.Duration
			for _, s := range Stages(cfg) {
				total += s.Hold
			}
			limit := len(Stages(cfg)) + 2
			if b := cfg.MaxApplyDuration; b > 0 {
				limit += int(total / b)
			}
			for apply := 1; ; apply++ {
				if apply > limit {
					t.Fatalf("not promoted after %d applies: %+v", limit, st)
				}
				p := PlanApply(cfg, st, e.now)
				checkPlan(t, cfg, st, e.now, p)
				if p.Kind == KindNoChange {
					if st.Phase != PhasePromoted || !e.live.Versions.Equal(Only(vB)) {
						t.Fatalf("no change, but not promoted: %+v", st)
					}
					return
				}
				d, _ := chaosDrive(t, rng, p, e, true)
				if d.Status.Phase != PhasePromoted && d.Status.Reason != ReasonBudget {
					t.Fatalf("a calm apply ended %s(%s): %s", d.Status.Phase, d.Status.Reason, d.Outcome.Detail)
				}
				if sameVisible(d.Status, st) {
					t.Fatalf("apply %d made no progress: %+v", apply, st)
				}
				st = e.observe(t, d.Status)
			}
		})
	}
}

// A version_id that is unknown at plan time (the service uploads it in the same apply) plans
// the same path as the new version it turns out to be, so the apply, which knows it, walks
// what the plan showed.
func TestPropertyUnknownTargetPlansTheSamePath(t *testing.T) {
	t.Parallel()
	const fresh = "eeeeeeee-0000-4000-8000-00000000000e"
	for seed := range propertySeeds(t) {
		rng := rand.New(rand.NewPCG(uint64(seed), 0xface))
		cfg := genConfig(rng)
		e := newEdge(randomSplit(rng), "")
		st := e.observe(t, Status{})
		if rng.IntN(2) == 0 {
			cfg.Target = vB
			d, _ := chaosDrive(t, rng, PlanApply(cfg, st, e.now), e, false)
			if d.Kind == Finish {
				st = e.observe(t, d.Status)
			} else {
				st = e.observe(t, st)
			}
		}
		unknown, known := cfg, cfg
		unknown.Target, known.Target = "", fresh
		pu, pk := PlanApply(unknown, st, e.now), PlanApply(known, st, e.now)
		if pu.Kind != pk.Kind || !reflect.DeepEqual(pu.Path, pk.Path) || pu.Expect.Phase != pk.Expect.Phase || pu.Expect.Step != pk.Expect.Step {
			t.Fatalf("seed %d: unknown target plans %s %v, known %s %v", seed, pu.Kind, pu.Path, pk.Kind, pk.Path)
		}
		for i := range pu.Expect.Traffic {
			if pu.Expect.Traffic[i].Percent != pk.Expect.Traffic[i].Percent {
				t.Fatalf("seed %d: traffic %s vs %s", seed, pu.Expect.Traffic, pk.Expect.Traffic)
			}
		}
	}
}
