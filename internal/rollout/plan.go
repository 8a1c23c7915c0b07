package rollout

import (
	"fmt"
	"strings"
	"time"
)

// Kind is what an apply will do, as its plan decides.
type Kind string

// Plan kinds (the T-numbers are the transitions of the state machine in doc.go).
const (
	// KindNoChange: nothing to do (settled on the target, waiting at a gate, or aborted and not
	// retried); the resource keeps the state as it is, so the plan is empty.
	KindNoChange Kind = "no_change"
	// KindStart: a new rollout of the target over the stable version (T1, T16 re-assert).
	KindStart Kind = "start"
	// KindResume: continue the rollout in flight (T4 approval, T10 after a pause, T16).
	KindResume Kind = "resume"
	// KindSupersede: a new target replaces the in-flight candidate, from step 1 (T12).
	KindSupersede Kind = "supersede"
	// KindRetry: a changed retry_token restarts an aborted or failed rollout from step 1 (T15).
	KindRetry Kind = "retry"
	// KindRollback: the target is the stable (or the previous stable) version: all traffic to
	// it in one write, no steps (T11, T14).
	KindRollback Kind = "rollback"
	// KindAbort: finish a rollback that a failed check started but could not write (T5).
	KindAbort Kind = "abort"
	// KindAdopt: the active deployment already serves the target at 100 %; record it.
	KindAdopt Kind = "adopt"
)

// StepKind says what one entry of a planned path does.
type StepKind string

// Path entry kinds.
const (
	// StepHold: the live split stays; finish its hold (and its checks), no write.
	StepHold StepKind = "hold"
	// StepPreview: the candidate at 0 %, reachable only with the version-override header.
	StepPreview StepKind = "preview"
	// StepShift: the candidate at Percent.
	StepShift StepKind = "shift"
	// StepPromote: the candidate at 100 %; it becomes the stable version.
	StepPromote StepKind = "promote"
	// StepRollback: the stable version at 100 % at once.
	StepRollback StepKind = "rollback"
	// StepAbort: the stable version at 100 %, recorded as an aborted rollout.
	StepAbort StepKind = "abort"
)

// PathStep is one split an apply walks.
type PathStep struct {
	// Step is the stage's number (see Stage.Step).
	Step int
	Kind StepKind
	// Percent is the candidate's share during the entry.
	Percent float64
	// Gate is set when entering needed a manual approval (which approved_through_step gives).
	Gate bool
	// Hold is how long this apply holds here; HoldLeft is what a later apply still holds
	// (max_apply_duration ended this one); FullHold is the configured hold.
	Hold, HoldLeft, FullHold time.Duration
	// At estimates when the entry starts, from the start of the apply.
	At time.Duration
	// Checks is set when the analysis runs during the hold and at its end.
	Checks bool
}

// Writes reports whether the entry writes a new deployment.
func (s PathStep) Writes() bool { return s.Kind != StepHold }

// String describes the entry in one line, for plans: "step 2: 25 %, hold 5m, checked".
func (s PathStep) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "step %d: ", s.Step)
	switch s.Kind {
	case StepHold:
		fmt.Fprintf(&b, "stay at %s %%", formatPercent(s.Percent))
	case StepPreview:
		b.WriteString("preview at 0 % (version-override header only)")
	case StepPromote:
		b.WriteString("100 %, promote")
	case StepRollback:
		b.WriteString("all traffic back to the stable version")
	case StepAbort:
		b.WriteString("all traffic back to the stable version (abort)")
	default:
		fmt.Fprintf(&b, "%s %%", formatPercent(s.Percent))
	}
	if s.Gate {
		b.WriteString(", gate approved")
	}
	if s.Hold > 0 || s.HoldLeft > 0 {
		fmt.Fprintf(&b, ", hold %s", formatDuration(s.Hold))
		if s.HoldLeft > 0 {
			fmt.Fprintf(&b, " (%s left for the next apply)", formatDuration(s.HoldLeft))
		}
	}
	if s.Checks {
		b.WriteString(", checked")
	}
	return b.String()
}

// Plan is what one apply will do, decided at plan time from the configuration, the status
// in state and the clock. Its Path and Expect are known before the apply starts, so the
// resource shows them in the plan (planned_path, traffic, phase), and the apply walks exactly
// that path: only a failed check, an interrupt or an external change makes the result differ.
type Plan struct {
	Kind     Kind
	Strategy Strategy
	// Stable is listed first in every split; Candidate is the target ("" when not known until
	// apply).
	Stable, Candidate string
	// RolloutID is the id the path's markers carry.
	RolloutID string
	// From is the traffic when the plan was made; the apply refuses to start from another.
	From Split
	Path []PathStep
	// Expect is the status after the apply if every check passes (clock fields zero).
	Expect Status
	// Duration is the sum of the holds in Path.
	Duration time.Duration
	// Steps is the number of stages of the configured rollout, the promotion included.
	Steps int
	// Warnings are things the plan should say: gates awaiting approval, a budget that stops
	// this apply, a failed rollout that is not retried, a candidate being superseded.
	Warnings []string

	cfg Config
	cur Status
}

// Split is the traffic while entry s of the plan's path holds.
func (p Plan) Split(s PathStep) Split {
	switch s.Kind {
	case StepHold:
		return p.From.clone()
	case StepRollback, StepAbort:
		return Only(p.Stable)
	case StepPromote:
		return Only(p.Candidate)
	default:
		return TwoWay(p.Stable, p.Candidate, s.Percent)
	}
}

// PlanApply decides what the next apply does. cfg must have passed Validate; cur is the
// status Observe rebuilt (Read), or the status in state; now is the plan's clock, which the
// resource keeps (in private state) so that the apply computes the same plan.
func PlanApply(cfg Config, cur Status, now time.Time) Plan {
	cfg = cfg.withDefaults()
	b := &planner{cfg: cfg, cur: cur, now: now, stages: Stages(cfg)}
	b.p = Plan{Strategy: cfg.Strategy, Candidate: cfg.Target, From: cur.Traffic.clone(), Steps: len(b.stages), cfg: cfg, cur: cur}
	b.decide()
	writes := false
	for _, s := range b.p.Path {
		b.p.Duration += s.Hold
		writes = writes || s.Writes()
	}
	if !writes && b.p.Kind != KindNoChange {
		b.p.Expect.RolloutID = cur.RolloutID // no new marker is written
	}
	if b.p.Kind != KindNoChange && len(b.p.Path) == 0 && sameVisible(b.p.Expect, cur) {
		b.p.Kind, b.p.Expect = KindNoChange, cur
	}
	return b.p
}

type planner struct {
	cfg    Config
	cur    Status
	now    time.Time
	stages []Stage
	p      Plan
}

func (b *planner) isTarget(v string) bool { return v != "" && v == b.cfg.Target }

func (b *planner) decide() {
	cur := b.cur
	switch {
	case cur.Phase.settled():
		switch {
		case b.isTarget(cur.Stable):
			b.noChange()
		case b.isTarget(cur.Previous):
			b.rollback(cur.Previous, cur.Stable, cur.Stable, "fast rollback to the previous stable version")
		default:
			b.start(cur.Stable, KindStart)
		}
	case cur.Phase == PhaseAborted:
		s := cur.Stable
		switch {
		case b.isTarget(s):
			b.rollback(s, cur.Candidate, cur.Previous, "the aborted rollout is abandoned")
		case b.cfg.Target != "" && SameRollout(cur.RolloutID, RolloutID(s, b.cfg.Target, "")):
			if cur.RolloutID == RolloutID(s, b.cfg.Target, b.cfg.RetryToken) {
				b.noChange(fmt.Sprintf("The rollout of %s was aborted at step %d (%s); all traffic is on %s. "+
					"Change retry_token to retry it from step 1, set version_id to %s to stay on it, or set a new version_id.",
					b.cfg.Target, cur.Step, detailOr(cur), s, s))
				return
			}
			b.start(s, KindRetry)
		default:
			b.start(s, KindStart)
		}
	case len(cur.Traffic) == 1:
		// Paused with one version: before the first step (its gate), or an external change.
		x := cur.Traffic[0].VersionID
		switch {
		case b.isTarget(x):
			b.adopt(x)
		case cur.Reason == ReasonGate && b.isTarget(cur.Candidate) && x == cur.Stable:
			b.start(x, KindResume)
		default:
			b.start(x, KindStart)
			if cur.Reason == ReasonExternalChange {
				b.warn(capitalize(cur.Detail) + ".")
			}
		}
	default:
		s, c := cur.Stable, cur.Candidate
		switch {
		case b.isTarget(s):
			b.rollback(s, c, cur.Previous, "fast rollback: the target is the stable version")
		case !b.isTarget(c):
			b.start(s, KindSupersede)
			b.warn(fmt.Sprintf("%s replaces the in-flight candidate %s, which leaves the deployment (a deployment holds at most two versions); "+
				"the rollout of the new version starts at the first step.", targetName(b.cfg.Target), c))
		case cur.Reason == ReasonFailed:
			switch {
			case cur.RolloutID != RolloutID(s, c, b.cfg.RetryToken):
				b.start(s, KindRetry)
			case b.cfg.OnFailure == OnFailureRollback:
				b.abort()
			default:
				b.noChange(fmt.Sprintf("The analysis of %s failed at step %d (%s) and on_failure = \"pause\" left traffic at %s. "+
					"Change retry_token to retry from step 1, set version_id to %s to roll back, or set a new version_id.",
					c, cur.Step, detailOr(cur), cur.Traffic, s))
			}
		default:
			b.resume()
		}
	}
}

func (b *planner) warn(w string) { b.p.Warnings = append(b.p.Warnings, w) }

func (b *planner) noChange(warnings ...string) {
	b.p.Kind, b.p.Expect, b.p.Stable, b.p.RolloutID = KindNoChange, b.cur, b.cur.Stable, b.cur.RolloutID
	b.p.Candidate = b.cur.Candidate
	b.p.Warnings = append(b.p.Warnings, warnings...)
}

// start plans a rollout of the target over stable from its first stage.
func (b *planner) start(stable string, kind Kind) {
	b.p.Kind, b.p.Stable = kind, stable
	b.p.RolloutID = RolloutID(stable, b.cfg.Target, b.cfg.RetryToken)
	if kind != KindResume && b.cur.Candidate != b.cfg.Target {
		for _, s := range b.stages {
			if s.Gate && s.Step <= b.cfg.ApprovedThroughStep {
				b.warn(fmt.Sprintf("approved_through_step = %d already approves the manual gate of step %d for this new rollout of %s; "+
					"if that approval was meant for an earlier version, lower approved_through_step together with version_id.",
					b.cfg.ApprovedThroughStep, s.Step, targetName(b.cfg.Target)))
				break
			}
		}
	}
	b.walk(0, 0)
}

// resume plans the rest of the rollout in flight, starting with the rest of the live split's
// hold: its remaining time, or (off the configured path, or once the hold is over) one check
// before traffic moves again.
func (b *planner) resume() {
	cur := b.cur
	b.p.Kind, b.p.Stable = KindResume, cur.Stable
	b.p.RolloutID = RolloutID(cur.Stable, cur.Candidate, b.cfg.RetryToken)
	pct := cur.Traffic.Percent(cur.Candidate)
	hold := PathStep{Kind: StepHold, Percent: pct}
	next := -1
	for i, s := range b.stages {
		if s.Step == cur.Step && float64(s.Percent) == pct && !s.Promotion() {
			remaining := s.Hold - b.now.Sub(cur.StepStartedAt)
			hold.Step, hold.FullHold, hold.Hold = s.Step, s.Hold, min(max(remaining, 0), s.Hold)
			next = i + 1
			break
		}
	}
	if next < 0 { // off the configured path: continue with the first stage above the live share
		next = len(b.stages) - 1
		for i, s := range b.stages {
			if float64(s.Percent) > pct {
				next = i
				break
			}
			hold.Step = s.Step
		}
	}
	hold.Checks = b.checks(pct, false)
	if budget := b.cfg.MaxApplyDuration; budget > 0 && hold.Hold > budget {
		hold.HoldLeft, hold.Hold = hold.Hold-budget, budget
	}
	if hold.Hold > 0 || hold.Checks {
		b.p.Path = append(b.p.Path, hold)
	}
	if hold.HoldLeft > 0 {
		b.endPaused(ReasonBudget, fmt.Sprintf("max_apply_duration (%s) ends this apply during the hold of step %d (%s of it left); the next apply continues it",
			formatDuration(b.cfg.MaxApplyDuration), hold.Step, formatDuration(hold.HoldLeft)))
		return
	}
	if b.walk(next, hold.Hold) > 0 || hold.Hold > 0 {
		return
	}
	// Nothing moves: the next stage waits at its gate and the live split has held, so a check
	// would change nothing. A pause for the gate (or for an unresolved check) stays as it is;
	// any other pause only records that the rollout now waits at the gate.
	b.p.Path = nil
	b.p.Expect.DeploymentID, b.p.Expect.StepStartedAt, b.p.Expect.RolloutID = cur.DeploymentID, cur.StepStartedAt, cur.RolloutID
	b.p.Expect.LastAnalysis = cur.LastAnalysis
	if cur.Reason == ReasonGate || cur.Reason == ReasonInconclusive {
		warnings := b.p.Warnings
		b.noChange()
		b.p.Warnings = warnings
	}
}

// walk appends the stages from index i on, as far as the gates and the budget allow, and
// sets the expected end; elapsed is the hold already planned. It returns how many stages it
// entered. A stage is entered only when its whole hold fits in what is left of
// max_apply_duration, except a hold longer than the whole budget, which the first stage of an
// apply may start (it continues on the next applies, counted from when its split was set).
func (b *planner) walk(i int, elapsed time.Duration) int {
	budget := b.cfg.MaxApplyDuration
	entered := 0
	for ; i < len(b.stages); i++ {
		s := b.stages[i]
		if s.Gate && b.cfg.ApprovedThroughStep < s.Step {
			b.endPaused(ReasonGate, b.gateDetail(s))
			return entered
		}
		hold, left := s.Hold, time.Duration(0)
		if budget > 0 && elapsed+hold > budget {
			if entered > 0 || hold <= budget || elapsed >= budget {
				b.endPaused(ReasonBudget, fmt.Sprintf("max_apply_duration (%s) ends this apply before step %d (%d %%, hold %s); the next apply continues with it",
					formatDuration(budget), s.Step, s.Percent, formatDuration(s.Hold)))
				return entered
			}
			left, hold = hold-(budget-elapsed), budget-elapsed
		}
		b.p.Path = append(b.p.Path, PathStep{
			Step: s.Step, Kind: stageKind(s), Percent: float64(s.Percent), Gate: s.Gate,
			Hold: hold, HoldLeft: left, FullHold: s.Hold, At: elapsed, Checks: b.checks(float64(s.Percent), s.Promotion()),
		})
		elapsed += hold
		entered++
		if left > 0 {
			b.endPaused(ReasonBudget, fmt.Sprintf("max_apply_duration (%s) ends this apply during the hold of step %d (%s of it left); the next apply continues it",
				formatDuration(budget), s.Step, formatDuration(left)))
			return entered
		}
	}
	b.endPromoted()
	return entered
}

func stageKind(s Stage) StepKind {
	switch {
	case s.Promotion():
		return StepPromote
	case s.Percent == 0:
		return StepPreview
	}
	return StepShift
}

// checks reports whether the analysis runs at a split where the candidate has percent %.
// Metrics need the candidate to serve traffic; probes reach it through the override header.
func (b *planner) checks(percent float64, promotion bool) bool {
	a := b.cfg.Analysis
	if a == nil || promotion || b.cfg.Strategy == StrategyImmediate {
		return false
	}
	return a.Probe != nil || (percent > 0 && (a.ErrorRate != nil || a.P99LatencyMs != nil))
}

func (b *planner) gateDetail(s Stage) string {
	if s.Promotion() {
		return fmt.Sprintf("awaiting approval to switch all traffic to %s: set approved_through_step = %d", targetName(b.cfg.Target), s.Step)
	}
	return fmt.Sprintf("awaiting approval to enter step %d (%d %%): set approved_through_step = %d", s.Step, s.Percent, s.Step)
}

// last is the step and split where the path ends (the live ones for an empty path).
func (b *planner) last() (int, Split) {
	if n := len(b.p.Path); n > 0 {
		return b.p.Path[n-1].Step, b.p.Split(b.p.Path[n-1])
	}
	if b.cur.Phase == PhasePaused && len(b.cur.Traffic) == 2 {
		return b.cur.Step, b.p.From.clone()
	}
	return 0, b.p.From.clone()
}

func (b *planner) endPaused(reason Reason, detail string) {
	step, traffic := b.last()
	b.p.Expect = Status{
		Phase: PhasePaused, Reason: reason, Step: step, Stable: b.p.Stable, Candidate: b.cfg.Target,
		Previous: b.cur.Previous, Traffic: traffic, RolloutID: b.p.RolloutID, Detail: detail,
		FailedChecks: b.carriedFailures(),
	}
	if len(b.p.Path) == 0 {
		b.p.Expect.DeploymentID, b.p.Expect.StepStartedAt = b.cur.DeploymentID, b.cur.StepStartedAt
	}
	b.warn(capitalize(detail) + ".")
}

// carriedFailures is the failed-check count the rollout keeps: a resumed rollout keeps its
// count, a new attempt starts from zero.
func (b *planner) carriedFailures() int {
	if b.p.Kind == KindResume {
		return b.cur.FailedChecks
	}
	return 0
}

func (b *planner) endPromoted() {
	t := b.cfg.Target
	b.p.Expect = Status{
		Phase: PhasePromoted, Step: b.stages[len(b.stages)-1].Step, Stable: t, Previous: b.p.Stable,
		Traffic: Only(t), RolloutID: b.p.RolloutID, Detail: fmt.Sprintf("%s promoted to 100 %%", ShortID(t)),
		FailedChecks: b.carriedFailures(),
	}
}

// rollback plans all traffic to version in one write; left is the version being left (it
// names the marker's rollout) and previous the version to record as Previous.
func (b *planner) rollback(version, left, previous, why string) {
	b.p.Kind, b.p.Stable, b.p.Candidate = KindRollback, version, ""
	b.p.RolloutID = RolloutID(version, left, b.cfg.RetryToken)
	b.p.Path = []PathStep{{Step: 0, Kind: StepRollback}}
	b.p.Expect = Status{
		Phase: PhaseStable, Stable: version, Previous: previous, Traffic: Only(version), RolloutID: b.p.RolloutID,
		Detail: fmt.Sprintf("rolled back to %s (%s)", ShortID(version), why),
	}
}

// abort plans the rollback a failed check started and could not write.
func (b *planner) abort() {
	cur := b.cur
	b.p.Kind, b.p.Stable, b.p.RolloutID = KindAbort, cur.Stable, cur.RolloutID
	b.p.Path = []PathStep{{Step: cur.Step, Kind: StepAbort}}
	b.p.Expect = Status{
		Phase: PhaseAborted, Step: cur.Step, Stable: cur.Stable, Candidate: cur.Candidate, Previous: cur.Previous,
		Traffic: Only(cur.Stable), RolloutID: cur.RolloutID, FailedChecks: cur.FailedChecks, LastAnalysis: cur.LastAnalysis,
		Detail: fmt.Sprintf("rollout of %s aborted at step %d; all traffic is back on %s", ShortID(cur.Candidate), cur.Step, ShortID(cur.Stable)),
	}
	b.warn(fmt.Sprintf("The analysis of %s failed at step %d (%s); this apply finishes rolling back to %s.", cur.Candidate, cur.Step, detailOr(cur), cur.Stable))
}

func (b *planner) adopt(version string) {
	b.p.Kind, b.p.Stable, b.p.Candidate = KindAdopt, version, ""
	b.p.Expect = Status{
		Phase: PhaseStable, Stable: version, Previous: b.cur.Previous, Traffic: b.p.From.clone(),
		DeploymentID: b.cur.DeploymentID, StepStartedAt: b.cur.StepStartedAt,
		Detail: fmt.Sprintf("%s has 100 %% of the traffic (deployed outside this resource; adopted)", ShortID(version)),
	}
}

// sameVisible compares what a plan shows of two statuses.
func sameVisible(a, b Status) bool {
	return a.Phase == b.Phase && a.Reason == b.Reason && a.Step == b.Step && a.Stable == b.Stable &&
		a.Candidate == b.Candidate && a.Traffic.Equal(b.Traffic) && a.Detail == b.Detail
}

func detailOr(s Status) string {
	if s.LastAnalysis != "" {
		return s.LastAnalysis
	}
	if s.Detail != "" {
		return s.Detail
	}
	return "no details recorded"
}

func targetName(v string) string {
	if v == "" {
		return "the new version"
	}
	return v
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
