package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
)

// Every computed value a change cannot move stays known in the plan; only what it can
// move is (known after apply).
func TestAccService_readablePlans(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	code := writeCode(t, t.TempDir(), "index.js", workerCode("plans"))
	name := uniqueName("tf-acc-svc-plans")
	known := func(attrs ...string) []plancheck.PlanCheck {
		var out []plancheck.PlanCheck
		for _, a := range attrs {
			out = append(out, plancheck.ExpectKnownValue(svcAddress, tfjsonpath.New(a), knownvalue.NotNull()))
		}
		return out
	}
	unknown := func(attrs ...string) []plancheck.PlanCheck {
		var out []plancheck.PlanCheck
		for _, a := range attrs {
			out = append(out, plancheck.ExpectUnknownValue(svcAddress, tfjsonpath.New(a)))
		}
		return out
	}
	update := plancheck.ExpectResourceAction(svcAddress, plancheck.ResourceActionUpdate)
	checks := func(groups ...[]plancheck.PlanCheck) resource.ConfigPlanChecks {
		all := []plancheck.PlanCheck{update}
		for _, g := range groups {
			all = append(all, g...)
		}
		return resource.ConfigPlanChecks{PreApply: all}
	}
	versions := []string{"deployed_version_id", "etag", "latest_version_id", "modified_on"}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkServicesDestroyed,
		Steps: []resource.TestStep{
			{Config: edge.serviceConfig(name, code, "")},
			{
				// Health is the provider's own: nothing on the platform moves.
				Config:           edge.serviceConfig(name, code, `health = { path = "/health" }`),
				ConfigPlanChecks: checks(known(append(versions, "url")...)),
			},
			{
				Config: edge.serviceConfig(name, code, `health = { path = "/health" }
  crons = ["0 * * * *"]`),
				ConfigPlanChecks: checks(known(append(versions, "url")...)),
			},
			{
				// A route moves the URL only.
				Config: edge.serviceConfig(name, code, `health = { path = "/health" }
  crons = ["0 * * * *"]
  routes = [{ pattern = "plans.example.com/*" }]`),
				ConfigPlanChecks:  checks(known(versions...), unknown("url")),
				ConfigStateChecks: nil,
			},
			{
				// A binding makes and deploys a version of the same code: the etag stays.
				Config: edge.serviceConfig(name, code, `health = { path = "/health" }
  crons = ["0 * * * *"]
  routes = [{ pattern = "plans.example.com/*" }]
  vars = { MODE = "x" }`),
				ConfigPlanChecks: checks(known("etag", "url"), unknown("deployed_version_id", "latest_version_id", "modified_on")),
			},
		},
	})
}

// A Durable Object rename reads as a rename in the plan.
func TestAccService_renamePlan(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	dir := t.TempDir()
	code := writeCode(t, dir, "index.js", fmt.Sprintf(counterCode, "Counter"))
	name := uniqueName("tf-acc-svc-rename")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkServicesDestroyed,
		Steps: []resource.TestStep{
			{
				Config: edge.serviceConfig(name, code, `durable_objects = { COUNTER = { class_name = "Counter" } }
  allow_delete = true`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(svcAddress, tfjsonpath.New("durable_object_migration"), knownvalue.StringExact("v1: new Counter")),
					plancheck.ExpectKnownValue(svcAddress, tfjsonpath.New("migration_tag"), knownvalue.StringExact("v1")),
				}},
			},
			{
				PreConfig: func() { writeCode(t, dir, "index.js", fmt.Sprintf(counterCode, "Tally")) },
				Config: edge.serviceConfig(name, code, `durable_objects = { COUNTER = { class_name = "Tally", renamed_from = "Counter" } }
  allow_delete = true`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(svcAddress, tfjsonpath.New("durable_object_migration"), knownvalue.StringExact("v2: rename Counter → Tally (objects and data kept)")),
					// Not "- Counter = true -> null": the class map is settled by the rename.
					plancheck.ExpectUnknownValue(svcAddress, tfjsonpath.New("durable_object_classes")),
				}},
				ConfigStateChecks: nil,
			},
			{
				Config: edge.serviceConfig(name, code, `durable_objects = { COUNTER = { class_name = "Tally", renamed_from = "Counter" } }
  allow_delete = true`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

// Two resources with one name are refused at plan time.
func TestAccService_duplicateNames(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	dir := t.TempDir()
	one, two := writeCode(t, dir, "one.js", workerCode("one")), writeCode(t, dir, "two.js", workerCode("two"))
	name := uniqueName("tf-acc-svc-dup")
	config := edge.providerBlock("") + fmt.Sprintf(`
resource "servicesdo_service" "a" {
  name               = %[1]q
  main_module        = "index.js"
  modules            = { "index.js" = %[2]q }
  compatibility_date = "2025-01-01"
}
resource "servicesdo_service" "b" {
  name               = %[1]q
  main_module        = "index.js"
  modules            = { "index.js" = %[3]q }
  compatibility_date = "2025-01-01"
}
`, name, one, two)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config:   config,
			PlanOnly: true,
			ExpectError: expectError(fmt.Sprintf(`Another servicesdo_service in this configuration also has name = %q. A name is one Worker: two resources with it `+
				`would overwrite each other's code and settings. Give each service its own name.`, name)),
		}},
	})
}

// A destroy that would delete Durable Object data is refused at plan time, and deletes
// nothing, not even the other services.
func TestAccService_destroyRefusedAtPlan(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	dir := t.TempDir()
	doCode := writeCode(t, dir, "do.js", durableObjectCode)
	plainCode := writeCode(t, dir, "plain.js", workerCode("plain"))
	name := uniqueName("tf-acc-svc-keep")
	config := func(allowDelete bool) string {
		return edge.providerBlock("") + fmt.Sprintf(`
resource "servicesdo_service" "test" {
  name               = %[1]q
  main_module        = "index.js"
  modules            = { "index.js" = %[2]q }
  compatibility_date = "2025-01-01"
  durable_objects    = { COUNTER = { class_name = "Counter" } }
  allow_delete       = %[4]t
}
resource "servicesdo_service" "plain" {
  name               = "%[1]s-plain"
  main_module        = "index.js"
  modules            = { "index.js" = %[3]q }
  compatibility_date = "2025-01-01"
}
`, name, doCode, plainCode, allowDelete)
	}
	bothExist := func() {
		for _, n := range []string{name, name + "-plain"} {
			if _, err := edge.client.GetScript(context.Background(), n); err != nil {
				t.Fatalf("the refused destroy deleted %s: %v", n, err)
			}
		}
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkServicesDestroyed,
		Steps: []resource.TestStep{
			{Config: config(false)},
			{
				Config:  config(false),
				Destroy: true,
				ExpectError: expectError(fmt.Sprintf(`Destroying service %q deletes Durable Object classes Counter with the data of all their objects, `+
					`and allow_delete is false, so this destroy is refused before anything is deleted. Set allow_delete = true and apply, then destroy`, name)),
			},
			{PreConfig: bothExist, Config: config(true)},
		},
	})
}

// Bindings to objects created in the same plan are not taken for missing ones.
func TestAccService_bindingsToObjectsOfThePlan(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	dir := t.TempDir()
	code, target := writeCode(t, dir, "index.js", workerCode("caller")), writeCode(t, dir, "target.js", workerCode("target"))
	name := uniqueName("tf-acc-svc-bind")
	config := edge.providerBlock("") + fmt.Sprintf(`
resource "servicesdo_kv_namespace" "cache" {
  title = "%[1]s-cache"
}
resource "servicesdo_r2_bucket" "files" {
  name = "%[1]s-files"
}
resource "servicesdo_service" "target" {
  name               = "%[1]s-target"
  main_module        = "index.js"
  modules            = { "index.js" = %[3]q }
  compatibility_date = "2025-01-01"
}
resource "servicesdo_service" "test" {
  name               = %[1]q
  main_module        = "index.js"
  modules            = { "index.js" = %[2]q }
  compatibility_date = "2025-01-01"
  kv_namespaces      = { CACHE = servicesdo_kv_namespace.cache.id }
  r2_buckets         = { FILES = { bucket_name = servicesdo_r2_bucket.files.name } }
  services           = { TARGET = { service = servicesdo_service.target.name } }
}
`, name, code, target)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkServicesDestroyed,
		Steps: []resource.TestStep{
			{Config: config},
			{Config: config, ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
		},
	})
}

// renamed_from naming a class the service never had is refused on update too.
func TestAccService_invalidRenameOnUpdate(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	code := writeCode(t, t.TempDir(), "index.js", durableObjectCode)
	name := uniqueName("tf-acc-svc-badrename")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkServicesDestroyed,
		Steps: []resource.TestStep{
			{Config: edge.serviceConfig(name, code, `durable_objects = { COUNTER = { class_name = "Counter" } }
  allow_delete = true`)},
			{
				Config: edge.serviceConfig(name, code, `durable_objects = { COUNTER = { class_name = "Counter" }, TALLY = { class_name = "Tally", renamed_from = "Countr" } }
  allow_delete = true`),
				PlanOnly: true,
				ExpectError: expectError(`durable object class "Tally" has renamed_from = "Countr", but the service has no class "Countr" (its classes: Counter), ` +
					`so there is nothing to rename. Remove renamed_from to create "Tally" as a new class, or set it to the class being replaced.`),
			},
		},
	})
}

// An unknown compatibility flag is a warning that names the closest known flag.
func TestAccService_unknownCompatibilityFlagWarns(t *testing.T) {
	edge := newTestEdge(t)
	logPath := filepath.Join(t.TempDir(), "warn.log")
	t.Setenv("TF_LOG", "WARN")
	t.Setenv("TF_ACC_LOG_PATH", logPath)
	code := writeCode(t, t.TempDir(), "index.js", workerCode("flags"))
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config:             edge.serviceConfig(invalidServiceName, code, `compatibility_flags = ["nodejs_compatt"]`),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		}},
	})
	logs, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	want := `compatibility_flags has \"nodejs_compatt\", which is not a flag the Workers runtime knows: Cloudflare rejects the upload of a Worker with an unknown flag. Did you mean nodejs_compat`
	if !strings.Contains(string(logs), want) && !strings.Contains(string(logs), strings.ReplaceAll(want, `\"`, `"`)) {
		t.Fatalf("the log has no warning about the unknown flag")
	}
}

// State saved by schema version 0 (secret_hashes) upgrades to secret names, as Terraform
// hands it over: the JSON of the state file, through the protocol.
func TestServiceStateUpgradeFromV0(t *testing.T) {
	t.Parallel()
	server, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	v0 := `{"id":"cart","name":"cart","main_module":"index.js","compatibility_date":"2025-01-01","usage_model":"standard",
"module_hashes":{"index.js":"aa"},"secret_hashes":{"API_KEY":"pbkdf2-sha256$20000$c2FsdA$aGFzaA","OLD":"set outside Terraform"},
"allow_delete":false,"workers_dev":false,"rollout":"immediate","migration_tag":"","durable_object_classes":{},
"etag":"e","latest_version_id":"v","deployed_version_id":"v","url":"","created_on":"2025-01-01T00:00:00Z","modified_on":"2025-01-01T00:00:00Z"}`
	resp, err := server.UpgradeResourceState(context.Background(), &tfprotov6.UpgradeResourceStateRequest{
		TypeName: "servicesdo_service", Version: 0, RawState: &tfprotov6.RawState{JSON: []byte(v0)},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.Diagnostics {
		t.Fatalf("upgrade: %s: %s", d.Summary, d.Detail)
	}
	schemaResp, err := server.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	upgraded, err := resp.UpgradedState.Unmarshal(schemaResp.ResourceSchemas["servicesdo_service"].ValueType())
	if err != nil {
		t.Fatal(err)
	}
	var values map[string]tftypes.Value
	if err := upgraded.As(&values); err != nil {
		t.Fatal(err)
	}
	if _, kept := values["secret_hashes"]; kept {
		t.Fatal("secret_hashes survived the upgrade")
	}
	var names []tftypes.Value
	if err := values["secret_names"].As(&names); err != nil || len(names) != 2 {
		t.Fatalf("secret_names = %v, %v", values["secret_names"], err)
	}
	var got []string
	for _, n := range names {
		var s string
		_ = n.As(&s)
		got = append(got, s)
	}
	if strings.Join(got, ",") != "API_KEY,OLD" || !values["secrets_version"].IsNull() {
		t.Fatalf("secret_names %v, secrets_version %v", got, values["secrets_version"])
	}
	if strings.Contains(upgraded.String(), "pbkdf2") {
		t.Fatal("a hash survived the upgrade")
	}
	var name string
	if err := values["name"].As(&name); err != nil || name != "cart" {
		t.Fatalf("name %q, %v", name, err)
	}
}

// Renaming a service replaces its Worker: refused at plan time when that deletes data.
func TestAccService_renameRefusedAtPlan(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	code := writeCode(t, t.TempDir(), "index.js", durableObjectCode)
	name := uniqueName("tf-acc-svc-ren")
	counter := `durable_objects = { COUNTER = { class_name = "Counter" } }`
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkServicesDestroyed,
		Steps: []resource.TestStep{
			{Config: edge.serviceConfig(name, code, counter)},
			{
				Config:   edge.serviceConfig(name+"-new", code, counter),
				PlanOnly: true,
				ExpectError: expectError(fmt.Sprintf(`Renaming service %q to "%s-new" replaces the Worker, which deletes Durable Object classes Counter `+
					`with the data of all their objects, and allow_delete is false.`, name, name)),
			},
			{Config: edge.serviceConfig(name, code, counter+"\n  allow_delete = true")},
		},
	})
}

// requestsCheck is a plan check on the local edge's request counters, which PreConfig resets:
// what the refresh and plan of the step asked the API.
type requestsCheck struct {
	edge *testEdge
	want map[string]int
}

func (c requestsCheck) CheckPlan(_ context.Context, _ plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	if err := c.edge.expectRequests(c.want)(nil); err != nil {
		resp.Error = err
	}
}

// A no-op plan of a service with bindings of every kind and a route looks none of their
// targets up (only new or changed bindings are checked), and reads neither the versions,
// the code nor the Durable Object classes of a script that has not changed.
func TestAccService_noOpPlanLooksNothingUp(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	edge.requireLocal(t)
	ctx := context.Background()
	dir := t.TempDir()
	code, target := writeCode(t, dir, "index.js", workerCode("caller")), writeCode(t, dir, "target.js", durableObjectCode)
	name := uniqueName("tf-acc-svc-noop")
	kv, err := edge.client.CreateKVNamespace(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := edge.client.CreateR2Bucket(ctx, cloudflare.R2BucketSpec{Name: name + "-files"}); err != nil {
		t.Fatal(err)
	}
	config := edge.providerBlock(fmt.Sprintf("zone_id = %q", testZoneID)) + fmt.Sprintf(`
resource "servicesdo_service" "target" {
  name               = "%[1]s-target"
  main_module        = "index.js"
  modules            = { "index.js" = %[3]q }
  compatibility_date = "2025-01-01"
  durable_objects    = { COUNTER = { class_name = "Counter" } }
  allow_delete       = true
}
resource "servicesdo_service" "test" {
  name               = %[1]q
  main_module        = "index.js"
  modules            = { "index.js" = %[2]q }
  compatibility_date = "2025-01-01"
  kv_namespaces      = { CACHE = %[4]q }
  r2_buckets         = { FILES = { bucket_name = "%[1]s-files" } }
  services           = { TARGET = { service = servicesdo_service.target.name } }
  durable_objects    = { REMOTE = { class_name = "Counter", script_name = servicesdo_service.target.name } }
  routes             = [{ pattern = "noop.example.com/*" }]
}
`, name, code, target, kv.ID)
	lookups := map[string]int{
		"GET /accounts/{account_id}/storage/kv/namespaces":                    0,
		"GET /accounts/{account_id}/r2/buckets/{bucket_name}":                 0,
		"GET /zones/{zone_id}":                                                0,
		"GET /accounts/{account_id}/workers/durable_objects/namespaces":       0,
		"GET /accounts/{account_id}/workers/scripts/{script_name}/versions":   0,
		"GET /accounts/{account_id}/workers/scripts/{script_name}/content/v2": 0,
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkServicesDestroyed,
		Steps: []resource.TestStep{
			{Config: config},
			{
				PreConfig: edge.local.ResetRequestCounts,
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(), requestsCheck{edge: edge, want: lookups},
				}},
			},
		},
	})
}
