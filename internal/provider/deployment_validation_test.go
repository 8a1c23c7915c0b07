package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
)

// Every bad input is a plan-time error naming the attribute, the rule and the fix.
func TestAccDeployment_invalidInputs(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	const name = "tf-acc-dep-invalid"
	deployment := func(body string) string {
		return edge.providerBlock("") + fmt.Sprintf(`
resource "servicesdo_deployment" "test" {
  service    = %q
  version_id = "00000000-0000-4000-8000-000000000002"
  %s
}
`, name, body)
	}
	code := writeCode(t, t.TempDir(), "index.js", workerCode("hi"))
	bad := func(config, message string) resource.TestStep {
		return resource.TestStep{Config: config, PlanOnly: true, ExpectError: expectError(message)}
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			bad(deployment(`strategy = "canary"
  steps = [{ percent = 10 }, { percent = 50 }, { percent = 25 }]`),
				"steps[2].percent = 25 is not greater than steps[1].percent = 50: each step must send strictly more traffic to the new version than the one before. "+
					"Order the steps by percentage and remove duplicates."),
			bad(deployment(`strategy = "canary"
  steps = [{ percent = 10 }, { percent = 100 }]`),
				"steps[1].percent = 100 is outside 1–99: a step sends part of the traffic to the new version, and the move to 100 % follows the last step by itself. "+
					"Use a percentage from 1 to 99, or remove the step."),
			bad(deployment(`strategy = "canary"
  steps = [{ percent = 0 }]`),
				"steps[0].percent = 0 is outside 1–99"),
			bad(deployment(`strategy = "canary"
  steps = [{ percent = 10 }, { percent = 50, gate = "manual" }]
  approved_through_step = 3`),
				"approved_through_step = 3, but there are only 2 steps: it can approve at most step 2. Set it to the step whose gate you approve."),
			bad(deployment(`strategy = "blue_green"
  approved_through_step = 2`),
				"approved_through_step = 2, but a blue/green rollout has one gate, the switch (step 1): set approved_through_step = 1 to switch traffic, or 0 to keep previewing."),
			bad(deployment(`strategy = "canary"
  steps = [{ percent = 10, hold = "30s" }]
  analysis = { interval = "1m", metric = { error_rate = { max = 0.01 } } }`),
				"steps[0].hold = 30s is shorter than analysis.interval = 1m: the step would end before one interval of analytics, and be judged on less data than a single check reads. "+
					"Make the hold at least 1m, or shorten analysis.interval."),
			bad(deployment(`strategy = "rolling"
  rolling = { batch_percent = 25, hold = "10s" }
  analysis = { interval = "30s" }`),
				"rolling.hold = 10s is shorter than analysis.interval = 30s"),
			bad(deployment(`strategy = "immediate"
  notify = { webhook_url = "http://hooks.example.com/rollouts" }`),
				`notify.webhook_url = "http://hooks.example.com/rollouts" uses http: rollout events (and their signature) would cross the network in clear text. `+
					"Use an https:// URL; plain http is allowed only for loopback (localhost, 127.0.0.1, [::1]) for local testing."),
			bad(deployment(`strategy = "canary"`),
				`strategy = "canary" needs steps: list at least one, e.g. steps = [{ percent = 10, hold = "5m" }]; the move to 100 % follows the last step.`),
			bad(deployment(`strategy = "canary"
  steps = [{ percent = 10, gate = "auto" }]`),
				`steps[0].gate = "auto" is not a gate: the only gate is "manual"`),
			bad(deployment(`strategy = "canary"
  steps = [{ percent = 10 }]
  analysis = { metric = { error_rate = { max = 5 } } }`),
				`metric "error_rate" max = 5 is outside 0–1: the error rate is a fraction of requests (0.01 is 1 %).`),
			bad(deployment(`strategy = "immediate"
  on_failure = "retry"`),
				`on_failure = "retry": use "rollback" (all traffic back to the stable version) or "pause" (leave traffic where it is for someone to look).`),
			bad(deployment(`strategy = "immediate"
  analysis = { inconclusive = "ignore" }`),
				`analysis.inconclusive = "ignore": use "pause"`),
			// The service deploys its own versions: rollout defaults to "immediate".
			bad(edge.serviceConfig(name, code, "")+`
resource "servicesdo_deployment" "test" {
  service    = servicesdo_service.test.name
  version_id = servicesdo_service.test.latest_version_id
  strategy   = "canary"
  steps      = [{ percent = 10 }]
}
`,
				`service "`+name+`" has rollout = "immediate": every code change it applies already deploys at 100 %, so this deployment has no version to roll out `+
					`and would fight the service over traffic. Set rollout = "managed" on the servicesdo_service: it then uploads each new version (latest_version_id) `+
					`without moving traffic, and this resource moves the traffic.`),
		},
	})
}

// A version with a Durable Object migration the stable version has not had cannot share
// traffic with it: the plan says to ship it with strategy = "immediate", which then works.
func TestAccDeployment_migrationNeedsImmediate(t *testing.T) {
	t.Parallel()
	e := newRolloutEnv(t, "tf-acc-dep-migration")
	ctx := context.Background()
	const counter = `import { DurableObject } from "cloudflare:workers";
export class Counter extends DurableObject { async fetch() { return new Response("counted"); } }
export default { fetch() { return new Response("v2"); } };`
	migrated, err := e.client.UploadScript(ctx, cloudflare.ScriptUpload{
		Name: e.name, MainModule: "index.js", CompatibilityDate: "2025-01-01",
		Modules:   []cloudflare.Module{{Name: "index.js", Content: []byte(counter)}},
		Bindings:  []cloudflare.Binding{{Type: cloudflare.BindingDurableObject, Name: "COUNTER", ClassName: "Counter"}},
		Migration: &cloudflare.Migration{NewTag: "v1", NewSqliteClasses: []string{"Counter"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	v2 := e.liveVersions()[0]
	// Back to the first version, as a rollback made outside Terraform leaves it.
	if _, err := e.client.CreateDeployment(ctx, e.name, []cloudflare.DeploymentVersion{{VersionID: e.stable, Percentage: 100}}, "", true); err != nil {
		t.Fatal(err)
	}
	config := func(strategy string) string {
		return e.config(fmt.Sprintf(`
  version_id = %q
  strategy   = %q
  rolling    = %s`, v2, strategy, map[string]string{"rolling": `{ batch_percent = 50 }`, "immediate": "null"}[strategy]))
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: config("rolling"), PlanOnly: true,
				ExpectError: expectError(fmt.Sprintf(`version_id needs a Durable Object migration (its migration tag is %s; the stable version %s has none), and strategy is "rolling". `+
					`Cloudflare applies migrations to every object at once, so a version with a migration cannot share traffic with the version before it. `+
					`Ship this version with strategy = "immediate" (one step to 100 %%), then set the strategy back for the next change; keep migrations in changes of their own.`,
					migrated.MigrationTag, e.stable)),
			},
			{Config: config("immediate"), Check: e.checkLive(v2, 100)},
		},
	})
}
