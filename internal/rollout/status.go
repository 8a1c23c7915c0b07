package rollout

import (
	"fmt"
	"time"
)

// Phase is where a rollout stands.
type Phase string

// Phases. Between applies a rollout rests in stable, promoted, paused or aborted; previewing
// and progressing exist only while an apply runs (a deployment marked with them and no apply
// running is an interrupted apply, which Observe reports as paused).
const (
	// PhaseStable: one version at 100 %, not reached by a rollout (adopted, or rolled back).
	PhaseStable Phase = "stable"
	// PhasePreviewing: blue/green candidate at 0 %, reachable only with the override header.
	PhasePreviewing Phase = "previewing"
	// PhaseProgressing: an apply is walking the steps.
	PhaseProgressing Phase = "progressing"
	// PhasePaused: a rollout rests between steps; Reason says why.
	PhasePaused Phase = "paused"
	// PhaseAborted: the analysis failed, traffic is back on the stable version, and the
	// configuration still asks for the failed candidate.
	PhaseAborted Phase = "aborted"
	// PhasePromoted: a rollout finished; the candidate has 100 % and is the new stable version.
	PhasePromoted Phase = "promoted"
)

var phases = []Phase{PhaseStable, PhasePreviewing, PhaseProgressing, PhasePaused, PhaseAborted, PhasePromoted}

func (p Phase) valid() bool {
	for _, v := range phases {
		if p == v {
			return true
		}
	}
	return false
}

// settled reports whether one version has all the traffic and no rollout is in flight.
func (p Phase) settled() bool { return p == PhaseStable || p == PhasePromoted || p == "" }

// Reason is why a rollout is paused.
type Reason string

// Pause reasons.
const (
	ReasonNone Reason = ""
	// ReasonGate: the next step has a manual gate that approved_through_step does not cover.
	ReasonGate Reason = "gate"
	// ReasonInconclusive: a hold ended without enough data and analysis.inconclusive = "pause".
	ReasonInconclusive Reason = "inconclusive"
	// ReasonBudget: max_apply_duration ended this apply; the next apply continues.
	ReasonBudget Reason = "budget"
	// ReasonInterrupted: the apply was cancelled or killed; traffic was left as it was.
	ReasonInterrupted Reason = "interrupted"
	// ReasonExternalChange: the active deployment was changed outside this resource.
	ReasonExternalChange Reason = "external_change"
	// ReasonFailed: the analysis failed and on_failure = "pause" (or the rollback could not
	// be written); traffic stays on the failing split.
	ReasonFailed Reason = "failed"
)

var reasons = []Reason{ReasonGate, ReasonInconclusive, ReasonBudget, ReasonInterrupted, ReasonExternalChange, ReasonFailed}

func (r Reason) valid() bool {
	for _, v := range reasons {
		if r == v {
			return true
		}
	}
	return false
}

// Deployment is a Workers deployment as the API returns it.
type Deployment struct {
	ID        string
	Versions  Split
	Message   string // the workers/message annotation
	CreatedOn time.Time
}

// Status is a rollout's position: what a resource keeps in state (phase, step,
// stable_version_id, reason, last_analysis, traffic) and what Observe rebuilds from the
// platform.
type Status struct {
	Phase  Phase
	Reason Reason // only when Phase is PhasePaused
	// Step is the step whose split is live (see Stage.Step).
	Step int
	// Stable is the version that had all the traffic before the rollout; it is listed first.
	Stable string
	// Candidate is the version being rolled out, or the failed one when aborted; "" when
	// settled, or when an aborted candidate is known only by the rollout id.
	Candidate string
	// Previous is the stable version before the last promotion: setting the target back to it
	// is a fast rollback (no steps).
	Previous string
	// Traffic is the active deployment's split.
	Traffic Split
	// StepStartedAt is when the live split was set (the deployment's created_on); holds count
	// from it, across applies.
	StepStartedAt time.Time
	// DeploymentID is the active deployment this status was built from.
	DeploymentID string
	// RolloutID is the id in the active deployment's marker (see RolloutID).
	RolloutID string
	// FailedChecks counts failed checks in this rollout attempt.
	FailedChecks int
	// Detail explains the phase in a sentence (the resource's reason attribute).
	Detail string
	// LastAnalysis is the summary of the last check, with the numbers it used.
	LastAnalysis string
}

// Observe rebuilds a rollout's status from the active deployment and its marker: what Read
// does. prior is the status in state (zero on create or import). When the active deployment
// is the one prior was built from, prior stands as it is; otherwise the deployment decides:
//   - ours with two versions: paused at the marker's step; the pause reason is prior's when
//     prior was paused at the same step of the same rollout, else interrupted (an apply was
//     killed before it could save state);
//   - ours with one version: promoted, aborted or stable, as the marker says;
//   - anything else: a deployment made outside this resource, reported as
//     paused(external_change) unless there is nothing to compare it with (create, import)
//     or it has the traffic prior expected.
func Observe(live Deployment, prior Status) (Status, error) {
	if err := live.Versions.Validate(); err != nil {
		return prior, fmt.Errorf("active deployment %s: %w", live.ID, err)
	}
	if live.ID != "" && live.ID == prior.DeploymentID {
		return prior, nil
	}
	st := Status{Traffic: live.Versions.clone(), DeploymentID: live.ID, Previous: prior.Previous}
	m, ours, parseErr := ParseMarker(live.Message)
	two := len(live.Versions) == 2
	var a, b string
	a = live.Versions[0].VersionID
	if two {
		b = live.Versions[1].VersionID
	}
	switch {
	case ours && two && SameRollout(m.ID, RolloutID(a, b, "")) && (m.Phase == PhaseProgressing || m.Phase == PhasePreviewing || m.Phase == PhasePaused):
		st.Phase, st.Stable, st.Candidate, st.Step = PhasePaused, a, b, m.Step
		st.StepStartedAt, st.RolloutID = live.CreatedOn, m.ID
		samePosition := prior.Phase == PhasePaused && prior.Stable == a && prior.Candidate == b && prior.Step == m.Step && SameRollout(prior.RolloutID, m.ID)
		switch {
		case m.Phase == PhasePaused:
			st.Reason = m.Reason
			st.Detail = fmt.Sprintf("paused (%s) at step %d: %s", m.Reason, m.Step, st.Traffic.Short())
		case samePosition:
			st.Reason, st.Detail = prior.Reason, prior.Detail
		default:
			st.Reason = ReasonInterrupted
			st.Detail = fmt.Sprintf("an apply stopped at step %d (%s) before it finished; traffic was left as it is, and the next apply resumes", m.Step, st.Traffic.Short())
		}
		if samePosition {
			st.FailedChecks, st.LastAnalysis = prior.FailedChecks, prior.LastAnalysis
		}
		return st, nil
	case ours && !two && m.Phase == PhasePromoted:
		st.Phase, st.Stable, st.Step, st.RolloutID = PhasePromoted, a, m.Step, m.ID
		if prior.Candidate == a && prior.Stable != "" {
			st.Previous = prior.Stable
		}
		st.Detail = fmt.Sprintf("%s promoted to 100 %%", ShortID(a))
		return st, nil
	case ours && !two && m.Phase == PhaseAborted:
		st.Phase, st.Stable, st.Step, st.RolloutID = PhaseAborted, a, m.Step, m.ID
		if prior.Candidate != "" && SameRollout(m.ID, RolloutID(a, prior.Candidate, "")) {
			st.Candidate = prior.Candidate
			st.FailedChecks, st.LastAnalysis = prior.FailedChecks, prior.LastAnalysis
		}
		candidate := ShortID(st.Candidate)
		if st.Candidate == "" {
			candidate = "the candidate of rollout " + m.ID
		}
		st.Detail = fmt.Sprintf("rollout of %s aborted at step %d; all traffic is back on %s", candidate, m.Step, ShortID(a))
		if prior.Phase == PhaseAborted && SameRollout(prior.RolloutID, m.ID) && prior.Detail != "" {
			st.Detail = prior.Detail
		}
		return st, nil
	case ours && !two && m.Phase == PhaseStable:
		st.Phase, st.Stable, st.RolloutID = PhaseStable, a, m.ID
		st.Detail = fmt.Sprintf("%s has 100 %% of the traffic", ShortID(a))
		return st, nil
	}
	// Not a deployment this package wrote for these versions.
	switch {
	case prior.Phase == "" && !two:
		st.Phase, st.Stable = PhaseStable, a
		st.Detail = fmt.Sprintf("%s has 100 %% of the traffic", ShortID(a))
		return st, nil
	case prior.Phase != "" && prior.Traffic.Equal(live.Versions):
		prior.DeploymentID = live.ID
		return prior, nil
	}
	st.Phase, st.Reason, st.Stable = PhasePaused, ReasonExternalChange, a
	st.StepStartedAt = live.CreatedOn
	switch {
	case two:
		st.Candidate = b
	case prior.Candidate != a:
		st.Candidate = prior.Candidate
	}
	if two {
		st.Step = prior.Step
	}
	what := fmt.Sprintf("deployment %s", live.ID)
	if parseErr != nil {
		what += " (its message looks like a rollout marker but is malformed)"
	}
	was := "no deployment"
	if len(prior.Traffic) > 0 {
		was = prior.Traffic.Short()
	}
	st.Detail = fmt.Sprintf("the active deployment was changed outside Terraform: %s sends %s (state had %s); the next apply re-asserts the configuration",
		what, st.Traffic.Short(), was)
	if prior.Phase == "" {
		st.Detail = fmt.Sprintf("%s splits traffic (%s) without a rollout marker: it was made outside this resource; the next apply takes the rollout over", what, st.Traffic.Short())
	}
	return st, nil
}
