package provider

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
)

func planned(checks ...plancheck.PlanCheck) resource.ConfigPlanChecks {
	return resource.ConfigPlanChecks{PreApply: checks}
}

func plannedValue(name string, v knownvalue.Check) plancheck.PlanCheck {
	return plancheck.ExpectKnownValue(deployAddress, tfjsonpath.New(name), v)
}

func stateValue(name string, v knownvalue.Check) statecheck.StateCheck {
	return statecheck.ExpectKnownValue(deployAddress, tfjsonpath.New(name), v)
}

// A manual gate waits for approved_through_step; a new version mid-rollout supersedes the
// candidate (two-version cap) and starts at the first step; once promoted, version_id set
// back to the previous version rolls back in one write, without steps.
func TestAccDeployment_gateSupersedeFastRollback(t *testing.T) {
	t.Parallel()
	e := newRolloutEnv(t, "tf-acc-dep-gate")
	v2, v3 := e.upload("v2", healthy), e.upload("v3", healthy)
	config := func(version string, approved int) string {
		return e.config(fmt.Sprintf(`
  version_id            = %q
  strategy              = "canary"
  steps                 = [{ percent = 10, hold = "1s" }, { percent = 40, hold = "1s", gate = "manual" }]
  approved_through_step = %d`, version, approved))
	}
	atGate := func(candidate string) []plancheck.PlanCheck {
		return []plancheck.PlanCheck{
			plannedValue("planned_path", pathValue("step 1: 10 %, hold 1s")),
			plannedValue("phase", knownvalue.StringExact("paused")),
			plannedValue("pause_reason", knownvalue.StringExact("gate")),
			plannedValue("reason", knownvalue.StringExact("awaiting approval to enter step 2 (40 %): set approved_through_step = 2")),
			plannedValue("traffic", trafficValue(e.stable, 90, candidate, 10)),
		}
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				// Stops at the gate: a warning, not an error, and the next plan is empty (the
				// post-apply plan of every step proves the no-op re-plan).
				Config:           config(v2, 0),
				ConfigPlanChecks: planned(atGate(v2)...),
				Check:            e.checkLive(e.stable, 90, v2, 10),
			},
			{
				// v3 replaces v2: v1 stays stable, v3 starts at step 1.
				Config:           config(v3, 0),
				ConfigPlanChecks: planned(append(atGate(v3), plancheck.ExpectResourceAction(deployAddress, plancheck.ResourceActionUpdate))...),
				Check:            e.checkLive(e.stable, 90, v3, 10),
			},
			{
				// The approval: the rest of the rollout.
				Config: config(v3, 2),
				ConfigPlanChecks: planned(
					plannedValue("planned_path", pathValue("step 2: 40 %, gate approved, hold 1s", "step 3: 100 %, promote")),
					plannedValue("phase", knownvalue.StringExact("promoted")),
					plannedValue("traffic", trafficValue(v3, 100)),
				),
				Check: e.checkLive(v3, 100),
			},
			{
				// Fast rollback to the previous stable version: one write, no steps.
				Config: config(e.stable, 2),
				ConfigPlanChecks: planned(
					plannedValue("planned_path", pathValue("step 0: all traffic back to the stable version")),
					plannedValue("phase", knownvalue.StringExact("stable")),
					plannedValue("traffic", trafficValue(e.stable, 100)),
				),
				ConfigStateChecks: []statecheck.StateCheck{stateValue("stable_version_id", knownvalue.StringExact(e.stable))},
				Check: resource.ComposeTestCheckFunc(e.checkLive(e.stable, 100), func(*terraform.State) error {
					if status, body := e.get("/"); status != 200 || body != "v1" {
						return fmt.Errorf("after the rollback the service answers %d %q", status, body)
					}
					return nil
				}),
			},
		},
	})
}

// max_apply_duration ends an apply before a step that does not fit (a warning; the plan said
// so); the next apply continues from there.
func TestAccDeployment_budgetPauseThenResume(t *testing.T) {
	t.Parallel()
	e := newRolloutEnv(t, "tf-acc-dep-budget")
	v2 := e.upload("v2", healthy)
	cfg := e.config(fmt.Sprintf(`
  version_id         = %q
  strategy           = "rolling"
  rolling            = { batch_percent = 30, hold = "2s" }
  max_apply_duration = "5s"`, v2))
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigPlanChecks: planned(
					plannedValue("planned_path", pathValue("step 1: 30 %, hold 2s", "step 2: 60 %, hold 2s")),
					plannedValue("phase", knownvalue.StringExact("paused")),
					plannedValue("pause_reason", knownvalue.StringExact("budget")),
					plannedValue("reason", knownvalue.StringExact("max_apply_duration (5s) ends this apply before step 3 (90 %, hold 2s); the next apply continues with it")),
					plannedValue("traffic", trafficValue(e.stable, 40, v2, 60)),
				),
				Check: e.checkLive(e.stable, 40, v2, 60),
				// The next plan continues the rollout.
				ExpectNonEmptyPlan: true,
			},
			{
				Config: cfg,
				ConfigPlanChecks: planned(
					plannedValue("planned_path", pathValue("step 3: 90 %, hold 2s", "step 4: 100 %, promote")),
					plannedValue("phase", knownvalue.StringExact("promoted")),
				),
				Check: e.checkLive(v2, 100),
			},
		},
	})
}

// Blue/green: the new version previews at 0 %, reachable only with the version-override
// header, probed there; the switch waits for approval (the seed's switchTraffic), then moves
// all traffic at once.
func TestAccDeployment_blueGreen(t *testing.T) {
	t.Parallel()
	e := newRolloutEnv(t, "tf-acc-dep-bg")
	v2 := e.upload("v2", healthy)
	config := func(approved int) string {
		return e.config(fmt.Sprintf(`
  version_id            = %q
  strategy              = "blue_green"
  blue_green            = {}
  approved_through_step = %d
  analysis              = { interval = "1s", probe = { url = %q, path = "/health" } }`, v2, approved, e.probeURL))
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: config(0),
				ConfigPlanChecks: planned(
					plannedValue("planned_path", pathValue("step 0: preview at 0 % (version-override header only), checked")),
					plannedValue("phase", knownvalue.StringExact("paused")),
					plannedValue("step", knownvalue.Int64Exact(0)),
					plannedValue("traffic", trafficValue(e.stable, 100, v2, 0)),
				),
				ConfigStateChecks: []statecheck.StateCheck{stateValue("last_analysis", knownvalue.StringExact("probe GET /health answered 200"))},
				Check: resource.ComposeTestCheckFunc(
					e.checkLive(e.stable, 100, v2, 0),
					e.answers(nil, "v1"),
					e.answers(e.override(v2), "v2"),
				),
			},
			{
				Config: config(1),
				ConfigPlanChecks: planned(
					// One more check of the preview before traffic moves, then the switch.
					plannedValue("planned_path", pathValue("step 0: stay at 0 %, checked", "step 1: 100 %, promote, gate approved")),
					plannedValue("traffic", trafficValue(v2, 100)),
				),
				Check: resource.ComposeTestCheckFunc(e.checkLive(v2, 100), e.answers(nil, "v2"), e.answers(e.override(e.stable), "v2")),
			},
		},
	})
}

// A deployment made outside Terraform (`wrangler versions deploy`, a rollback) shows as
// drift: the refresh records it, and the plan re-asserts the configuration.
func TestAccDeployment_outOfBandDeployment(t *testing.T) {
	t.Parallel()
	e := newRolloutEnv(t, "tf-acc-dep-drift")
	v2 := e.upload("v2", healthy)
	cfg := e.config(fmt.Sprintf(`
  version_id = %q
  strategy   = "immediate"`, e.stable))
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: cfg, ConfigStateChecks: []statecheck.StateCheck{stateValue("phase", knownvalue.StringExact("stable"))}},
			{
				PreConfig: func() {
					if _, err := e.client.CreateDeployment(context.Background(), e.name, []cloudflare.DeploymentVersion{
						{VersionID: e.stable, Percentage: 50}, {VersionID: v2, Percentage: 50},
					}, "wrangler versions deploy", false); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(deployAddress, plancheck.ResourceActionUpdate),
						plannedValue("planned_path", pathValue("step 0: all traffic back to the stable version")),
						plannedValue("traffic", trafficValue(e.stable, 100)),
					},
				},
				Check: e.checkLive(e.stable, 100),
			},
			{
				// The refresh alone records the change outside Terraform.
				PreConfig: func() {
					if _, err := e.client.CreateDeployment(context.Background(), e.name, []cloudflare.DeploymentVersion{{VersionID: v2, Percentage: 100}}, "rollback", false); err != nil {
						t.Fatal(err)
					}
				},
				RefreshState: true,
				Check: func(s *terraform.State) error {
					if stateAttr(s, "phase") != "paused" || stateAttr(s, "pause_reason") != "external_change" ||
						stateAttr(s, "traffic.#") != "1" || stateAttr(s, "traffic.0.version_id") != v2 ||
						!strings.HasPrefix(stateAttr(s, "reason"), "the active deployment was changed outside Terraform: deployment ") {
						return fmt.Errorf("after the refresh: %v", s.RootModule().Resources[deployAddress].Primary.Attributes)
					}
					return nil
				},
				ExpectNonEmptyPlan: true,
			},
			{Config: cfg, Check: e.checkLive(e.stable, 100)},
		},
	})
}

// Rollout events are signed when notify.secret is set (write-only, so Terraform 1.11+): the
// signature header is the HMAC-SHA256 of the body, and the secret is nowhere in the state.
func TestAccDeployment_signedEvents(t *testing.T) {
	t.Parallel()
	e := newRolloutEnv(t, "tf-acc-dep-hmac")
	v2 := e.upload("v2", healthy)
	hook := newWebhook(t)
	const secret = "hook-s3cret-value"
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		Steps: []resource.TestStep{{
			Config: e.config(fmt.Sprintf(`
  version_id = %q
  strategy   = "immediate"
  notify     = { webhook_url = %q, secret = %q }`, v2, hook.url, secret)),
			Check: func(s *terraform.State) error {
				if got := hook.kinds(); got != "started completed" {
					return fmt.Errorf("events %q", got)
				}
				for _, ev := range hook.received() {
					if want := "sha256=" + signature([]byte(secret), ev.raw); ev.header.Get(signatureHeader) != want {
						return fmt.Errorf("%s: signature %q, want %q", ev.Event, ev.header.Get(signatureHeader), want)
					}
				}
				for k, v := range s.RootModule().Resources[deployAddress].Primary.Attributes {
					if strings.Contains(v, secret) {
						return fmt.Errorf("the secret is in the state (%s)", k)
					}
				}
				return e.checkLive(v2, 100)(s)
			},
		}},
	})
}

// The typical configuration: a managed service uploads each new version and the deployment
// rolls it out (the seed's migrate({ from, to, duration }) as batches over the duration). The
// new version's id is known only after the upload, yet the plan already shows the path.
func TestAccDeployment_withManagedService(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	edgeURL := edge.startWorkers(t)
	dir := t.TempDir()
	code := writeCode(t, dir, "index.js", versionCode("one", healthy))
	name := uniqueName("tf-acc-dep-svc")
	cfg := edge.serviceConfig(name, code, `rollout = "managed"
  workers_dev = true`) + `
resource "servicesdo_deployment" "test" {
  service    = servicesdo_service.test.name
  version_id = servicesdo_service.test.latest_version_id
  strategy   = "rolling"
  rolling    = { batch_percent = 50, hold = "1s" }
}
`
	e := &rolloutEnv{testEdge: edge, t: t, name: name, edgeURL: edgeURL}
	var first string
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("phase", knownvalue.StringExact("stable")),
					stateValue("planned_path", pathValue()),
				},
				Check: func(s *terraform.State) error {
					first = stateAttr(s, "stable_version_id")
					return e.checkLive(first, 100)(s)
				},
			},
			{
				PreConfig: func() { writeCode(t, dir, "index.js", versionCode("two", healthy)) },
				Config:    cfg,
				ConfigPlanChecks: planned(
					plancheck.ExpectUnknownValue(deployAddress, tfjsonpath.New("version_id")),
					plannedValue("planned_path", pathValue("step 1: 50 %, hold 1s", "step 2: 100 %, promote")),
					plannedValue("phase", knownvalue.StringExact("promoted")),
					plancheck.ExpectUnknownValue(deployAddress, tfjsonpath.New("traffic")),
				),
				Check: func(s *terraform.State) error {
					v := stateAttr(s, "version_id")
					if v == first || stateAttr(s, "stable_version_id") != v {
						return fmt.Errorf("version_id %s, stable %s (first %s)", v, stateAttr(s, "stable_version_id"), first)
					}
					if status, body := e.get("/"); status != 200 || body != "two" {
						return fmt.Errorf("the service answers %d %q", status, body)
					}
					return e.checkLive(v, 100)(s)
				},
			},
		},
	})
}

// keep_version_id keeps a version reachable at 0 % once settled (the seed's
// service.route({ v1, v2, latest }): pinned versions reachable through the override header).
// A deployment holds two versions: a third is a plan-time error.
func TestAccDeployment_keepVersion(t *testing.T) {
	t.Parallel()
	e := newRolloutEnv(t, "tf-acc-dep-keep")
	v1 := e.stable
	v2, v3 := e.upload("v2", healthy), e.upload("v3", healthy)
	config := func(version, keep string) string {
		if keep != "" {
			keep = fmt.Sprintf("keep_version_id = %q", keep)
		}
		return e.config(fmt.Sprintf(`
  version_id = %q
  %s
  strategy   = "canary"
  steps      = [{ percent = 50, hold = "1s" }]`, version, keep))
	}
	short := func(v string) string { return v[:8] }
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: config(v2, v1),
				ConfigPlanChecks: planned(
					plannedValue("planned_path", pathValue("step 1: 50 %, hold 1s", "step 2: 100 %, promote", "keep "+short(v1)+" at 0 % (version-override header only)")),
					plannedValue("traffic", trafficValue(v2, 100, v1, 0)),
				),
				Check: resource.ComposeTestCheckFunc(e.checkLive(v2, 100, v1, 0), e.answers(nil, "v2"), e.answers(e.override(v1), "v1")),
			},
			{
				Config: config(v3, v1), PlanOnly: true,
				ExpectError: expectError(fmt.Sprintf("this configuration needs 3 versions in one deployment (%s, %s, %s), and a Workers deployment holds at most 2. "+
					"Let the rollout in flight finish, or set version_id to the stable version to roll back, before adding another version.", v2, v3, v1)),
			},
			{
				Config: config(v3, v2),
				ConfigPlanChecks: planned(
					plannedValue("planned_path", pathValue("step 1: 50 %, hold 1s", "step 2: 100 %, promote", "keep "+short(v2)+" at 0 % (version-override header only)")),
					plannedValue("traffic", trafficValue(v3, 100, v2, 0)),
				),
				Check: resource.ComposeTestCheckFunc(e.checkLive(v3, 100, v2, 0), e.answers(e.override(v2), "v2"), e.answers(e.override(v1), "v3")),
			},
			{
				Config: config(v3, ""),
				ConfigPlanChecks: planned(
					plannedValue("planned_path", pathValue("no version kept at 0 %")),
					plannedValue("traffic", trafficValue(v3, 100)),
				),
				Check: e.checkLive(v3, 100),
			},
		},
	})
}
