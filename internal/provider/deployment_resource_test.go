package provider

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"sort"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// trafficValue is the expected value of the traffic attribute.
func trafficValue(split ...any) knownvalue.Check {
	var elems []knownvalue.Check
	for i := 0; i+1 < len(split); i += 2 {
		elems = append(elems, knownvalue.ObjectExact(map[string]knownvalue.Check{
			"version_id": knownvalue.StringExact(split[i].(string)),
			"percent":    knownvalue.Float64Exact(float64(split[i+1].(int))),
		}))
	}
	return knownvalue.ListExact(elems)
}

func pathValue(steps ...string) knownvalue.Check {
	elems := make([]knownvalue.Check, len(steps))
	for i, s := range steps {
		elems[i] = knownvalue.StringExact(s)
	}
	return knownvalue.ListExact(elems)
}

// A canary that passes: under steady traffic each step's split is what the plan said (the
// share measured from the traffic itself), the webhook receives the events in order, and
// the rollout ends with all traffic on the new version, no diff, and an importable state.
func TestAccDeployment_canaryPasses(t *testing.T) {
	t.Parallel()
	e := newRolloutEnv(t, "tf-acc-dep-canary")
	v2 := e.upload("v2", healthy)
	hook := newWebhook(t)
	load := e.startLoad(120)
	cfg := e.config(fmt.Sprintf(`
  version_id = %q
  strategy   = "canary"
  steps      = [{ percent = 10, hold = "3s" }, { percent = 50, hold = "3s" }]
  analysis = {
    interval = "1s"
    delay    = "0s"
    metric   = { error_rate = { max = 0.01, min_requests = 5 }, p99_latency_ms = { max = 5000, min_requests = 5 } }
    probe    = { url = %q, path = "/health" }
  }
  notify = { webhook_url = %q }`, v2, e.probeURL, hook.url))
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(deployAddress, plancheck.ResourceActionCreate),
					plancheck.ExpectKnownValue(deployAddress, tfjsonpath.New("planned_path"),
						pathValue("step 1: 10 %, hold 3s, checked", "step 2: 50 %, hold 3s, checked", "step 3: 100 %, promote")),
					plancheck.ExpectKnownValue(deployAddress, tfjsonpath.New("traffic"), trafficValue(v2, 100)),
					plancheck.ExpectKnownValue(deployAddress, tfjsonpath.New("phase"), knownvalue.StringExact("promoted")),
					plancheck.ExpectKnownValue(deployAddress, tfjsonpath.New("stable_version_id"), knownvalue.StringExact(v2)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(deployAddress, tfjsonpath.New("phase"), knownvalue.StringExact("promoted")),
					statecheck.ExpectKnownValue(deployAddress, tfjsonpath.New("step"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue(deployAddress, tfjsonpath.New("candidate_version_id"), knownvalue.StringExact("")),
					statecheck.ExpectKnownValue(deployAddress, tfjsonpath.New("last_analysis"),
						knownvalue.StringRegexp(regexp.MustCompile(`^error_rate 0 over \d+ requests \(max 0\.01, stable 0\); p99_latency_ms \d+ ms over \d+ requests \(max 5000 ms, stable \d+ ms\); probe GET /health answered 200$`))),
				},
				Check: resource.ComposeTestCheckFunc(
					e.checkLive(v2, 100),
					func(*terraform.State) error {
						load.halt()
						return e.checkCanaryTraffic(load, hook, v2, []float64{10, 50})
					},
				),
			},
			{
				ResourceName: deployAddress, ImportState: true, ImportStateVerify: true, ImportStateId: e.name,
				ImportStateVerifyIgnore: []string{"strategy", "steps", "analysis", "notify", "planned_path", "last_analysis", "timeouts"},
			},
		},
	})
}

// checkCanaryTraffic measures, between the webhook's events (sent once each split serves)
// and the next deployment's creation, the share of the load generator's answers that came
// from the new version, and the events' order and contents.
func (e *rolloutEnv) checkCanaryTraffic(load *loadGen, hook *webhook, candidate string, percents []float64) error {
	events := hook.received()
	if got := hook.kinds(); got != "started progress completed" {
		return fmt.Errorf("webhook events %q, want %q", got, "started progress completed")
	}
	for i, ev := range events {
		if ev.Service != e.name || ev.CandidateVersionID != candidate || ev.StableVersionID != e.stable || ev.RolloutID != events[0].RolloutID ||
			ev.Step != i+1 || ev.Steps != 3 || ev.header.Get(eventHeader) != ev.Event {
			return fmt.Errorf("event %d = %+v (headers %v)", i, ev.rolloutEvent, ev.header)
		}
	}
	deps, err := e.client.ListDeployments(context.Background(), e.name)
	if err != nil {
		return err
	}
	sort.Slice(deps, func(i, j int) bool { return deps[i].CreatedOn.Before(deps[j].CreatedOn) })
	// deps: the first upload, then one per step and the promotion.
	if len(deps) != len(percents)+2 {
		return fmt.Errorf("%d deployments, want %d", len(deps), len(percents)+2)
	}
	for i, pct := range percents {
		// The split serves from the event (sent once the API acknowledged it, which the local
		// edge does once the runtime serves it) until the next deployment is created; the hold
		// counts from the deployment's creation, as on Cloudflare.
		from, to := events[i].At, deps[i+2].CreatedOn
		if held := to.Sub(deps[i+1].CreatedOn); held < 3*time.Second {
			return fmt.Errorf("step %d held %v, want 3s", i+1, held)
		}
		share, n := load.share("v2", from, to)
		tolerance := 4 * math.Sqrt(pct/100*(1-pct/100)/float64(n)) * 100
		if n < 50 || math.Abs(share*100-pct) > tolerance {
			return fmt.Errorf("step %d (%s–%s): %.1f %% of %d answers from the new version, want %v %% ± %.1f", i+1, from.Format(time.StampMilli), to.Format(time.StampMilli), share*100, n, pct, tolerance)
		}
		e.t.Logf("step %d: %.1f %% of %d answers from the new version (want %v %% ± %.1f); served %v after the deployment was created",
			i+1, share*100, n, pct, tolerance, from.Sub(deps[i+1].CreatedOn).Round(time.Millisecond))
	}
	if share, n := load.share("v2", events[len(events)-1].At, time.Now()); n > 0 && share != 1 {
		return fmt.Errorf("after the promotion %.1f %% of %d answers from the new version", share*100, n)
	}
	for _, a := range load.answers {
		if a.status != 200 || (a.body != "v1" && a.body != "v2") {
			return fmt.Errorf("an answer failed during the rollout: %d %q", a.status, a.body)
		}
	}
	return nil
}
