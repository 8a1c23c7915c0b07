package rollout

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestObserve(t *testing.T) {
	t.Parallel()
	id := RolloutID(vA, vB, "")
	idRetry := RolloutID(vA, vB, "2")
	at := t0.Add(-3 * time.Minute)
	marker := func(step int, phase Phase) string {
		return Marker{ID: id, Step: step, Phase: phase}.Message("servicesdo")
	}
	dep := func(id string, split Split, msg string) Deployment {
		return Deployment{ID: id, Versions: split, Message: msg, CreatedOn: at}
	}
	pausedGate := Status{Phase: PhasePaused, Reason: ReasonGate, Step: 2, Stable: vA, Candidate: vB, Traffic: TwoWay(vA, vB, 25),
		DeploymentID: "d2", RolloutID: id, Detail: "awaiting approval", FailedChecks: 1, LastAnalysis: "error_rate 0.002 over 412 requests"}
	cases := []struct {
		name  string
		live  Deployment
		prior Status
		want  Status
	}{
		{
			name: "create: a plain deployment is stable",
			live: dep("d1", Only(vA), "wrangler deploy"),
			want: Status{Phase: PhaseStable, Stable: vA, Traffic: Only(vA), DeploymentID: "d1", Detail: "aaaaaaaa has 100 % of the traffic"},
		},
		{
			name: "the same deployment as in state: state stands", live: dep("d2", TwoWay(vA, vB, 25), ""), prior: pausedGate, want: pausedGate,
		},
		{
			name:  "T9: a killed apply left a marked split, state is older",
			live:  dep("d3", TwoWay(vA, vB, 50), marker(3, PhaseProgressing)),
			prior: pausedGate,
			want: Status{Phase: PhasePaused, Reason: ReasonInterrupted, Step: 3, Stable: vA, Candidate: vB, Traffic: TwoWay(vA, vB, 50),
				StepStartedAt: at, DeploymentID: "d3", RolloutID: id,
				Detail: "an apply stopped at step 3 (50 % aaaaaaaa, 50 % bbbbbbbb) before it finished; traffic was left as it is, and the next apply resumes"},
		},
		{
			name: "T9 on create/import: a marked split with no state",
			live: dep("d3", TwoWay(vA, vB, 5), Marker{ID: idRetry, Step: 1, Phase: PhaseProgressing}.String()),
			want: Status{Phase: PhasePaused, Reason: ReasonInterrupted, Step: 1, Stable: vA, Candidate: vB, Traffic: TwoWay(vA, vB, 5),
				StepStartedAt: at, DeploymentID: "d3", RolloutID: idRetry,
				Detail: "an apply stopped at step 1 (95 % aaaaaaaa, 5 % bbbbbbbb) before it finished; traffic was left as it is, and the next apply resumes"},
		},
		{
			name:  "a pause state recorded for the same step keeps its reason and counts",
			live:  dep("d9", TwoWay(vA, vB, 25), marker(2, PhaseProgressing)),
			prior: pausedGate,
			want: Status{Phase: PhasePaused, Reason: ReasonGate, Step: 2, Stable: vA, Candidate: vB, Traffic: TwoWay(vA, vB, 25),
				StepStartedAt: at, DeploymentID: "d9", RolloutID: id, Detail: "awaiting approval", FailedChecks: 1, LastAnalysis: pausedGate.LastAnalysis},
		},
		{
			name: "a blue/green preview from a killed apply",
			live: dep("d4", TwoWay(vA, vB, 0), marker(0, PhasePreviewing)),
			want: Status{Phase: PhasePaused, Reason: ReasonInterrupted, Step: 0, Stable: vA, Candidate: vB, Traffic: TwoWay(vA, vB, 0),
				StepStartedAt: at, DeploymentID: "d4", RolloutID: id,
				Detail: "an apply stopped at step 0 (100 % aaaaaaaa, 0 % bbbbbbbb) before it finished; traffic was left as it is, and the next apply resumes"},
		},
		{
			name: "a paused marker says its own reason",
			live: dep("d4", TwoWay(vA, vB, 25), Marker{ID: id, Step: 2, Phase: PhasePaused, Reason: ReasonBudget}.String()),
			want: Status{Phase: PhasePaused, Reason: ReasonBudget, Step: 2, Stable: vA, Candidate: vB, Traffic: TwoWay(vA, vB, 25),
				StepStartedAt: at, DeploymentID: "d4", RolloutID: id, Detail: "paused (budget) at step 2: 75 % aaaaaaaa, 25 % bbbbbbbb"},
		},
		{
			name:  "promoted: the previous stable version is remembered for a fast rollback",
			live:  dep("d5", Only(vB), marker(4, PhasePromoted)),
			prior: pausedGate,
			want:  Status{Phase: PhasePromoted, Step: 4, Stable: vB, Previous: vA, Traffic: Only(vB), DeploymentID: "d5", RolloutID: id, Detail: "bbbbbbbb promoted to 100 %"},
		},
		{
			name:  "aborted by a killed apply: the failed candidate is known from state",
			live:  dep("d6", Only(vA), marker(2, PhaseAborted)),
			prior: pausedGate,
			want: Status{Phase: PhaseAborted, Step: 2, Stable: vA, Candidate: vB, Traffic: Only(vA), DeploymentID: "d6", RolloutID: id,
				FailedChecks: 1, LastAnalysis: pausedGate.LastAnalysis, Detail: "rollout of bbbbbbbb aborted at step 2; all traffic is back on aaaaaaaa"},
		},
		{
			name: "aborted on import: the candidate is known only by the rollout id",
			live: dep("d6", Only(vA), marker(2, PhaseAborted)),
			want: Status{Phase: PhaseAborted, Step: 2, Stable: vA, Traffic: Only(vA), DeploymentID: "d6", RolloutID: id,
				Detail: "rollout of the candidate of rollout " + id + " aborted at step 2; all traffic is back on aaaaaaaa"},
		},
		{
			name: "a rollback this package wrote",
			live: dep("d7", Only(vA), Marker{ID: id, Phase: PhaseStable}.String()),
			want: Status{Phase: PhaseStable, Stable: vA, Traffic: Only(vA), DeploymentID: "d7", RolloutID: id, Detail: "aaaaaaaa has 100 % of the traffic"},
		},
		{
			name:  "T16: wrangler rollback during a rollout",
			live:  dep("d8", Only(vA), "Rolled back for incident 42"),
			prior: pausedGate,
			want: Status{Phase: PhasePaused, Reason: ReasonExternalChange, Stable: vA, Candidate: vB, Traffic: Only(vA), StepStartedAt: at, DeploymentID: "d8",
				Detail: "the active deployment was changed outside Terraform: deployment d8 sends 100 % aaaaaaaa (state had 75 % aaaaaaaa, 25 % bbbbbbbb); the next apply re-asserts the configuration"},
		},
		{
			name:  "T16: wrangler versions deploy of another split",
			live:  dep("d8", Split{{vA, 60}, {vC, 40}}, ""),
			prior: pausedGate,
			want: Status{Phase: PhasePaused, Reason: ReasonExternalChange, Step: 2, Stable: vA, Candidate: vC, Traffic: Split{{vA, 60}, {vC, 40}}, StepStartedAt: at, DeploymentID: "d8",
				Detail: "the active deployment was changed outside Terraform: deployment d8 sends 60 % aaaaaaaa, 40 % cccccccc (state had 75 % aaaaaaaa, 25 % bbbbbbbb); the next apply re-asserts the configuration"},
		},
		{
			name:  "T16: our marker on versions it does not name is not ours",
			live:  dep("d8", Split{{vB, 75}, {vA, 25}}, marker(2, PhaseProgressing)),
			prior: pausedGate,
			want: Status{Phase: PhasePaused, Reason: ReasonExternalChange, Step: 2, Stable: vB, Candidate: vA, Traffic: Split{{vB, 75}, {vA, 25}}, StepStartedAt: at, DeploymentID: "d8",
				Detail: "the active deployment was changed outside Terraform: deployment d8 sends 75 % bbbbbbbb, 25 % aaaaaaaa (state had 75 % aaaaaaaa, 25 % bbbbbbbb); the next apply re-asserts the configuration"},
		},
		{
			name:  "a malformed marker is an external change, and says so",
			live:  dep("d8", Only(vC), "tfr:nonsense"),
			prior: Status{Phase: PhasePromoted, Stable: vB, Previous: vA, Traffic: Only(vB), DeploymentID: "d5"},
			want: Status{Phase: PhasePaused, Reason: ReasonExternalChange, Stable: vC, Previous: vA, Traffic: Only(vC), StepStartedAt: at, DeploymentID: "d8",
				Detail: "the active deployment was changed outside Terraform: deployment d8 (its message looks like a rollout marker but is malformed) sends 100 % cccccccc (state had 100 % bbbbbbbb); the next apply re-asserts the configuration"},
		},
		{
			name:  "a redeploy of the same split is no change",
			live:  dep("d9", Only(vB), "wrangler rollback"),
			prior: Status{Phase: PhasePromoted, Stable: vB, Previous: vA, Traffic: Only(vB), DeploymentID: "d5", Detail: "bbbbbbbb promoted to 100 %"},
			want:  Status{Phase: PhasePromoted, Stable: vB, Previous: vA, Traffic: Only(vB), DeploymentID: "d9", Detail: "bbbbbbbb promoted to 100 %"},
		},
		{
			name: "import of a gradual deployment made by hand",
			live: dep("d1", TwoWay(vA, vB, 10), "wrangler versions deploy"),
			want: Status{Phase: PhasePaused, Reason: ReasonExternalChange, Stable: vA, Candidate: vB, Traffic: TwoWay(vA, vB, 10), StepStartedAt: at, DeploymentID: "d1",
				Detail: "deployment d1 splits traffic (90 % aaaaaaaa, 10 % bbbbbbbb) without a rollout marker: it was made outside this resource; the next apply takes the rollout over"},
		},
	}
	for _, tc := range cases {
		got, err := Observe(tc.live, tc.prior)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
}

func TestObserveRefusesAnImpossibleDeployment(t *testing.T) {
	t.Parallel()
	prior := stableOn(vA)
	for _, live := range []Deployment{
		{ID: "d", Versions: nil},
		{ID: "d", Versions: Split{{vA, 40}, {vB, 30}, {vC, 30}}},
	} {
		got, err := Observe(live, prior)
		if err == nil || !strings.Contains(err.Error(), "active deployment d:") {
			t.Errorf("Observe(%s) error = %v", live.Versions, err)
		}
		if !reflect.DeepEqual(got, prior) {
			t.Errorf("Observe(%s) lost the status in state: %+v", live.Versions, got)
		}
	}
}
