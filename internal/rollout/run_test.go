package rollout

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// approved is canary3 with its gate approved: the whole path in one apply.
func approved(target string) Config {
	return with(canary3(target), func(c *Config) { c.ApprovedThroughStep = 2 })
}

func eventKinds(tr trace) string {
	var ks []string
	for _, e := range tr.events {
		ks = append(ks, string(e.Kind))
	}
	return strings.Join(ks, " ")
}

func hasLog(tr trace, want string) bool {
	for _, l := range tr.logs {
		if strings.Contains(l, want) {
			return true
		}
	}
	return false
}

// start observes the edge, plans cfg and drives the apply.
func start(t *testing.T, cfg Config, e *edge, prior Status, sc script) (Plan, trace) {
	t.Helper()
	p := PlanApply(cfg, e.observe(t, prior), e.now)
	return p, drive(t, p, e, sc)
}

func TestRunT2WalksThePlanAndEndsAsPlanned(t *testing.T) {
	t.Parallel()
	e := newEdge(Only(vA), "")
	p, tr := start(t, approved(vB), e, Status{}, script{})
	if got, want := writtenSteps(t, tr), []string{"1:progressing=5", "2:progressing=25", "3:progressing=50", "4:promoted=100"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("writes %v, want %v", got, want)
	}
	f := tr.final
	if !f.Outcome.AsPlanned || f.Outcome.Severity != SeverityNone || f.Status.Phase != p.Expect.Phase || !f.Status.Traffic.Equal(p.Expect.Traffic) || f.Status.Step != p.Expect.Step {
		t.Fatalf("final %+v, plan %+v", f, p.Expect)
	}
	if f.Status.Stable != vB || f.Status.Previous != vA || f.Status.Candidate != "" || f.Status.DeploymentID != e.live.ID || !f.Status.StepStartedAt.Equal(e.live.CreatedOn) {
		t.Fatalf("final status %+v", f.Status)
	}
	if got := eventKinds(tr); got != "started progress progress completed" {
		t.Fatalf("events %q", got)
	}
	// Holds: 2m + 5m + 5m, nothing more.
	if got := e.now.Sub(t0); got != 12*time.Minute {
		t.Fatalf("the apply took %s of holds, want 12m", got)
	}
	// Checks run at every interval and at each hold's end: 2 + 5 + 5.
	analyses := 0
	for _, d := range tr.decisions {
		if d.Kind == Analyse {
			analyses++
		}
	}
	if analyses != 12 {
		t.Fatalf("%d checks, want 12", analyses)
	}
	if !hasLog(tr, "step 2/4: 25 % → bbbbbbbb (75 % aaaaaaaa, 25 % bbbbbbbb), holding 5m") ||
		!hasLog(tr, "step 2/4 at 25 %: error_rate 0 over 1000 requests (max 0.01, stable 0); p99_latency_ms 100 ms over 1000 requests (max 500 ms, stable 80 ms), holding 4m") {
		t.Fatalf("logs %q", tr.logs)
	}
	// Read after the apply keeps the status, and the next plan is empty.
	st := e.observe(t, f.Status)
	if !reflect.DeepEqual(st, f.Status) {
		t.Fatalf("Read changed the status: %+v", st)
	}
	if p := PlanApply(approved(vB), st, e.now); p.Kind != KindNoChange {
		t.Fatalf("re-plan is %s", p.Kind)
	}
}

func TestRunWritesOnlyRightAfterSeeingTheLiveDeployment(t *testing.T) {
	t.Parallel()
	e := newEdge(Only(vA), "")
	_, tr := start(t, approved(vB), e, Status{}, script{})
	for i, d := range tr.decisions {
		if d.Kind != Write {
			continue
		}
		prev := tr.decisions[i-1].Kind
		if prev != ReadLive && prev != Write && prev != Analyse && prev != Wait {
			t.Fatalf("write %d follows %s", i, prev)
		}
	}
	// The first write is the second decision: read, then write.
	if got := tr.kinds()[:10]; got != "read write" {
		t.Fatalf("the apply starts with %q", got)
	}
}

func TestRunAnalyseAsksForTheRightWindow(t *testing.T) {
	t.Parallel()
	cfg := approved(vB)
	cfg.Analysis.Delay = 30 * time.Second
	e := newEdge(Only(vA), "")
	var windows []Window
	start(t, cfg, e, Status{}, script{evidence: func(n int, d Decision) *Evidence {
		if d.Stable != vA || d.Candidate != vB {
			t.Errorf("check %d asks for %s/%s", n, d.Stable, d.Candidate)
		}
		windows = append(windows, d.Window)
		return healthy
	}})
	// Step 1 starts at t0: checks at 1m and 2m read [t0, now − 30s].
	if w := windows[0]; !w.From.Equal(t0) || !w.To.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("first window %+v", w)
	}
	if w := windows[1]; !w.From.Equal(t0) || !w.To.Equal(t0.Add(90*time.Second)) {
		t.Fatalf("second window %+v", w)
	}
	// Step 2 starts at 2m: its window starts there, so the first step's traffic never counts.
	if w := windows[2]; !w.From.Equal(t0.Add(2 * time.Minute)) {
		t.Fatalf("third window %+v", w)
	}
}

func TestRunT5FailedAnalysisRollsBack(t *testing.T) {
	t.Parallel()
	e := newEdge(Only(vA), "")
	_, tr := start(t, approved(vB), e, Status{}, script{evidence: func(n int, d Decision) *Evidence {
		if d.CandidatePercent == 25 {
			return failing
		}
		return healthy
	}})
	if got, want := writtenSteps(t, tr), []string{"1:progressing=5", "2:progressing=25", "2:aborted=100"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("writes %v, want %v", got, want)
	}
	f := tr.final
	if f.Status.Phase != PhaseAborted || !f.Status.Traffic.Equal(Only(vA)) || f.Status.Candidate != vB || f.Status.Step != 2 || f.Status.FailedChecks != 1 {
		t.Fatalf("final status %+v", f.Status)
	}
	want := "At step 2 the analysis of " + vB + " failed: error_rate 0.2 over 1000 requests exceeds max 0.01, stable 0; p99_latency_ms 100 ms over 1000 requests (max 500 ms, stable 80 ms) " +
		"(failed checks: 1, failure_limit 1). All traffic is back on " + vA + ", and the state records the aborted rollout. " +
		"To retry, change retry_token; to stay on " + vA + ", set version_id = \"" + vA + "\"; or set a new version_id."
	if f.Outcome.Severity != SeverityError || f.Outcome.AsPlanned || f.Outcome.Summary != "Rollout failed and was rolled back" || f.Outcome.Detail != want {
		t.Fatalf("outcome %+v\nwant detail %q", f.Outcome, want)
	}
	if f.Verdict == nil || f.Verdict.Result != Fail {
		t.Fatalf("the final decision does not carry the failed verdict: %+v", f.Verdict)
	}
	if got := eventKinds(tr); got != "started progress rolled_back" {
		t.Fatalf("events %q", got)
	}
	if !hasLog(tr, "step 2/4: check failed (1 of failure_limit 1): error_rate 0.2 over 1000 requests exceeds max 0.01") {
		t.Fatalf("logs %q", tr.logs)
	}
	// The next plan shows the aborted rollout, with no change, until retry_token changes.
	st := e.observe(t, f.Status)
	if p := PlanApply(approved(vB), st, e.now); p.Kind != KindNoChange || len(p.Warnings) != 1 {
		t.Fatalf("re-plan %s %q", p.Kind, p.Warnings)
	}
	retry := with(approved(vB), func(c *Config) { c.RetryToken = "1" })
	p, tr := start(t, retry, e, st, script{})
	if p.Kind != KindRetry || tr.final.Status.Phase != PhasePromoted || tr.final.Status.FailedChecks != 0 {
		t.Fatalf("retry: %s → %+v", p.Kind, tr.final.Status)
	}
}

func TestRunT5FailureLimitCountsTheWholeAttempt(t *testing.T) {
	t.Parallel()
	cfg := approved(vB)
	cfg.Analysis.FailureLimit = 3
	// Checks: step 1 at 1m, 2m; step 2 at 1..5m; step 3 at 1..5m. Fail checks 1, 3 and 6.
	fails := map[int]bool{1: true, 3: true, 6: true}
	e := newEdge(Only(vA), "")
	_, tr := start(t, cfg, e, Status{}, script{evidence: func(n int, d Decision) *Evidence {
		if fails[n] {
			return failing
		}
		return healthy
	}})
	// Check 1 (step 1's final) fails: the hold runs one more interval (check 2 passes).
	// Check 3 fails mid-hold of step 2 (two failures), check 6 is the third: abort at step 2.
	if got, want := writtenSteps(t, tr), []string{"1:progressing=5", "2:progressing=25", "2:aborted=100"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("writes %v, want %v", got, want)
	}
	if tr.final.Status.FailedChecks != 3 || !hasLog(tr, "check failed (2 of failure_limit 3)") {
		t.Fatalf("status %+v logs %q", tr.final.Status, tr.logs)
	}
	// Step 1 held 3m: 2m and one more interval after its failed final check.
	if got := tr.writes[1].CreatedOn.Sub(t0); got != 3*time.Minute {
		t.Fatalf("step 2 started after %s, want 3m", got)
	}
}

func TestRunT5OnFailurePauseLeavesTraffic(t *testing.T) {
	t.Parallel()
	cfg := with(approved(vB), func(c *Config) { c.OnFailure = OnFailurePause })
	e := newEdge(Only(vA), "")
	_, tr := start(t, cfg, e, Status{}, script{evidence: func(int, Decision) *Evidence { return slow }})
	f := tr.final
	if len(tr.writes) != 1 || f.Status.Phase != PhasePaused || f.Status.Reason != ReasonFailed || !f.Status.Traffic.Equal(TwoWay(vA, vB, 5)) {
		t.Fatalf("writes %v status %+v", writtenSteps(t, tr), f.Status)
	}
	if f.Outcome.Severity != SeverityError || f.Outcome.Summary != "Rollout failed and is paused" ||
		f.Outcome.Detail != "The analysis of bbbbbbbb failed at step 1: error_rate 0 over 1000 requests (max 0.01, stable 0); "+
			"p99_latency_ms 900 ms over 1000 requests exceeds max 500 ms, stable 80 ms; on_failure = \"pause\" left traffic at 95 % aaaaaaaa, 5 % bbbbbbbb." {
		t.Fatalf("outcome %+v", f.Outcome)
	}
	if !hasLog(tr, "step 1/4: check failed (1 of failure_limit 1): error_rate 0 over 1000 requests") {
		t.Fatalf("logs %q", tr.logs)
	}
	if p := PlanApply(cfg, e.observe(t, f.Status), e.now); p.Kind != KindNoChange {
		t.Fatalf("re-plan %s", p.Kind)
	}
}

func TestRunT6Inconclusive(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		policy InconclusivePolicy
		writes []string
		phase  Phase
		reason Reason
		sev    Severity
	}{
		{InconclusivePause, []string{"1:progressing=5"}, PhasePaused, ReasonInconclusive, SeverityError},
		{InconclusiveFail, []string{"1:progressing=5", "1:aborted=100"}, PhaseAborted, "", SeverityError},
		{InconclusivePass, []string{"1:progressing=5", "2:progressing=25", "3:progressing=50", "4:promoted=100"}, PhasePromoted, "", SeverityNone},
	} {
		cfg := approved(vB)
		cfg.Analysis.Inconclusive = tc.policy
		e := newEdge(Only(vA), "")
		_, tr := start(t, cfg, e, Status{}, script{evidence: func(int, Decision) *Evidence { return quiet }})
		f := tr.final
		if got := writtenSteps(t, tr); !reflect.DeepEqual(got, tc.writes) || f.Status.Phase != tc.phase || f.Status.Reason != tc.reason || f.Outcome.Severity != tc.sev {
			t.Errorf("%s: writes %v, %s(%s), %q", tc.policy, got, f.Status.Phase, f.Status.Reason, f.Outcome.Severity)
		}
		if tc.policy == InconclusivePause && f.Outcome.Detail != "The hold of step 1 ended without enough data (error_rate: 3 requests, fewer than min_requests 100; "+
			"p99_latency_ms: 3 requests, fewer than min_requests 100); analysis.inconclusive = \"pause\" keeps traffic at 95 % aaaaaaaa, 5 % bbbbbbbb, and the next apply checks again." {
			t.Errorf("pause outcome %q", f.Outcome.Detail)
		}
	}
}

func TestRunInconclusiveDuringAHoldIsNotAPause(t *testing.T) {
	t.Parallel()
	e := newEdge(Only(vA), "")
	// Every check but the last of each hold lacks data: the holds pass at their end.
	_, tr := start(t, approved(vB), e, script{}.status(), script{evidence: func(n int, d Decision) *Evidence {
		if d.Final {
			return healthy
		}
		return quiet
	}})
	if tr.final.Status.Phase != PhasePromoted {
		t.Fatalf("final %+v", tr.final.Status)
	}
}

func (script) status() Status { return Status{} }

func TestRunAnalysisErrorIsInconclusive(t *testing.T) {
	t.Parallel()
	e := newEdge(Only(vA), "")
	_, tr := start(t, approved(vB), e, Status{}, script{hook: func(_ int, d Decision, _ *edge, in *Input) {
		if d.Kind == Analyse {
			in.Evidence, in.Err = nil, errors.New("graphql: 503")
		}
	}})
	if tr.final.Status.Reason != ReasonInconclusive || tr.final.Status.LastAnalysis != "analysis data unavailable: graphql: 503" {
		t.Fatalf("final %+v", tr.final.Status)
	}
}

func TestRunT8CancelledDuringAHold(t *testing.T) {
	t.Parallel()
	e := newEdge(Only(vA), "")
	cfg := approved(vB)
	waits := 0
	_, tr := start(t, cfg, e, Status{}, script{hook: func(_ int, d Decision, e *edge, in *Input) {
		if d.Kind == Wait && d.Status.Step == 2 {
			waits++
			if waits == 2 {
				in.Cancelled = true
			}
		}
	}})
	f := tr.final
	if f.Status.Phase != PhasePaused || f.Status.Reason != ReasonInterrupted || !f.Status.Traffic.Equal(TwoWay(vA, vB, 25)) || f.Status.Step != 2 {
		t.Fatalf("final %+v", f.Status)
	}
	if len(tr.writes) != 2 || f.Outcome.Severity != SeverityError || f.Outcome.Summary != "Rollout interrupted" {
		t.Fatalf("writes %v, outcome %+v", writtenSteps(t, tr), f.Outcome)
	}
	if got := eventKinds(tr); got != "started progress paused" {
		t.Fatalf("events %q", got)
	}
	// T10: the next apply resumes the hold where it stopped (2m of 5m were held).
	st := e.observe(t, f.Status)
	p := PlanApply(cfg, st, e.now)
	if p.Kind != KindResume || p.Path[0].String() != "step 2: stay at 25 %, hold 3m, checked" {
		t.Fatalf("resume plan %s %v", p.Kind, p.Path)
	}
	_, tr = start(t, cfg, e, st, script{})
	if tr.final.Status.Phase != PhasePromoted || len(tr.writes) != 2 {
		t.Fatalf("resumed: %v %+v", writtenSteps(t, tr), tr.final.Status)
	}
}

func TestRunT8CancelledBeforeAnyWriteChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEdge(Only(vA), "")
	cur := e.observe(t, Status{})
	p := PlanApply(approved(vB), cur, e.now)
	r := Begin(p, e.now)
	r, d := r.Tick(Input{Now: e.now})
	if d.Kind != ReadLive {
		t.Fatalf("first decision %s", d.Kind)
	}
	_, d = r.Tick(Input{Now: e.now, Cancelled: true})
	if d.Kind != Finish || !reflect.DeepEqual(d.Status, cur) || d.Outcome.Severity != SeverityError {
		t.Fatalf("decision %+v", d)
	}
}

func TestRunRollbackIsWrittenEvenWhenCancelled(t *testing.T) {
	t.Parallel()
	e := newEdge(Only(vA), "")
	_, tr := start(t, approved(vB), e, Status{}, script{
		evidence: func(int, Decision) *Evidence { return failing },
		hook: func(_ int, d Decision, _ *edge, in *Input) {
			if d.Kind == Analyse || d.Kind == ReadLive && d.Status.Phase == PhaseProgressing {
				in.Cancelled = true // Ctrl-C arrives with the failing evidence, and again before the rollback
			}
		},
	})
	if tr.final.Status.Phase != PhaseAborted || !e.live.Versions.Equal(Only(vA)) {
		t.Fatalf("final %+v, live %s", tr.final.Status, e.live.Versions)
	}
}

func TestRunT9KilledApplyResumesFromThePlatform(t *testing.T) {
	t.Parallel()
	cfg := approved(vB)
	e := newEdge(Only(vA), "")
	before := e.observe(t, Status{})
	p := PlanApply(cfg, before, e.now)
	// Walk until the second step is written, then "kill" the process: no Finish, no state.
	r := Begin(p, e.now)
	in := Input{Now: e.now}
	for writes := 0; writes < 2; {
		var d Decision
		r, d = r.Tick(in)
		in = Input{Now: e.now}
		switch d.Kind {
		case ReadLive:
			l := e.live
			in.Live = &l
		case Write:
			dep := e.deploy(d.Split, d.Message)
			in.Live = &dep
			writes++
		case Wait:
			e.now = d.Until
			in.Now = e.now
		case Analyse:
			in.Evidence = healthy
		}
	}
	e.now = e.now.Add(time.Minute)
	st := e.observe(t, before) // state still says stable on vA
	if st.Phase != PhasePaused || st.Reason != ReasonInterrupted || st.Step != 2 || st.Candidate != vB {
		t.Fatalf("Read after the kill: %+v", st)
	}
	p = PlanApply(cfg, st, e.now)
	if p.Kind != KindResume || p.Path[0].String() != "step 2: stay at 25 %, hold 4m, checked" {
		t.Fatalf("plan after the kill: %s %v", p.Kind, p.Path)
	}
	tr := drive(t, p, e, script{})
	if tr.final.Status.Phase != PhasePromoted {
		t.Fatalf("final %+v", tr.final.Status)
	}
}

func TestRunT16ExternalChangeDuringAHold(t *testing.T) {
	t.Parallel()
	e := newEdge(Only(vA), "")
	_, tr := start(t, approved(vB), e, Status{}, script{hook: func(_ int, d Decision, e *edge, in *Input) {
		if d.Kind == Analyse && d.Status.Step == 2 {
			dep := e.deploy(Only(vA), "Rollback by on-call")
			in.Live = &dep // the resource read the deployment with the check
		}
	}})
	f := tr.final
	if len(tr.writes) != 2 || f.Status.Phase != PhasePaused || f.Status.Reason != ReasonExternalChange || !f.Status.Traffic.Equal(Only(vA)) || f.Status.DeploymentID != e.live.ID {
		t.Fatalf("writes %d final %+v", len(tr.writes), f.Status)
	}
	if f.Outcome.Severity != SeverityError || f.Outcome.Summary != "Deployment changed outside Terraform" {
		t.Fatalf("outcome %+v", f.Outcome)
	}
	// Read keeps the status (same deployment); the next plan re-asserts from step 1.
	st := e.observe(t, f.Status)
	p := PlanApply(approved(vB), st, e.now)
	if p.Kind != KindStart || p.Path[0].Step != 1 || !reflect.DeepEqual(p.Warnings, []string{
		"The active deployment changed outside this apply: it is dep-004 (100 % aaaaaaaa), this apply had 75 % aaaaaaaa, 25 % bbbbbbbb."}) {
		t.Fatalf("re-plan %s %v %q", p.Kind, p.Path, p.Warnings)
	}
}

func TestRunRefusesAStalePlan(t *testing.T) {
	t.Parallel()
	e := newEdge(Only(vA), "")
	p := PlanApply(approved(vB), e.observe(t, Status{}), e.now)
	e.deploy(Only(vC), "wrangler deploy") // between plan and apply
	tr := drive(t, p, e, script{})
	f := tr.final
	if len(tr.writes) != 0 || f.Status.Reason != ReasonExternalChange ||
		!strings.HasPrefix(f.Outcome.Detail, "The active deployment changed after the plan was made: it is dep-002 (100 % cccccccc), the plan started from 100 % aaaaaaaa. Run terraform plan again.") {
		t.Fatalf("writes %d, %+v", len(tr.writes), f)
	}
}

func TestRunWriteErrors(t *testing.T) {
	t.Parallel()
	// The response was lost but the deployment landed: the run goes on.
	e := newEdge(Only(vA), "")
	_, tr := start(t, approved(vB), e, Status{}, script{hook: func(_ int, d Decision, e *edge, in *Input) {
		if d.Kind == Write && len(e.writes) == 2 {
			l := e.live
			in.Live, in.Err = &l, errLostWrite
		}
	}})
	if tr.final.Status.Phase != PhasePromoted {
		t.Fatalf("lost response: %+v", tr.final)
	}
	// The write failed: interrupted, with the error, traffic as it was.
	e = newEdge(Only(vA), "")
	_, tr = start(t, approved(vB), e, Status{}, script{hook: func(_ int, d Decision, e *edge, in *Input) {
		if d.Kind == Write && len(e.writes) == 2 {
			e.writes = e.writes[:1]
			e.live = e.writes[0]
			l := e.live
			in.Live, in.Err = &l, errLostWrite
		}
	}})
	f := tr.final
	if f.Status.Reason != ReasonInterrupted || !f.Status.Traffic.Equal(TwoWay(vA, vB, 5)) || f.Status.Step != 1 ||
		f.Outcome.Detail != "POST deployments: connection reset: the apply stopped at step 1/4 (95 % aaaaaaaa, 5 % bbbbbbbb): traffic was left as it is, "+
			"the state records the position, and the next apply resumes from it." {
		t.Fatalf("failed write: %+v", f)
	}
	// The platform ignores the write (no error): the run retries, then gives up.
	e = newEdge(Only(vA), "")
	_, tr = start(t, approved(vB), e, Status{}, script{hook: func(_ int, d Decision, e *edge, in *Input) {
		if d.Kind == Write && len(e.writes) >= 2 {
			e.writes = e.writes[:1]
			e.live = e.writes[0]
			l := e.live
			in.Live = &l
		}
	}})
	writes := strings.Count(tr.kinds(), "write")
	if writes != 1+maxWriteAttempts || tr.final.Status.Reason != ReasonInterrupted {
		t.Fatalf("%d writes, final %+v", writes, tr.final.Status)
	}
}

func TestRunRollbackThatCannotBeWrittenIsFinishedByTheNextApply(t *testing.T) {
	t.Parallel()
	e := newEdge(Only(vA), "")
	cfg := approved(vB)
	_, tr := start(t, cfg, e, Status{}, script{
		evidence: func(int, Decision) *Evidence { return failing },
		hook: func(_ int, d Decision, e *edge, in *Input) {
			if d.Kind == Write && strings.Contains(d.Message, ":aborted") {
				e.writes = e.writes[:len(e.writes)-1]
				e.live = e.writes[len(e.writes)-1]
				l := e.live
				in.Live, in.Err = &l, errors.New("API 500")
			}
		},
	})
	f := tr.final
	if f.Status.Reason != ReasonFailed || !f.Status.Traffic.Equal(TwoWay(vA, vB, 5)) || f.Outcome.Summary != "Rollout failed and the rollback did not complete" {
		t.Fatalf("final %+v", f)
	}
	p, tr := start(t, cfg, e, f.Status, script{})
	if p.Kind != KindAbort || tr.final.Status.Phase != PhaseAborted || !e.live.Versions.Equal(Only(vA)) || tr.final.Outcome.Severity != SeverityWarning {
		t.Fatalf("next apply %s → %+v", p.Kind, tr.final)
	}
	if m, _, _ := ParseMarker(e.live.Message); m.Phase != PhaseAborted || m.ID != f.Status.RolloutID {
		t.Fatalf("abort marker %q", e.live.Message)
	}
}

func TestRunT7BudgetSpansApplies(t *testing.T) {
	t.Parallel()
	cfg := withAnalysis(canary(vB, Step{Percent: 5, Hold: 2 * time.Hour}))
	cfg.MaxApplyDuration = 30 * time.Minute
	e := newEdge(Only(vA), "")
	_, tr := start(t, cfg, e, Status{}, script{})
	f := tr.final
	if f.Status.Reason != ReasonBudget || f.Outcome.Severity != SeverityWarning || !f.Outcome.AsPlanned || e.now.Sub(t0) != 30*time.Minute {
		t.Fatalf("first apply %+v after %s", f, e.now.Sub(t0))
	}
	// Right away, the next apply holds another 30m: 1h of the 2h is left after it.
	p, tr := start(t, cfg, e, tr.final.Status, script{})
	if p.Path[0].String() != "step 1: stay at 5 %, hold 30m (1h left for the next apply), checked" || tr.final.Status.Reason != ReasonBudget {
		t.Fatalf("second apply %v → %+v", p.Path, tr.final.Status)
	}
	// An hour later the hold is over: the third apply checks the whole window once, then promotes.
	e.now = e.now.Add(time.Hour)
	p, tr = start(t, cfg, e, tr.final.Status, script{evidence: func(_ int, d Decision) *Evidence {
		if !d.Final || !d.Window.From.Equal(t0) {
			t.Errorf("the resumed check reads %+v (final %v), want the whole window since %s", d.Window, d.Final, t0)
		}
		return healthy
	}})
	if got := tr.kinds(); got != "read analyse read write finish" || tr.final.Status.Phase != PhasePromoted {
		t.Fatalf("third apply: %s %+v", got, tr.final.Status)
	}
	if len(e.writes) != 2 {
		t.Fatalf("writes %d", len(e.writes))
	}
}

func TestRunBlueGreen(t *testing.T) {
	t.Parallel()
	cfg := Config{Target: vB, Strategy: StrategyBlueGreen, Analysis: &Analysis{Probe: &Probe{Path: "/health"}, ErrorRate: &Metric{Max: 0.01}}}
	e := newEdge(Only(vA), "")
	var shares []float64
	_, tr := start(t, cfg, e, Status{}, script{evidence: func(_ int, d Decision) *Evidence {
		if !d.Probe {
			t.Error("a preview check must probe the candidate")
		}
		shares = append(shares, d.CandidatePercent)
		return &Evidence{Probes: []ProbeResult{{Status: 200}}}
	}})
	if got := writtenSteps(t, tr); !reflect.DeepEqual(got, []string{"0:previewing=0"}) || !reflect.DeepEqual(shares, []float64{0}) {
		t.Fatalf("writes %v, checks at %v", got, shares)
	}
	if f := tr.final.Status; f.Phase != PhasePaused || f.Reason != ReasonGate || !e.live.Versions.Equal(Split{{vA, 100}, {vB, 0}}) || f.LastAnalysis != "probe GET /health answered 200" {
		t.Fatalf("preview: %+v live %s", f, e.live.Versions)
	}
	cfg.ApprovedThroughStep = 1 // the manual switch
	_, tr = start(t, cfg, e, tr.final.Status, script{})
	if got := writtenSteps(t, tr); !reflect.DeepEqual(got, []string{"1:promoted=100"}) || tr.final.Status.Phase != PhasePromoted {
		t.Fatalf("switch: %v %+v", got, tr.final.Status)
	}
}

func TestRunT11FastRollback(t *testing.T) {
	t.Parallel()
	e := newEdge(Only(vA), "")
	cfg := canary3(vB)
	_, tr := start(t, cfg, e, Status{}, script{}) // paused at the gate, 5 %
	cfg.Target = vA
	e.now = e.now.Add(time.Hour)
	p, tr := start(t, cfg, e, tr.final.Status, script{})
	if p.Kind != KindRollback || len(tr.writes) != 1 || !e.live.Versions.Equal(Only(vA)) || tr.final.Status.Phase != PhaseStable || eventKinds(tr) != "rolled_back" {
		t.Fatalf("%s, writes %d, final %+v, events %q", p.Kind, len(tr.writes), tr.final.Status, eventKinds(tr))
	}
	if strings.Count(tr.kinds(), "analyse") != 0 || strings.Count(tr.kinds(), "wait") != 0 {
		t.Fatalf("a fast rollback waits for nothing: %s", tr.kinds())
	}
}

func TestRunT12Supersede(t *testing.T) {
	t.Parallel()
	e := newEdge(Only(vA), "")
	cfg := canary3(vB)
	_, tr := start(t, cfg, e, Status{}, script{})
	cfg.Target = vC
	p, tr := start(t, cfg, e, tr.final.Status, script{})
	if p.Kind != KindSupersede || !tr.writes[0].Versions.Equal(TwoWay(vA, vC, 5)) || tr.writes[0].Versions.Has(vB) {
		t.Fatalf("%s: %s", p.Kind, tr.writes[0].Versions)
	}
	if got := eventKinds(tr); got != "started paused" {
		t.Fatalf("events %q", got)
	}
}

func TestRunImmediate(t *testing.T) {
	t.Parallel()
	e := newEdge(Only(vA), "")
	_, tr := start(t, withAnalysis(Config{Target: vB, Strategy: StrategyImmediate}), e, Status{}, script{})
	if tr.kinds() != "read write finish" || tr.final.Status.Phase != PhasePromoted || eventKinds(tr) != "started completed" {
		t.Fatalf("%s %+v %q", tr.kinds(), tr.final.Status, eventKinds(tr))
	}
}

func TestRunWithoutAnalysisOnlyHolds(t *testing.T) {
	t.Parallel()
	e := newEdge(Only(vA), "")
	_, tr := start(t, Config{Target: vB, Strategy: StrategyRolling, Rolling: &Rolling{BatchPercent: 50, Hold: time.Minute}}, e, Status{}, script{})
	if tr.kinds() != "read write wait read write finish" || tr.final.Status.Phase != PhasePromoted {
		t.Fatalf("%s %+v", tr.kinds(), tr.final.Status)
	}
}

func TestRunNoChangeAndAdoptDoNothing(t *testing.T) {
	t.Parallel()
	e := newEdge(Only(vB), "wrangler deploy")
	cur := Status{Phase: PhasePaused, Reason: ReasonExternalChange, Stable: vB, Traffic: Only(vB), DeploymentID: e.live.ID}
	p, tr := start(t, canary3(vB), e, cur, script{})
	if p.Kind != KindAdopt || tr.kinds() != "finish" || tr.final.Status.Phase != PhaseStable || tr.final.Status.DeploymentID != e.live.ID {
		t.Fatalf("%s %s %+v", p.Kind, tr.kinds(), tr.final.Status)
	}
	p, tr = start(t, canary3(vB), e, tr.final.Status, script{})
	if p.Kind != KindNoChange || tr.kinds() != "finish" {
		t.Fatalf("%s %s", p.Kind, tr.kinds())
	}
}
