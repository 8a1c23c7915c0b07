package rollout

import (
	"fmt"
	"time"
)

// DecisionKind says what the resource does after a tick.
type DecisionKind string

// Decisions.
const (
	// ReadLive: read the active deployment and tick with it as Input.Live.
	ReadLive DecisionKind = "read"
	// Write: create a deployment of Decision.Split with Decision.Message as its
	// workers/message, and tick with the created deployment as Input.Live. When the call
	// fails, read the active deployment again and tick with it and Input.Err: the write may
	// have landed anyway.
	Write DecisionKind = "write"
	// Wait: wait until Decision.Until, then tick with the time; when the context is cancelled
	// first (Ctrl-C, a timeout), tick with Input.Cancelled.
	Wait DecisionKind = "wait"
	// Analyse: gather Evidence over Decision.Window (analytics of Decision.Stable and
	// Decision.Candidate; probes through the version-override header when Decision.Probe) and
	// tick with it as Input.Evidence, or with Input.Err when it could not be gathered.
	Analyse DecisionKind = "analyse"
	// Finish: save Decision.Status in state and report Decision.Outcome; the run is over.
	Finish DecisionKind = "finish"
)

// Input is what the resource tells a run at a tick.
type Input struct {
	Now time.Time
	// Live is the active deployment, when the resource has just read or written it. A run
	// writes only right after it has seen the live deployment, and reports any deployment it
	// did not write as an external change.
	Live *Deployment
	// Evidence answers an Analyse decision.
	Evidence *Evidence
	// Cancelled is set when the apply's context ended. The run stops where it is, except
	// while rolling back: the rollback is still written (use a fresh, short context for it).
	Cancelled bool
	// Err is the error of the last Write or Analyse.
	Err error
}

// Severity is how the resource reports a run's outcome.
type Severity string

// Severities.
const (
	SeverityNone    Severity = ""
	SeverityWarning Severity = "warning"
	SeverityError   Severity = "error"
)

// Outcome is how a run ended, as a diagnostic.
type Outcome struct {
	Severity        Severity
	Summary, Detail string
	// AsPlanned is set when the final status is the plan's Expect. When it is not, Terraform
	// accepts the new state only from an apply that reports an error, which is why every
	// outcome that leaves the planned path (a failure, an inconclusive pause, an interrupt, an
	// external change) is SeverityError, with the state saved.
	AsPlanned bool
}

// EventKind names a notification (notify.webhook_url).
type EventKind string

// Events.
const (
	EventStarted    EventKind = "started"
	EventProgress   EventKind = "progress"
	EventCompleted  EventKind = "completed"
	EventRolledBack EventKind = "rolled_back"
	EventPaused     EventKind = "paused"
)

// Event is a notification for the rollout's webhook.
type Event struct {
	Kind              EventKind
	RolloutID         string
	Stable, Candidate string
	// Step and Steps place the rollout: "step 2 of 4" (the promotion is the last step).
	Step, Steps int
	Traffic     Split
	Phase       Phase
	Reason      Reason
	Detail      string
	// Analysis is the last check's summary, with its numbers.
	Analysis string
	At       time.Time
}

// Decision is what a tick asks the resource to do, with what to log and notify on the way.
type Decision struct {
	Kind DecisionKind
	// Split and Message: the deployment to write (Write).
	Split   Split
	Message string
	// Until: when to tick again (Wait).
	Until time.Time
	// Window, Stable, Candidate, CandidatePercent, Probe: what to gather (Analyse). Final is
	// set for the check at the end of a hold, whose inconclusive result applies
	// analysis.inconclusive.
	Window            Window
	Stable, Candidate string
	CandidatePercent  float64
	Probe             bool
	Final             bool
	// Status is the rollout's status so far; on Finish it is what the state must hold.
	Status Status
	// Outcome is set on Finish.
	Outcome Outcome
	// Verdict is the check this tick recorded, if any.
	Verdict *Verdict
	// Logs are progress lines for the apply log; Events are notifications to send, in order.
	Logs   []string
	Events []Event
}

type runState int

const (
	stBegin   runState = iota
	stWrite            // a write of pending is due; it needs a fresh look at the live deployment
	stWriting          // the write was asked for; its result is due
	stHold             // holding at path[idx]
	stCheck            // a check was asked for; its evidence is due
	stDone
)

// maxWriteAttempts bounds how often a run repeats a write the platform did not take.
const maxWriteAttempts = 3

// Run walks a plan's path during an apply. It is a value: Tick returns the next run and a
// decision, and never does I/O; the resource performs each decision and ticks again with what
// it saw. One tick makes at most one decision, so it writes at most one split.
type Run struct {
	plan  Plan
	cfg   Config
	began time.Time
	st    runState
	idx   int

	// live and liveID are the split and deployment the platform should have now.
	live   Split
	liveID string
	// wrote is set once a write of this run has landed.
	wrote bool
	step  int

	pending       Split
	pendingMarker Marker
	pendingMsg    string
	aborting      bool
	attempts      int

	entered, holdEnd, fullEnd, nextCheck, lastCheck time.Time

	failures int
	analysis string
	failedAt string   // the summary of the verdict that failed the rollout
	failed   *Verdict // that verdict

	final Decision
}

// Begin starts walking plan at now (the apply's clock; the plan's own clock may be earlier).
func Begin(plan Plan, now time.Time) Run {
	r := Run{plan: plan, cfg: plan.cfg, began: now, idx: -1, live: plan.From.clone(), liveID: plan.cur.DeploymentID, step: plan.cur.Step}
	if plan.Kind == KindResume || plan.Kind == KindAbort {
		r.failures, r.analysis = plan.cur.FailedChecks, plan.cur.LastAnalysis
	}
	return r
}

// Done reports whether the run has finished.
func (r Run) Done() bool { return r.st == stDone }

// Tick advances the run by one decision.
func (r Run) Tick(in Input) (Run, Decision) {
	switch r.st {
	case stBegin:
		return r.begin(in)
	case stWrite:
		return r.write(in)
	case stWriting:
		return r.written(in)
	case stHold:
		return r.hold(in)
	case stCheck:
		return r.check(in)
	}
	return r, r.final
}

func (r Run) begin(in Input) (Run, Decision) {
	if len(r.plan.Path) == 0 {
		return r.finishPlanned(in.Now)
	}
	if in.Cancelled {
		return r.finishInterrupted(in, nil)
	}
	if in.Live == nil {
		return r, r.decide(ReadLive)
	}
	if !r.isLive(*in.Live) {
		return r.finishExternal(in, fmt.Sprintf("the active deployment changed after the plan was made: it is %s (%s), the plan started from %s. Run terraform plan again",
			in.Live.ID, in.Live.Versions.Short(), r.plan.From.Short()))
	}
	return r.enter(0, in)
}

// enter starts path entry i: a hold of the live split, or a write.
func (r Run) enter(i int, in Input) (Run, Decision) {
	r.idx = i
	s := r.plan.Path[i]
	if s.Kind == StepHold {
		r.step = s.Step
		r.entered = r.plan.cur.StepStartedAt
		if r.entered.IsZero() {
			r.entered = r.began
		}
		r.fullEnd = r.entered.Add(s.FullHold)
		r.holdEnd = minTime(r.fullEnd, r.began.Add(s.Hold))
		r.nextCheck = r.entered.Add(r.interval())
		r.st = stHold
		r, d := r.hold(Input{Now: in.Now})
		d.Logs = append([]string{fmt.Sprintf("%s: staying at %s %% %s", r.where(), formatPercent(s.Percent), r.holdText(in.Now))}, d.Logs...)
		return r, d
	}
	r.pending = r.plan.Split(s)
	r.pendingMarker, r.pendingMsg = r.marker(s)
	r.attempts, r.aborting = 0, false
	return r.write(in)
}

func (r Run) write(in Input) (Run, Decision) {
	r.st = stWrite
	if in.Cancelled && !r.aborting {
		return r.finishInterrupted(in, nil)
	}
	if in.Live == nil {
		return r, r.decide(ReadLive)
	}
	if !r.isLive(*in.Live) {
		if !r.aborting {
			return r.finishExternal(in, "")
		}
		if in.Live.Versions.Equal(r.pending) {
			// Someone else already put all traffic back on the stable version.
			r.live, r.liveID = in.Live.Versions.clone(), in.Live.ID
			return r.finishAborted(in.Now, in.Live.CreatedOn)
		}
		// A rollback does not wait for whoever changed the deployment: stable first.
		r.live, r.liveID = in.Live.Versions.clone(), in.Live.ID
	}
	r.st = stWriting
	r.attempts++
	d := r.decide(Write)
	d.Split, d.Message = r.pending.clone(), r.pendingMsg
	return r, d
}

func (r Run) written(in Input) (Run, Decision) {
	if in.Live != nil && in.Live.Versions.Equal(r.pending) && in.Live.Message == r.pendingMsg {
		at := in.Live.CreatedOn
		if at.IsZero() {
			at = in.Now
		}
		r.live, r.liveID, r.wrote = r.pending, in.Live.ID, true
		if r.aborting {
			return r.finishAborted(in.Now, at)
		}
		return r.landed(in, at)
	}
	if in.Err != nil || (in.Live != nil && r.attempts >= maxWriteAttempts) {
		if r.aborting {
			return r.finishRollbackFailed(in)
		}
		return r.finishInterrupted(in, in.Err)
	}
	if in.Live == nil {
		return r, r.decide(ReadLive)
	}
	if !r.isLive(*in.Live) && !r.aborting {
		return r.finishExternal(in, "")
	}
	// The write did not land (the deployment is as before): write again.
	return r.write(in)
}

// landed starts the hold of the path entry whose split has just been written at at.
func (r Run) landed(in Input, at time.Time) (Run, Decision) {
	s := r.plan.Path[r.idx]
	r.step = s.Step
	r.entered = at
	r.fullEnd = at.Add(s.FullHold)
	r.holdEnd = at.Add(s.Hold)
	r.nextCheck = at.Add(r.interval())
	var ev []Event
	switch {
	case r.idx == 0 && (r.plan.Kind == KindStart || r.plan.Kind == KindRetry || r.plan.Kind == KindSupersede):
		ev = append(ev, r.event(EventStarted, in.Now, ""))
	case s.Kind == StepShift || s.Kind == StepPreview:
		ev = append(ev, r.event(EventProgress, in.Now, ""))
	}
	var log string
	switch s.Kind {
	case StepRollback, StepAbort:
		log = fmt.Sprintf("%s: all traffic back on %s", r.where(), ShortID(r.plan.Stable))
	case StepPromote:
		log = fmt.Sprintf("%s: 100 %% → %s, promoted", r.where(), ShortID(r.plan.Candidate))
	case StepPreview:
		log = fmt.Sprintf("%s: %s at 0 %%, reachable only with the Cloudflare-Workers-Version-Overrides header", r.where(), ShortID(r.plan.Candidate))
	default:
		log = fmt.Sprintf("%s: %s %% → %s (%s)", r.where(), formatPercent(s.Percent), ShortID(r.plan.Candidate), r.live.Short())
	}
	if s.Hold > 0 {
		log += ", " + r.holdText(in.Now)
	}
	r.st = stHold
	r, d := r.hold(Input{Now: in.Now, Live: in.Live})
	d.Logs = append([]string{log}, d.Logs...)
	d.Events = append(ev, d.Events...)
	return r, d
}

func (r Run) hold(in Input) (Run, Decision) {
	if in.Cancelled {
		return r.finishInterrupted(in, nil)
	}
	if in.Live != nil && !r.isLive(*in.Live) {
		return r.finishExternal(in, "")
	}
	s := r.plan.Path[r.idx]
	now := in.Now
	due := !now.Before(r.holdEnd)
	if s.Checks && (!now.Before(r.nextCheck) || (due && r.lastCheck.Before(r.holdEnd))) {
		r.st = stCheck
		return r, r.analyse(now)
	}
	if due {
		return r.advance(in)
	}
	d := r.decide(Wait)
	d.Until = r.holdEnd
	if s.Checks && r.nextCheck.Before(d.Until) {
		d.Until = r.nextCheck
	}
	return r, d
}

func (r Run) analyse(now time.Time) Decision {
	d := r.decide(Analyse)
	d.Window = AnalysisWindow(r.entered, now, r.cfg.Analysis.Delay)
	d.Stable, d.Candidate = r.plan.Stable, r.plan.Candidate
	d.CandidatePercent = r.live.Percent(r.plan.Candidate)
	d.Probe = r.cfg.Analysis.Probe != nil
	d.Final = !now.Before(r.fullEnd)
	return d
}

func (r Run) check(in Input) (Run, Decision) {
	if in.Live != nil && !r.isLive(*in.Live) {
		return r.finishExternal(in, "")
	}
	var v Verdict
	switch {
	case in.Evidence != nil:
		e := *in.Evidence
		e.CandidatePercent = r.live.Percent(r.plan.Candidate)
		v = Evaluate(*r.cfg.Analysis, e)
	case in.Cancelled:
		return r.finishInterrupted(in, nil)
	case in.Err != nil:
		v = Verdict{Result: Inconclusive, Summary: "analysis data unavailable: " + in.Err.Error()}
	default:
		return r, r.analyse(in.Now)
	}
	if in.Cancelled && (v.Result != Fail || r.failures+1 < r.cfg.Analysis.FailureLimit) {
		// Cancelled with the evidence in hand: record it and stop, unless it fails the
		// rollout, which rolls back first.
		r.analysis = v.Summary
		return r.withVerdict(v, "")(r.finishInterrupted(in, nil))
	}
	now := in.Now
	r.analysis, r.lastCheck = v.Summary, now
	final := !now.Before(r.fullEnd)
	due := !now.Before(r.holdEnd)
	a := r.cfg.Analysis
	var log string
	switch v.Result {
	case Fail:
		r.failures++
		if r.failures >= a.FailureLimit {
			return r.withVerdict(v, "")(r.fail(in, v))
		}
		log = fmt.Sprintf("%s: check failed (%d of failure_limit %d): %s", r.where(), r.failures, a.FailureLimit, v.Summary)
		if final && due {
			// A hold does not end on a failed check: it runs one more interval.
			r.holdEnd = now.Add(a.Interval)
			r.fullEnd = r.holdEnd
		}
	case Inconclusive:
		if final && due {
			switch a.Inconclusive {
			case InconclusiveFail:
				r.failures = max(r.failures+1, a.FailureLimit)
				return r.withVerdict(v, "")(r.fail(in, v))
			case InconclusivePause:
				return r.withVerdict(v, "")(r.finishInconclusive(in, v))
			}
			log = fmt.Sprintf("%s: inconclusive (%s); analysis.inconclusive = \"pass\" moves on", r.where(), v.Summary)
		}
	}
	r.nextCheck = now.Add(a.Interval)
	if log == "" {
		log = fmt.Sprintf("%s at %s %%: %s", r.where(), formatPercent(r.live.Percent(r.plan.Candidate)), v.Summary)
		if !due {
			log += ", " + r.holdText(now)
		}
	}
	r.st = stHold
	return r.withVerdict(v, log)(r.hold(Input{Now: now, Live: in.Live}))
}

// withVerdict attaches a recorded verdict (and a log line) to a decision.
func (r Run) withVerdict(v Verdict, log string) func(Run, Decision) (Run, Decision) {
	return func(r Run, d Decision) (Run, Decision) {
		d.Verdict = &v
		if log != "" {
			d.Logs = append([]string{log}, d.Logs...)
		}
		return r, d
	}
}

func (r Run) advance(in Input) (Run, Decision) {
	if r.idx+1 >= len(r.plan.Path) {
		return r.finishPlanned(in.Now)
	}
	return r.enter(r.idx+1, Input{Now: in.Now, Live: in.Live})
}

// fail handles a rollout whose checks failed: roll back, or pause (on_failure = "pause").
func (r Run) fail(in Input, v Verdict) (Run, Decision) {
	r.failedAt, r.failed = v.Summary, &v
	failedLog := fmt.Sprintf("%s: check failed (%d of failure_limit %d): %s", r.where(), r.failures, r.cfg.Analysis.FailureLimit, v.Summary)
	if r.cfg.OnFailure == OnFailurePause {
		r, d := r.finishPaused(in.Now, ReasonFailed, fmt.Sprintf("the analysis of %s failed at step %d: %s; on_failure = \"pause\" left traffic at %s",
			ShortID(r.plan.Candidate), r.step, v.Summary, r.live.Short()), SeverityError, "Rollout failed and is paused")
		d.Logs = append([]string{failedLog}, d.Logs...)
		r.final = d
		return r, d
	}
	r.aborting, r.attempts = true, 0
	r.pending = Only(r.plan.Stable)
	r.pendingMarker = Marker{ID: r.plan.RolloutID, Step: r.step, Phase: PhaseAborted}
	r.pendingMsg = r.pendingMarker.Message(fmt.Sprintf("servicesdo: %s failed at step %d, back to %s", ShortID(r.plan.Candidate), r.step, ShortID(r.plan.Stable)))
	r, d := r.write(Input{Now: in.Now, Live: in.Live})
	d.Logs = append([]string{failedLog + "; rolling back to " + ShortID(r.plan.Stable)}, d.Logs...)
	return r, d
}

// marker is the marker and message a path entry's write carries.
func (r Run) marker(s PathStep) (Marker, string) {
	c, st := ShortID(r.plan.Candidate), ShortID(r.plan.Stable)
	m := Marker{ID: r.plan.RolloutID, Step: s.Step, Phase: PhaseProgressing}
	var note string
	switch s.Kind {
	case StepPreview:
		m.Phase, note = PhasePreviewing, fmt.Sprintf("servicesdo %s: preview of %s at 0 %%", r.plan.Strategy, c)
	case StepPromote:
		m.Phase, note = PhasePromoted, fmt.Sprintf("servicesdo: %s promoted to 100 %%", c)
	case StepRollback:
		m.Phase, note = PhaseStable, fmt.Sprintf("servicesdo: rolled back to %s", st)
	case StepAbort:
		m.Phase, note = PhaseAborted, fmt.Sprintf("servicesdo: %s failed at step %d, back to %s", ShortID(r.plan.cur.Candidate), s.Step, st)
	default:
		note = fmt.Sprintf("servicesdo %s: step %d/%d, %s %% to %s", r.plan.Strategy, s.Step, r.plan.Steps, formatPercent(s.Percent), c)
	}
	return m, m.Message(note)
}

func (r Run) isLive(d Deployment) bool {
	return d.Versions.Equal(r.live) && (r.liveID == "" || d.ID == r.liveID)
}

func (r Run) interval() time.Duration {
	if r.cfg.Analysis == nil {
		return 0
	}
	return r.cfg.Analysis.Interval
}

// where names the step whose split is live, for logs.
func (r Run) where() string { return fmt.Sprintf("step %d/%d", r.step, r.plan.Steps) }

func (r Run) holdText(now time.Time) string {
	left := r.holdEnd.Sub(now)
	if left <= 0 {
		return "hold done"
	}
	return "holding " + formatDuration(left)
}

func (r Run) decide(k DecisionKind) Decision { return Decision{Kind: k, Status: r.status()} }

// status is the rollout's position as far as the run knows it.
func (r Run) status() Status {
	cur := r.plan.cur
	if !r.wrote {
		st := cur
		st.FailedChecks, st.LastAnalysis = r.failures, r.analysis
		return st
	}
	st := Status{
		Phase: PhaseProgressing, Step: r.step, Stable: r.plan.Stable, Candidate: r.plan.Candidate, Previous: cur.Previous,
		Traffic: r.live.clone(), StepStartedAt: r.entered, DeploymentID: r.liveID, RolloutID: r.plan.RolloutID,
		FailedChecks: r.failures, LastAnalysis: r.analysis,
	}
	if r.live.Percent(r.plan.Candidate) == 0 && r.live.Has(r.plan.Candidate) {
		st.Phase = PhasePreviewing
	}
	return st
}

func (r Run) event(kind EventKind, at time.Time, detail string) Event {
	st := r.status()
	return Event{
		Kind: kind, RolloutID: r.plan.RolloutID, Stable: r.plan.Stable, Candidate: r.plan.Candidate,
		Step: r.step, Steps: r.plan.Steps, Traffic: r.live.clone(), Phase: st.Phase, Reason: st.Reason,
		Detail: detail, Analysis: r.analysis, At: at,
	}
}

func (r Run) finish(st Status, o Outcome, at time.Time, events ...Event) (Run, Decision) {
	r.st = stDone
	d := Decision{Kind: Finish, Status: st, Outcome: o, Events: events}
	d.Logs = []string{o.Summary + ": " + o.Detail}
	for i := range d.Events {
		d.Events[i].Phase, d.Events[i].Reason, d.Events[i].At = st.Phase, st.Reason, at
	}
	r.final = d
	return r, d
}

func (r Run) finishPlanned(now time.Time) (Run, Decision) {
	st := r.plan.Expect
	if r.wrote || r.idx >= 0 {
		st.StepStartedAt, st.DeploymentID = r.entered, r.liveID
		if !r.wrote {
			st.StepStartedAt = r.plan.cur.StepStartedAt
		}
	}
	st.FailedChecks, st.LastAnalysis = r.failures, r.analysis
	o := Outcome{AsPlanned: true}
	var ev []Event
	switch st.Phase {
	case PhasePromoted:
		o.Summary, o.Detail = "Rollout complete", fmt.Sprintf("%s has 100 %% of the traffic and is the stable version", st.Stable)
		ev = append(ev, r.event(EventCompleted, now, st.Detail))
	case PhasePaused:
		o.Severity, o.Summary, o.Detail = SeverityWarning, "Rollout paused", capitalize(st.Detail)
		ev = append(ev, r.event(EventPaused, now, st.Detail))
	case PhaseAborted:
		o.Severity, o.Summary, o.Detail = SeverityWarning, "Rollout aborted", capitalize(st.Detail)
		ev = append(ev, r.event(EventRolledBack, now, st.Detail))
	default:
		o.Summary, o.Detail = "Deployment settled", capitalize(st.Detail)
		if r.plan.Kind == KindRollback {
			o.Summary = "Rolled back"
			ev = append(ev, r.event(EventRolledBack, now, st.Detail))
		}
	}
	if len(r.plan.Path) == 0 {
		ev = nil
	}
	st.Traffic = st.Traffic.clone()
	return r.finish(st, o, now, ev...)
}

// pausedHere is the status of a rollout that stops where it is.
func (r Run) pausedHere(reason Reason, detail string) Status {
	st := r.status()
	if r.wrote || len(st.Traffic) == 2 {
		st.Phase, st.Reason = PhasePaused, reason
	}
	st.Detail = detail
	return st
}

func (r Run) finishPaused(now time.Time, reason Reason, detail string, sev Severity, summary string) (Run, Decision) {
	st := r.pausedHere(reason, detail)
	return r.finish(st, Outcome{Severity: sev, Summary: summary, Detail: capitalize(detail) + "."}, now, r.event(EventPaused, now, detail))
}

func (r Run) finishInterrupted(in Input, err error) (Run, Decision) {
	detail := fmt.Sprintf("the apply stopped at %s (%s): traffic was left as it is, the state records the position, and the next apply resumes from it", r.where(), r.live.Short())
	if !r.wrote {
		detail = fmt.Sprintf("the apply stopped before it changed the deployment (%s); the next apply starts again", r.live.Short())
	}
	if err != nil {
		detail = err.Error() + ": " + detail
	}
	st := r.pausedHere(ReasonInterrupted, detail)
	if !r.wrote && len(r.plan.cur.Traffic) != 2 {
		st.Detail = r.plan.cur.Detail // nothing changed: the status stands as it was
	}
	return r.finish(st, Outcome{Severity: SeverityError, Summary: "Rollout interrupted", Detail: capitalize(detail) + "."}, in.Now, r.event(EventPaused, in.Now, detail))
}

func (r Run) finishExternal(in Input, why string) (Run, Decision) {
	prior := r.status()
	if r.wrote || len(prior.Traffic) == 2 {
		prior.Phase = PhasePaused
	}
	st, err := Observe(*in.Live, prior)
	if err != nil {
		st = prior
	}
	if st.Phase != PhasePaused || st.Reason != ReasonExternalChange {
		// The deployment that appeared is a rollout marker of its own (another apply).
		st.Phase, st.Reason = PhasePaused, ReasonExternalChange
	}
	if why == "" {
		why = fmt.Sprintf("the active deployment changed outside this apply: it is %s (%s), this apply had %s", in.Live.ID, in.Live.Versions.Short(), r.live.Short())
	}
	st.Detail = why
	r.live, r.liveID = in.Live.Versions.clone(), in.Live.ID
	return r.finish(st, Outcome{Severity: SeverityError, Summary: "Deployment changed outside Terraform", Detail: capitalize(why) + ". Nothing was written over it; the state records the deployment as it is."},
		in.Now, r.event(EventPaused, in.Now, why))
}

func (r Run) finishInconclusive(in Input, v Verdict) (Run, Decision) {
	detail := fmt.Sprintf("the hold of step %d ended without enough data (%s); analysis.inconclusive = \"pause\" keeps traffic at %s, and the next apply checks again",
		r.step, v.Summary, r.live.Short())
	return r.finishPaused(in.Now, ReasonInconclusive, detail, SeverityError, "Rollout paused: analysis inconclusive")
}

func (r Run) finishAborted(now, at time.Time) (Run, Decision) {
	r.wrote, r.entered = true, at
	st := Status{
		Phase: PhaseAborted, Step: r.step, Stable: r.plan.Stable, Candidate: r.plan.Candidate, Previous: r.plan.cur.Previous,
		Traffic: r.live.clone(), StepStartedAt: at, DeploymentID: r.liveID, RolloutID: r.plan.RolloutID,
		FailedChecks: r.failures, LastAnalysis: r.analysis,
	}
	st.Detail = fmt.Sprintf("rollout of %s aborted at step %d: %s; all traffic is back on %s", ShortID(r.plan.Candidate), r.step, r.failedAt, ShortID(r.plan.Stable))
	limit := 1
	if r.cfg.Analysis != nil {
		limit = r.cfg.Analysis.FailureLimit
	}
	detail := fmt.Sprintf("At step %d the analysis of %s failed: %s (failed checks: %d, failure_limit %d). All traffic is back on %s, and the state records the aborted rollout. "+
		"To retry, change retry_token; to stay on %s, set version_id = %q; or set a new version_id.",
		r.step, r.plan.Candidate, r.failedAt, r.failures, limit, r.plan.Stable, r.plan.Stable, r.plan.Stable)
	r, d := r.finish(st, Outcome{Severity: SeverityError, Summary: "Rollout failed and was rolled back", Detail: detail}, now, r.event(EventRolledBack, now, st.Detail))
	d.Verdict = r.failed
	r.final = d
	return r, d
}

func (r Run) finishRollbackFailed(in Input) (Run, Decision) {
	why := "the platform did not take the deployment"
	if in.Err != nil {
		why = in.Err.Error()
	}
	if in.Live != nil {
		r.live, r.liveID = in.Live.Versions.clone(), in.Live.ID
	}
	detail := fmt.Sprintf("the analysis of %s failed at step %d (%s) and rolling back to %s failed: %s; traffic is still %s, and the next apply finishes the rollback",
		ShortID(r.plan.Candidate), r.step, r.failedAt, ShortID(r.plan.Stable), why, r.live.Short())
	return r.finishPaused(in.Now, ReasonFailed, detail, SeverityError, "Rollout failed and the rollback did not complete")
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
