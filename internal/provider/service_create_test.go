package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workerscript"
)

// noRetryServiceConfig is a service with a Durable Object class under a provider that
// never retries, so that an injected fault reaches the resource as it happened.
func (e *testEdge) noRetryServiceConfig(name, codePath string) string {
	return e.providerBlock(fmt.Sprintf("zone_id = %q\n  max_retries = 0", testZoneID)) + fmt.Sprintf(`
resource "servicesdo_service" "test" {
  name               = %q
  main_module        = "index.js"
  modules            = { "index.js" = %q }
  compatibility_date = "2025-01-01"
  vars               = { MODE = "a" }
  durable_objects    = { COUNTER = { class_name = "Counter" } }
  crons              = ["0 * * * *"]
  allow_delete       = true
}
`, name, codePath)
}

// expectAdopted checks that the Worker is the plan's, with its one class and no marker left.
func (e *testEdge) expectAdopted(name string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		ctx := context.Background()
		script, err := e.client.GetScript(ctx, name)
		if err != nil {
			return err
		}
		if markers := workerscript.CreateMarkers(script.Tags); len(markers) > 0 {
			return fmt.Errorf("the create marker is still on the Worker: %v", script.Tags)
		}
		if script.MigrationTag != "v1" {
			return fmt.Errorf("migration tag %q, want v1 (one migration)", script.MigrationTag)
		}
		if _, err := e.namespaceOf(name, "Counter"); err != nil {
			return err
		}
		crons, err := e.client.GetSchedules(ctx, name)
		if err != nil || len(crons) != 1 {
			return fmt.Errorf("cron triggers %v, %v", crons, err)
		}
		return nil
	}
}

// A create whose response is lost after the upload committed (dropped connection,
// truncated body) adopts the Worker it made instead of failing or overwriting.
func TestAccService_createAdoptsAfterLostResponse(t *testing.T) {
	t.Parallel()
	for _, fault := range []struct {
		name string
		kind localedge.FaultKind
	}{{"dropped", localedge.FaultDropAfterCommit}, {"truncated", localedge.FaultTruncate}} {
		t.Run(fault.name, func(t *testing.T) {
			t.Parallel()
			edge := newTestEdge(t)
			edge.requireLocal(t)
			code := writeCode(t, t.TempDir(), "index.js", fmt.Sprintf(counterCode, "Counter"))
			name := uniqueName("tf-acc-svc-lost")
			config := edge.noRetryServiceConfig(name, code)
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				CheckDestroy:             edge.checkServicesDestroyed,
				Steps: []resource.TestStep{
					{
						PreConfig: func() {
							edge.local.InjectFault(localedge.Fault{Kind: fault.kind, Method: "PUT", PathContains: "/workers/scripts/" + name, Times: 1})
						},
						Config: config,
						Check: resource.ComposeTestCheckFunc(
							func(*terraform.State) error {
								if edge.local.FaultHits() != 1 {
									return fmt.Errorf("the upload's response was not lost (%d fault hits): the test proves nothing", edge.local.FaultHits())
								}
								return nil
							},
							edge.expectAdopted(name),
							func(*terraform.State) error { return edge.checkServiceCode(name, fmt.Sprintf(counterCode, "Counter")) },
						),
					},
					{
						Config:           config,
						ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
					},
				},
			})
		})
	}
}

// A create interrupted after its upload committed, and before state was saved (as when
// terraform is killed), leaves a Worker with this configuration's marker: the next apply
// adopts it, with no import.
func TestAccService_createAdoptsAfterInterruptedApply(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	edge.requireLocal(t)
	code := writeCode(t, t.TempDir(), "index.js", fmt.Sprintf(counterCode, "Counter"))
	name := uniqueName("tf-acc-svc-crash")
	config := edge.noRetryServiceConfig(name, code)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkServicesDestroyed,
		Steps: []resource.TestStep{
			{
				// The upload commits but its answer is lost, and so is the look-up after it:
				// Create fails with nothing in state, the Worker left behind.
				PreConfig: func() {
					edge.local.InjectFault(localedge.Fault{Kind: localedge.FaultDropAfterCommit, Method: "PUT", PathContains: "/workers/scripts/" + name, Times: 1})
					edge.local.InjectFault(localedge.Fault{Kind: localedge.FaultServerError, Method: "GET", PathContains: "/workers/scripts", Every: 2, Times: 1})
				},
				Config:      config,
				ExpectError: regexp.MustCompile(`Cannot create service[\s\S]*` + expectError(fmt.Sprintf("uploading Worker %q", name)).String()),
			},
			{
				PreConfig: func() {
					edge.local.ClearFaults()
					script, err := edge.client.GetScript(context.Background(), name)
					if err != nil || len(workerscript.CreateMarkers(script.Tags)) != 1 {
						t.Fatalf("the interrupted create left %+v, %v; want a Worker with its marker", script, err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddress, plancheck.ResourceActionCreate),
				}},
				Check: edge.expectAdopted(name),
			},
			{
				Config:           config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

// A Worker of the same name made outside Terraform is refused, untouched.
func TestAccService_createRefusesExistingWorker(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	code := writeCode(t, t.TempDir(), "index.js", workerCode("mine"))
	name := uniqueName("tf-acc-svc-taken")
	theirs := []byte(workerCode("theirs"))
	if _, err := edge.client.UploadScript(context.Background(), cloudflare.ScriptUpload{
		Name: name, MainModule: "index.js", CompatibilityDate: "2025-01-01",
		Modules:  []cloudflare.Module{{Name: "index.js", Content: theirs}},
		Bindings: []cloudflare.Binding{{Type: cloudflare.BindingSecretText, Name: "THEIR_KEY", Text: "their-value"}},
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = edge.client.DeleteScript(context.Background(), name, true) })
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: edge.serviceConfig(name, code, ""),
			ExpectError: regexp.MustCompile(expectError(fmt.Sprintf("A Worker named %q already exists in account %s (made outside this configuration, created", name, edge.accountID)).String() +
				`[\s\S]*` + expectError(fmt.Sprintf("`terraform import servicesdo_service.<name> %s` or an import block.", name)).String()),
		}},
	})
	if err := edge.checkServiceCode(name, string(theirs)); err != nil {
		t.Fatalf("the existing Worker was changed: %v", err)
	}
	secrets, err := edge.client.ListSecrets(context.Background(), name)
	if err != nil || len(secrets) != 1 || secrets[0].Name != "THEIR_KEY" {
		t.Fatalf("the existing Worker's secrets are %v, %v", secrets, err)
	}
}

// A Worker left by an interrupted create of other code may be another configuration's: refused.
func TestAccService_createRefusesOtherCreatesMarker(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	code := writeCode(t, t.TempDir(), "index.js", workerCode("mine"))
	name := uniqueName("tf-acc-svc-other")
	other := workerscript.CreateMarker(name, "index.js", map[string]string{"index.js": "not-this-code"})
	if _, err := edge.client.UploadScript(context.Background(), cloudflare.ScriptUpload{
		Name: name, MainModule: "index.js", CompatibilityDate: "2025-01-01", Tags: []string{other},
		Modules: []cloudflare.Module{{Name: "index.js", Content: []byte(workerCode("other"))}},
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = edge.client.DeleteScript(context.Background(), name, true) })
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: edge.serviceConfig(name, code, ""),
			ExpectError: expectError(fmt.Sprintf("A Worker named %q already exists in account %s (left by an interrupted create of different code (its marker %s is not this plan's)",
				name, edge.accountID, other)),
		}},
	})
}

// A read-back that fails once right after the upload is retried: state is complete.
func TestAccService_readBackRetried(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	edge.requireLocal(t)
	code := writeCode(t, t.TempDir(), "index.js", workerCode("v1"))
	name := uniqueName("tf-acc-svc-rb")
	config := edge.providerBlock("max_retries = 0") + serviceResourceBlock(name, code, "")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkServicesDestroyed,
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					edge.local.InjectFault(localedge.Fault{Kind: localedge.FaultTruncate, Method: "GET", PathContains: "/workers/scripts/" + name + "/versions", Times: 1})
				},
				Config: config,
				Check: func(s *terraform.State) error {
					if edge.local.FaultHits() != 1 {
						return fmt.Errorf("%d fault hits: the test proves nothing", edge.local.FaultHits())
					}
					attrs := s.RootModule().Resources[svcAddress].Primary.Attributes
					if attrs["latest_version_id"] == "" || attrs["deployed_version_id"] != attrs["latest_version_id"] {
						return fmt.Errorf("the retried read-back left latest %q, deployed %q", attrs["latest_version_id"], attrs["deployed_version_id"])
					}
					return nil
				},
			},
			{
				Config:           config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

// serviceResourceBlock is a service resource alone, for configurations with their own
// provider block.
func serviceResourceBlock(name, codePath, extra string) string {
	return fmt.Sprintf(`
resource "servicesdo_service" "test" {
  name               = %q
  main_module        = "index.js"
  modules            = { "index.js" = %q }
  compatibility_date = "2025-01-01"
  %s
}
`, name, codePath, extra)
}

// A read-back that keeps failing after a create does not taint the live Worker: state has
// no unknowns, and the next plan is empty (nothing replaced).
func TestAccService_readBackFailsAfterCreate(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	edge.requireLocal(t)
	code := writeCode(t, t.TempDir(), "index.js", workerCode("v1"))
	name := uniqueName("tf-acc-svc-rbc")
	config := edge.providerBlock("max_retries = 0") + serviceResourceBlock(name, code, "")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkServicesDestroyed,
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					edge.local.InjectFault(localedge.Fault{Kind: localedge.FaultTruncate, Method: "GET", PathContains: "/workers/scripts/" + name + "/versions"})
				},
				Config: config,
				Check: func(s *terraform.State) error {
					// Before the refresh of the plan that follows the apply.
					hits := edge.local.FaultHits()
					edge.local.ClearFaults()
					if hits != 1+len(readBackWaits) {
						return fmt.Errorf("%d fault hits, want one per read-back attempt (%d)", hits, 1+len(readBackWaits))
					}
					rs := s.RootModule().Resources[svcAddress]
					if rs.Primary.Tainted {
						return fmt.Errorf("the service is tainted")
					}
					if v := rs.Primary.Attributes["latest_version_id"]; v != "" {
						return fmt.Errorf("latest_version_id %q, want it empty (unread)", v)
					}
					return nil
				},
			},
			{
				Config:           config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check: func(s *terraform.State) error {
					versions, err := edge.client.ListVersions(context.Background(), name)
					if err != nil || len(versions) != 1 {
						return fmt.Errorf("versions %d, %v: want the one the create made", len(versions), err)
					}
					if s.RootModule().Resources[svcAddress].Primary.Attributes["latest_version_id"] != versions[0].ID {
						return fmt.Errorf("the refresh did not read the version back")
					}
					return nil
				},
			},
		},
	})
}

// After a successful update, a read-back that keeps failing is a clear error; state keeps
// what is known and the next plan is empty.
func TestAccService_readBackFailsAfterUpdate(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	edge.requireLocal(t)
	code := writeCode(t, t.TempDir(), "index.js", workerCode("v1"))
	name := uniqueName("tf-acc-svc-rbu")
	config := func(mode string) string {
		return edge.providerBlock("max_retries = 0") + serviceResourceBlock(name, code, fmt.Sprintf("vars = { MODE = %q }", mode))
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkServicesDestroyed,
		Steps: []resource.TestStep{
			{Config: config("a")},
			{
				// After a full upload the read-back reads only the deployments (for both
				// version ids): make that read fail.
				PreConfig: func() {
					edge.local.InjectFault(localedge.Fault{Kind: localedge.FaultTruncate, Method: "GET", PathContains: "/workers/scripts/" + name + "/deployments"})
				},
				Config:      config("b"),
				ExpectError: expectError(fmt.Sprintf("Worker %q was updated, but reading it back failed", name)),
			},
			{
				PreConfig: func() {
					if edge.local.FaultHits() == 0 {
						t.Fatal("no fault was hit: the test proves nothing")
					}
					edge.local.ClearFaults()
				},
				Config:           config("b"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check: func(*terraform.State) error {
					b, err := edge.bindingsOf(name)
					if err != nil || b["MODE"]["text"] != "b" {
						return fmt.Errorf("MODE = %v, %v", b["MODE"], err)
					}
					return nil
				},
			},
		},
	})
}
