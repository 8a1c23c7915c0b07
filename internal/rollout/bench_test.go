package rollout

import (
	"testing"
	"time"
)

// BenchmarkEvaluate is the analysis decision of one check (two metrics and a probe).
func BenchmarkEvaluate(b *testing.B) {
	a := Analysis{ErrorRate: &Metric{Max: 0.01, MinRequests: 100}, P99LatencyMs: &Metric{Max: 500, MinRequests: 100}, Probe: &Probe{Path: "/health", ExpectStatus: 200}}
	e := *evidence(412, 0.002, 180)
	e.CandidatePercent = 25
	for b.Loop() {
		if Evaluate(a, e).Result != Pass {
			b.Fatal("not a pass")
		}
	}
}

// BenchmarkPlanApply is ModifyPlan's decision for the canary, resumed at a gate.
func BenchmarkPlanApply(b *testing.B) {
	cfg := approved(vB)
	cur := paused(ReasonGate, 1, TwoWay(vA, vB, 5), time.Hour)
	for b.Loop() {
		if PlanApply(cfg, cur, t0).Kind != KindResume {
			b.Fatal("not a resume")
		}
	}
}

// BenchmarkRunCanary is every tick of a whole 3-step canary (about 40 decisions), without
// the I/O the resource does between them.
func BenchmarkRunCanary(b *testing.B) {
	cfg := approved(vB)
	start := Status{Phase: PhaseStable, Stable: vA, Traffic: Only(vA), DeploymentID: "d0"}
	p := PlanApply(cfg, start, t0)
	for b.Loop() {
		live := Deployment{ID: "d0", Versions: Only(vA), CreatedOn: t0}
		now := t0
		r := Begin(p, now)
		in := Input{Now: now}
		for {
			var d Decision
			r, d = r.Tick(in)
			in = Input{Now: now}
			switch d.Kind {
			case ReadLive:
				in.Live = &live
			case Write:
				live = Deployment{ID: live.ID + "+", Versions: d.Split, Message: d.Message, CreatedOn: now}
				in.Live = &live
			case Wait:
				now = d.Until
				in.Now = now
			case Analyse:
				in.Evidence = healthy
			}
			if d.Kind == Finish {
				break
			}
		}
	}
}
