package rollout_test

import (
	"fmt"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/rollout"
)

// A canary of version "v2" over "v1", as a resource drives it: Observe at Read, Validate and
// PlanApply at plan time, then Begin and Tick through the apply, performing each decision
// against the platform (here a variable standing for the active deployment).
func Example() {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	live := rollout.Deployment{ID: "d1", Versions: rollout.Only("v1"), Message: "wrangler deploy", CreatedOn: now}

	// Read: the status to keep in state.
	status, _ := rollout.Observe(live, rollout.Status{})

	// ModifyPlan: validate, then plan.
	cfg := rollout.Config{
		Target:   "v2",
		Strategy: rollout.StrategyCanary,
		Steps: []rollout.Step{
			{Percent: 5, Hold: 2 * time.Minute},
			{Percent: 25, Hold: 5 * time.Minute, Gate: rollout.GateManual},
		},
		Analysis: &rollout.Analysis{Interval: time.Minute, ErrorRate: &rollout.Metric{Max: 0.01, MinRequests: 100}},
	}
	if problems := rollout.Validate(rollout.ValidationInput{Config: cfg}); len(problems) > 0 {
		fmt.Println(problems[0].Path, problems[0].Detail)
		return
	}
	plan := rollout.PlanApply(cfg, status, now)
	for _, s := range plan.Path {
		fmt.Println("planned:", s)
	}
	fmt.Println("traffic after apply:", plan.Expect.Traffic, "phase:", plan.Expect.Phase, plan.Expect.Reason)

	// Apply: walk the plan.
	run := rollout.Begin(plan, now)
	in := rollout.Input{Now: now}
	for {
		var d rollout.Decision
		run, d = run.Tick(in)
		for _, l := range d.Logs {
			fmt.Println("log:", l)
		}
		in = rollout.Input{Now: now}
		switch d.Kind {
		case rollout.ReadLive:
			in.Live = &live
		case rollout.Write:
			live = rollout.Deployment{ID: "d2", Versions: d.Split, Message: d.Message, CreatedOn: now}
			fmt.Println("write:", d.Message)
			in.Live = &live
		case rollout.Wait:
			now = d.Until // a resource sleeps until then, or stops when its context ends
			in.Now = now
		case rollout.Analyse:
			// A resource queries the analytics of d.Candidate over d.Window.
			in.Evidence = &rollout.Evidence{Candidate: rollout.Sample{Requests: 412, Errors: 1}}
		case rollout.Finish:
			fmt.Println("state:", d.Status.Phase, d.Status.Reason, "step", d.Status.Step, "|", d.Status.Traffic)
			fmt.Println("last_analysis:", d.Status.LastAnalysis)
			return
		}
	}
	// Output:
	// planned: step 1: 5 %, hold 2m, checked
	// traffic after apply: 95 % v1, 5 % v2 phase: paused gate
	// write: tfr:7b5197eaee-e3b0c4:1:progressing servicesdo canary: step 1/3, 5 % to v2
	// log: step 1/3: 5 % → v2 (95 % v1, 5 % v2), holding 2m
	// log: step 1/3 at 5 %: error_rate 0.00243 over 412 requests (max 0.01), holding 1m
	// log: step 1/3 at 5 %: error_rate 0.00243 over 412 requests (max 0.01)
	// log: Rollout paused: Awaiting approval to enter step 2 (25 %): set approved_through_step = 2
	// state: paused gate step 1 | 95 % v1, 5 % v2
	// last_analysis: error_rate 0.00243 over 412 requests (max 0.01)
}
