package rollout

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

const (
	vA = "aaaaaaaa-0000-4000-8000-00000000000a"
	vB = "bbbbbbbb-0000-4000-8000-00000000000b"
	vC = "cccccccc-0000-4000-8000-00000000000c"
)

// edge is a fake Workers platform: the active deployment, the clock, and every write.
type edge struct {
	now    time.Time
	live   Deployment
	writes []Deployment
	n      int
}

func newEdge(split Split, message string) *edge {
	e := &edge{now: t0}
	e.deploy(split, message)
	e.writes = nil
	return e
}

// deploy makes split the active deployment, as the API (or someone else) would.
func (e *edge) deploy(split Split, message string) Deployment {
	e.n++
	e.live = Deployment{ID: fmt.Sprintf("dep-%03d", e.n), Versions: split.clone(), Message: message, CreatedOn: e.now}
	e.writes = append(e.writes, e.live)
	return e.live
}

// observe is what Read does: the status the resource would keep.
func (e *edge) observe(t *testing.T, prior Status) Status {
	t.Helper()
	st, err := Observe(e.live, prior)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// evidence makes analytics for a candidate with the given error rate, p99 and request count.
func evidence(requests int64, errorRate float64, p99 float64) *Evidence {
	return &Evidence{
		Candidate: Sample{Requests: requests, Errors: int64(float64(requests) * errorRate), P99Ms: p99},
		Stable:    Sample{Requests: requests * 9, Errors: 0, P99Ms: 80},
		Probes:    []ProbeResult{{Path: "/health", Status: 200}},
	}
}

var (
	healthy      = evidence(1000, 0, 100)
	failing      = evidence(1000, 0.2, 100)
	slow         = evidence(1000, 0, 900)
	quiet        = evidence(3, 0, 100)
	errLostWrite = errors.New("POST deployments: connection reset")
)

// script says how the fake resource answers a run.
type script struct {
	// evidence answers the n-th Analyse decision (healthy when nil).
	evidence func(n int, d Decision) *Evidence
	// hook runs after each decision is performed, before the next tick; it may change the
	// edge (an external change) or the input (cancel, an error).
	hook func(tick int, d Decision, e *edge, in *Input)
}

type trace struct {
	decisions []Decision
	final     Decision
	logs      []string
	events    []Event
	writes    []Deployment
}

func (tr trace) kinds() string {
	var ks []string
	for _, d := range tr.decisions {
		ks = append(ks, string(d.Kind))
	}
	return strings.Join(ks, " ")
}

// drive performs a run's decisions against the edge until it finishes, checking on every
// write the invariants of the platform and of this package.
func drive(t *testing.T, p Plan, e *edge, sc script) trace {
	t.Helper()
	run := Begin(p, e.now)
	in := Input{Now: e.now}
	var tr trace
	analyses := 0
	for tick := 0; tick < 5000; tick++ {
		var d Decision
		run, d = run.Tick(in)
		tr.decisions = append(tr.decisions, d)
		tr.logs = append(tr.logs, d.Logs...)
		tr.events = append(tr.events, d.Events...)
		if d.Kind == Finish {
			tr.final = d
			if !run.Done() {
				t.Fatal("a run that finished does not say it is done")
			}
			_, again := run.Tick(Input{Now: e.now})
			if again.Kind != Finish {
				t.Fatalf("a finished run ticked again decides %s", again.Kind)
			}
			return tr
		}
		in = Input{Now: e.now}
		switch d.Kind {
		case ReadLive:
			l := e.live
			in.Live = &l
		case Write:
			if err := d.Split.Validate(); err != nil {
				t.Fatalf("tick %d writes an invalid split %s: %v", tick, d.Split, err)
			}
			if len(d.Message) > MaxMessageBytes {
				t.Fatalf("message %q is %d bytes", d.Message, len(d.Message))
			}
			if _, ok, err := ParseMarker(d.Message); !ok || err != nil {
				t.Fatalf("message %q carries no marker: %v", d.Message, err)
			}
			dep := e.deploy(d.Split, d.Message)
			tr.writes = append(tr.writes, dep)
			in.Live = &dep
		case Wait:
			if !d.Until.After(e.now) {
				t.Fatalf("tick %d waits until %s, which is not after now %s", tick, d.Until, e.now)
			}
			e.now = d.Until
			in.Now = e.now
		case Analyse:
			ev := healthy
			if sc.evidence != nil {
				ev = sc.evidence(analyses, d)
			}
			analyses++
			in.Evidence = ev
		default:
			t.Fatalf("unknown decision %q", d.Kind)
		}
		if sc.hook != nil {
			sc.hook(tick, d, e, &in)
		}
	}
	t.Fatalf("run did not finish: %s", tr.kinds())
	return tr
}

// writtenSteps lists the steps of the markers a trace wrote.
func writtenSteps(t *testing.T, tr trace) []string {
	t.Helper()
	var out []string
	for _, w := range tr.writes {
		m, _, err := ParseMarker(w.Message)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d:%s=%s", m.Step, m.Phase, formatPercent(w.Versions.Percent(w.Versions[len(w.Versions)-1].VersionID))))
	}
	return out
}

func canary(target string, steps ...Step) Config {
	return Config{Target: target, Strategy: StrategyCanary, Steps: steps}
}

func withAnalysis(c Config) Config {
	c.Analysis = &Analysis{Interval: time.Minute, ErrorRate: &Metric{Max: 0.01, MinRequests: 100}, P99LatencyMs: &Metric{Max: 500, MinRequests: 100}}
	return c
}

func stableOn(v string) Status {
	return Status{Phase: PhaseStable, Stable: v, Traffic: Only(v), DeploymentID: "dep-001"}
}
