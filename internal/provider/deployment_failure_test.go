package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// failingCanary is a canary of a broken version: the apply rolls back, fails with the numbers,
// and saves the aborted state; the next plan is empty (with a warning) until retry_token
// changes, and then shows the rollout from its first step again.
type failingCanary struct {
	prefix    string
	behaviour string
	analysis  string
	// failure is the expected error after "At step 1 the analysis of <v2> failed: ".
	failure string
	// retry also applies a changed retry_token (which fails again).
	retry bool
}

func (f failingCanary) run(t *testing.T) {
	e := newRolloutEnv(t, f.prefix)
	v2 := e.upload("v2", f.behaviour)
	e.startLoad(120)
	config := func(version, token string) string {
		return e.config(fmt.Sprintf(`
  version_id  = %q
  retry_token = %q
  strategy    = "canary"
  steps       = [{ percent = 50, hold = "6s" }]
  analysis    = %s`, version, token, fmt.Sprintf(f.analysis, e.probeURL)))
	}
	failed := func(token string) resource.TestStep {
		return resource.TestStep{
			Config: config(v2, token),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(deployAddress, plancheck.ResourceActionUpdate),
				plancheck.ExpectKnownValue(deployAddress, tfjsonpath.New("planned_path"), pathValue("step 1: 50 %, hold 6s, checked", "step 2: 100 %, promote")),
				plancheck.ExpectKnownValue(deployAddress, tfjsonpath.New("traffic"), trafficValue(v2, 100)),
			}},
			ExpectError: expectErrorLike("At step 1 the analysis of " + v2 + " failed: " + f.failure +
				" (failed checks: 1, failure_limit 1). All traffic is back on " + e.stable + ", and the state records the aborted rollout. " +
				"To retry, change retry_token; to stay on " + e.stable + `, set version_id = "` + e.stable + `"; or set a new version_id.`),
		}
	}
	steps := []resource.TestStep{
		// The deployment adopts the service as it is: nothing moves.
		{
			Config: config(e.stable, "1"),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(deployAddress, tfjsonpath.New("phase"), knownvalue.StringExact("stable")),
				statecheck.ExpectKnownValue(deployAddress, tfjsonpath.New("planned_path"), pathValue()),
			},
		},
		failed("1"),
		{
			// Rolled back and saved: the plan is empty (the warning says how to retry).
			Config: config(v2, "1"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectEmptyPlan(),
				plancheck.ExpectKnownValue(deployAddress, tfjsonpath.New("phase"), knownvalue.StringExact("aborted")),
				plancheck.ExpectKnownValue(deployAddress, tfjsonpath.New("traffic"), trafficValue(e.stable, 100)),
				plancheck.ExpectKnownValue(deployAddress, tfjsonpath.New("candidate_version_id"), knownvalue.StringExact(v2)),
				plancheck.ExpectKnownValue(deployAddress, tfjsonpath.New("last_analysis"), knownvalue.StringRegexp(expectErrorLike(f.failure))),
			}},
			Check: e.checkLive(e.stable, 100),
		},
	}
	if f.retry {
		steps = append(steps, failed("2"))
	}
	resource.UnitTest(t, resource.TestCase{ProtoV6ProviderFactories: testProviders, Steps: steps})
}

// A canary whose new version throws on 5 % of requests (the client gets Cloudflare's 500,
// error 1101): the error rate, as Workers analytics count it, fails the first check.
func TestAccDeployment_errorRateRollsBack(t *testing.T) {
	t.Parallel()
	failingCanary{
		prefix: "tf-acc-dep-errors", behaviour: throws5, retry: true,
		analysis: `{ interval = "1s", delay = "0s", metric = { error_rate = { max = 0.02, min_requests = 20 } } } # %s`,
		failure:  "error_rate {n} over {n} requests exceeds max 0.02, stable 0",
	}.run(t)
}

// A canary whose new version returns HTTP 500 itself on 5 % of requests: Workers analytics
// count those as successes (on Cloudflare as on the local edge), so the error rate stays 0;
// the probes, which see HTTP statuses, catch it (5 per check: the 20th, at the fourth check,
// by when the load has reached the new version).
func TestAccDeployment_returned500CaughtByProbes(t *testing.T) {
	t.Parallel()
	failingCanary{
		prefix: "tf-acc-dep-500s", behaviour: returns5,
		analysis: `{
    interval = "1s", delay = "0s"
    metric   = { error_rate = { max = 0.02, min_requests = 1 } }
    probe    = { url = %q, path = "/health", count = 5 }
  }`,
		failure: "error_rate 0 over {n} requests (max 0.02, stable 0); probe GET /health answered 500, expected 200",
	}.run(t)
}

// A latency regression: the new version takes 300 ms; its p99 fails the check.
func TestAccDeployment_latencyRollsBack(t *testing.T) {
	t.Parallel()
	failingCanary{
		prefix: "tf-acc-dep-slow", behaviour: slow300ms,
		analysis: `{ interval = "1s", delay = "0s", metric = { p99_latency_ms = { max = 150, min_requests = 5 } } } # %s`,
		failure:  "p99_latency_ms {n} ms over {n} requests exceeds max 150 ms, stable {n} ms",
	}.run(t)
}
