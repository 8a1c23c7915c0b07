package rollout

import (
	"strings"
	"testing"
	"time"
)

func TestValidateAcceptsGoodConfigurations(t *testing.T) {
	t.Parallel()
	m := time.Minute
	an := &Analysis{Interval: m, FailureLimit: 2, Inconclusive: InconclusiveFail, ErrorRate: &Metric{Max: 0.01, MinRequests: 100},
		P99LatencyMs: &Metric{Max: 500}, Probe: &Probe{Path: "/health", ExpectStatus: 204}}
	for name, in := range map[string]ValidationInput{
		"canary":                              {Config: Config{Strategy: StrategyCanary, Steps: []Step{{5, 2 * m, ""}, {25, 5 * m, GateManual}, {50, m, ""}}, Analysis: an, ApprovedThroughStep: 3}},
		"rolling":                             {Config: Config{Strategy: StrategyRolling, Rolling: &Rolling{BatchPercent: 25, Hold: m}, Analysis: an}},
		"blue_green":                          {Config: Config{Strategy: StrategyBlueGreen, BlueGreen: &BlueGreen{AutoPromote: true, AutoPromoteAfter: 10 * m}, Analysis: an, ApprovedThroughStep: 1}},
		"manual blue_green, no hold":          {Config: Config{Strategy: StrategyBlueGreen, Analysis: an}},
		"immediate with a migration":          {Config: Config{Strategy: StrategyImmediate}, Migration: "new Counter", ServiceRollout: "managed"},
		"https webhook":                       {Config: Config{Strategy: StrategyImmediate}, WebhookURL: "https://hooks.example.com/rollouts"},
		"loopback webhooks":                   {Config: Config{Strategy: StrategyImmediate}, WebhookURL: "http://127.0.0.1:8787/hook"},
		"localhost webhook":                   {Config: Config{Strategy: StrategyImmediate}, WebhookURL: "http://localhost:9000/"},
		"ipv6 loopback webhook":               {Config: Config{Strategy: StrategyImmediate}, WebhookURL: "http://[::1]:9000/"},
		"two versions":                        {Config: Config{Strategy: StrategyImmediate}, Versions: []string{vA, vB, vB, ""}},
		"canary without analysis, zero holds": {Config: Config{Strategy: StrategyCanary, Steps: []Step{{Percent: 10}, {Percent: 20}}}},
	} {
		if problems := Validate(in); len(problems) > 0 {
			t.Errorf("%s: %v", name, problems)
		}
	}
}

func TestValidateRejectsBadInput(t *testing.T) {
	t.Parallel()
	m := time.Minute
	an := &Analysis{Interval: m, ErrorRate: &Metric{Max: 0.01, MinRequests: 100}}
	cases := []struct {
		name   string
		in     ValidationInput
		path   string
		detail string
	}{
		{
			name: "steps not increasing",
			in:   ValidationInput{Config: Config{Strategy: StrategyCanary, Steps: []Step{{Percent: 10}, {Percent: 50}, {Percent: 25}}}},
			path: "steps[2].percent",
			detail: "steps[2].percent = 25 is not greater than steps[1].percent = 50: each step must send strictly more traffic to the new version than the one before. " +
				"Order the steps by percentage and remove duplicates.",
		},
		{
			name: "duplicate step", in: ValidationInput{Config: Config{Strategy: StrategyCanary, Steps: []Step{{Percent: 10}, {Percent: 10}}}},
			path: "steps[1].percent", detail: "steps[1].percent = 10 is not greater than steps[0].percent = 10",
		},
		{
			name: "step at 100", in: ValidationInput{Config: Config{Strategy: StrategyCanary, Steps: []Step{{Percent: 10}, {Percent: 100}}}},
			path: "steps[1].percent",
			detail: "steps[1].percent = 100 is outside 1–99: a step sends part of the traffic to the new version, and the move to 100 % follows the last step by itself. " +
				"Use a percentage from 1 to 99, or remove the step.",
		},
		{
			name: "step at 0", in: ValidationInput{Config: Config{Strategy: StrategyCanary, Steps: []Step{{Percent: 0}}}},
			path: "steps[0].percent", detail: "steps[0].percent = 0 is outside 1–99",
		},
		{
			name: "approved_through_step beyond the steps",
			in:   ValidationInput{Config: Config{Strategy: StrategyCanary, Steps: []Step{{Percent: 10}, {Percent: 50, Gate: GateManual}}, ApprovedThroughStep: 3}},
			path: "approved_through_step",
			detail: "approved_through_step = 3, but there are only 2 steps: it can approve at most step 2. " +
				"Set it to the step whose gate you approve.",
		},
		{
			name: "approved_through_step beyond a blue/green switch",
			in:   ValidationInput{Config: Config{Strategy: StrategyBlueGreen, ApprovedThroughStep: 2}},
			path: "approved_through_step",
			detail: "approved_through_step = 2, but a blue/green rollout has one gate, the switch (step 1): set approved_through_step = 1 to switch traffic, " +
				"or 0 to keep previewing.",
		},
		{
			name: "approved_through_step with immediate", in: ValidationInput{Config: Config{Strategy: StrategyImmediate, ApprovedThroughStep: 1}},
			path: "approved_through_step", detail: "approved_through_step = 1, but strategy = \"immediate\" has no gates: remove approved_through_step (or set it to 0).",
		},
		{
			name: "negative approved_through_step", in: ValidationInput{Config: Config{Strategy: StrategyImmediate, ApprovedThroughStep: -1}},
			path: "approved_through_step", detail: "approved_through_step = -1 is negative",
		},
		{
			name: "hold shorter than the interval",
			in:   ValidationInput{Config: Config{Strategy: StrategyCanary, Steps: []Step{{Percent: 10, Hold: 5 * m}, {Percent: 50, Hold: 30 * time.Second}}, Analysis: an}},
			path: "steps[1].hold",
			detail: "steps[1].hold = 30s is shorter than analysis.interval = 1m: the step would end before one interval of analytics, and be judged on less data than a single check reads. " +
				"Make the hold at least 1m, or shorten analysis.interval.",
		},
		{
			name: "zero hold under analysis",
			in:   ValidationInput{Config: Config{Strategy: StrategyCanary, Steps: []Step{{Percent: 10}}, Analysis: an}},
			path: "steps[0].hold", detail: "steps[0].hold = 0s is shorter than analysis.interval = 1m",
		},
		{
			name: "rolling hold shorter than the default interval",
			in:   ValidationInput{Config: Config{Strategy: StrategyRolling, Rolling: &Rolling{BatchPercent: 20, Hold: 10 * time.Second}, Analysis: &Analysis{Probe: &Probe{Path: "/"}}}},
			path: "rolling.hold", detail: "rolling.hold = 10s is shorter than analysis.interval = 1m",
		},
		{
			name: "blue/green preview shorter than the interval",
			in: ValidationInput{Config: Config{Strategy: StrategyBlueGreen, BlueGreen: &BlueGreen{AutoPromote: true, AutoPromoteAfter: 20 * time.Second},
				Analysis: &Analysis{Interval: m, Probe: &Probe{Path: "/"}}}},
			path: "blue_green.auto_promote_after", detail: "blue_green.auto_promote_after = 20s is shorter than analysis.interval = 1m",
		},
		{
			name: "more than two versions", in: ValidationInput{Config: Config{Strategy: StrategyImmediate}, Versions: []string{vA, vB, vC}},
			path: "version_id",
			detail: "this configuration needs 3 versions in one deployment (" + vA + ", " + vB + ", " + vC + "), and a Workers deployment holds at most 2. " +
				"Let the rollout in flight finish, or set version_id to the stable version to roll back, before adding another version.",
		},
		{
			name: "Durable Object migration", in: ValidationInput{Config: Config{Strategy: StrategyCanary, Steps: []Step{{Percent: 10}}}, Migration: "new Counter"},
			path: "strategy",
			detail: "version_id needs a Durable Object migration (new Counter), and strategy is \"canary\". Cloudflare applies migrations to every object at once, " +
				"so a version with a migration cannot share traffic with the version before it. Ship this version with strategy = \"immediate\" (one step to 100 %), " +
				"then set the strategy back for the next change; keep migrations in changes of their own.",
		},
		{
			name: "service deploys immediately", in: ValidationInput{Config: Config{Strategy: StrategyImmediate}, ServiceRollout: "immediate", Service: "orders"},
			path: "service",
			detail: "service \"orders\" has rollout = \"immediate\": every code change it applies already deploys at 100 %, so this deployment has no version to roll out " +
				"and would fight the service over traffic. Set rollout = \"managed\" on the servicesdo_service: it then uploads each new version (latest_version_id) " +
				"without moving traffic, and this resource moves the traffic.",
		},
		{
			name: "plain http webhook", in: ValidationInput{Config: Config{Strategy: StrategyImmediate}, WebhookURL: "http://hooks.example.com/x"},
			path: "notify.webhook_url",
			detail: "notify.webhook_url = \"http://hooks.example.com/x\" uses http: rollout events (and their signature) would cross the network in clear text. " +
				"Use an https:// URL; plain http is allowed only for loopback (localhost, 127.0.0.1, [::1]) for local testing.",
		},
		{
			name: "http to a look-alike of localhost", in: ValidationInput{Config: Config{Strategy: StrategyImmediate}, WebhookURL: "http://localhost.example.com/"},
			path: "notify.webhook_url", detail: "notify.webhook_url = \"http://localhost.example.com/\" uses http",
		},
		{
			name: "webhook not a URL", in: ValidationInput{Config: Config{Strategy: StrategyImmediate}, WebhookURL: "hooks.example.com"},
			path: "notify.webhook_url", detail: "notify.webhook_url = \"hooks.example.com\" is not an absolute http(s) URL: use https://host/path.",
		},
		{
			name: "unknown strategy", in: ValidationInput{Config: Config{Strategy: "linear"}},
			path: "strategy", detail: "strategy = \"linear\" is not a strategy: use one of \"immediate\", \"rolling\", \"canary\", \"blue_green\".",
		},
		{
			name: "canary without steps", in: ValidationInput{Config: Config{Strategy: StrategyCanary}},
			path: "steps", detail: "strategy = \"canary\" needs steps",
		},
		{
			name: "steps with rolling", in: ValidationInput{Config: Config{Strategy: StrategyRolling, Rolling: &Rolling{BatchPercent: 25}, Steps: []Step{{Percent: 5}}}},
			path: "steps", detail: "steps apply only to strategy = \"canary\", and strategy is \"rolling\": remove steps, or set strategy = \"canary\". Rolling batches come from rolling { batch_percent, hold }.",
		},
		{
			name: "rolling without its block", in: ValidationInput{Config: Config{Strategy: StrategyRolling}},
			path: "rolling", detail: "strategy = \"rolling\" needs a rolling block",
		},
		{
			name: "batch of 100", in: ValidationInput{Config: Config{Strategy: StrategyRolling, Rolling: &Rolling{BatchPercent: 100}}},
			path: "rolling.batch_percent", detail: "rolling.batch_percent = 100 is outside 1–99",
		},
		{
			name: "blue_green block on a canary", in: ValidationInput{Config: Config{Strategy: StrategyCanary, Steps: []Step{{Percent: 5}}, BlueGreen: &BlueGreen{}}},
			path: "blue_green", detail: "the blue_green block applies only to strategy = \"blue_green\"",
		},
		{
			name: "unknown gate", in: ValidationInput{Config: Config{Strategy: StrategyCanary, Steps: []Step{{Percent: 5, Gate: "approval"}}}},
			path: "steps[0].gate", detail: "steps[0].gate = \"approval\" is not a gate: the only gate is \"manual\"",
		},
		{
			name: "inconclusive policy", in: ValidationInput{Config: Config{Strategy: StrategyImmediate, Analysis: &Analysis{Inconclusive: "retry"}}},
			path: "analysis.inconclusive", detail: "analysis.inconclusive = \"retry\": use \"pause\"",
		},
		{
			name: "error rate as a percentage", in: ValidationInput{Config: Config{Strategy: StrategyImmediate, Analysis: &Analysis{ErrorRate: &Metric{Max: 5}}}},
			path: "analysis.metric.error_rate.max", detail: "metric \"error_rate\" max = 5 is outside 0–1: the error rate is a fraction of requests (0.01 is 1 %).",
		},
		{
			name: "probe path", in: ValidationInput{Config: Config{Strategy: StrategyImmediate, Analysis: &Analysis{Probe: &Probe{Path: "health"}}}},
			path: "analysis.probe.path", detail: "analysis.probe.path = \"health\" must start with /.",
		},
		{
			name: "on_failure", in: ValidationInput{Config: Config{Strategy: StrategyImmediate, OnFailure: "ignore"}},
			path: "on_failure", detail: "on_failure = \"ignore\": use \"rollback\"",
		},
		{
			name: "negative budget", in: ValidationInput{Config: Config{Strategy: StrategyImmediate, MaxApplyDuration: -time.Second}},
			path: "max_apply_duration", detail: "max_apply_duration is negative",
		},
	}
	for _, tc := range cases {
		problems := Validate(tc.in)
		found := false
		for _, p := range problems {
			if p.Path.String() == tc.path && strings.HasPrefix(p.Detail, tc.detail) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: want a problem on %s starting %q, got %v", tc.name, tc.path, tc.detail, problems)
		}
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	problems := Validate(ValidationInput{
		Config:     Config{Strategy: StrategyCanary, Steps: []Step{{Percent: 50}, {Percent: 40}, {Percent: 120}}, ApprovedThroughStep: 9},
		WebhookURL: "http://example.com",
	})
	var paths []string
	for _, p := range problems {
		paths = append(paths, p.Path.String())
	}
	if got, want := strings.Join(paths, " "), "steps[1].percent steps[2].percent approved_through_step notify.webhook_url"; got != want {
		t.Fatalf("problems on %s, want %s", got, want)
	}
	if p := problems[0]; p.Error() != p.Summary+": "+p.Detail || p.Summary != "Step percentages must rise" {
		t.Fatalf("problem %+v", p)
	}
}
