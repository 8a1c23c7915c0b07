package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
)

const svcAddress = "servicesdo_service.test"

// writeCode writes a module file and returns its path.
func writeCode(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func workerCode(body string) string {
	return fmt.Sprintf("export default { async fetch(request, env) { return new Response(%q) } }\n", body)
}

// serviceConfig renders a service with one module file plus extra attributes.
func (e *testEdge) serviceConfig(name, codePath, extra string) string {
	return e.providerBlock(fmt.Sprintf("zone_id = %q", testZoneID)) + fmt.Sprintf(`
resource "servicesdo_service" "test" {
  name               = %q
  main_module        = "index.js"
  modules            = { "index.js" = %q }
  compatibility_date = "2025-01-01"
  %s
}
`, name, codePath, extra)
}

func TestAccService_basic(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	dir := t.TempDir()
	code := writeCode(t, dir, "index.js", workerCode("v1"))
	name := uniqueName("tf-acc-svc")
	config := edge.serviceConfig(name, code, `
  description = "cart service"
  version     = "1.0.0"
  domain      = "commerce"
  tags        = ["team-checkout"]
  vars        = { LOG_LEVEL = "info", EMPTY = "" }
  json_vars   = { FEATURES = jsonencode({ beta = true, limit = 3 }) }
  compatibility_flags = ["nodejs_compat"]
  limits      = { cpu_ms = 50, memory_mb = 128 }
  observability = { enabled = true, head_sampling_rate = 0.5 }
  crons       = ["*/5 * * * *"]
  routes      = [{ pattern = "shop.example.com/cart/*" }]
  custom_domains = ["cart.example.com"]
  workers_dev = true
`)
	var firstVersion string
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkServicesDestroyed,
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(svcAddress, tfjsonpath.New("id"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue(svcAddress, tfjsonpath.New("module_hashes").AtMapKey("index.js"), knownvalue.StringRegexp(hex64)),
					statecheck.ExpectKnownValue(svcAddress, tfjsonpath.New("latest_version_id"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue(svcAddress, tfjsonpath.New("url"), knownvalue.StringExact("https://cart.example.com")),
				},
				Check: func(s *terraform.State) error {
					attrs := s.RootModule().Resources[svcAddress].Primary.Attributes
					firstVersion = attrs["latest_version_id"]
					if attrs["deployed_version_id"] != firstVersion {
						return fmt.Errorf("deployed %s, latest %s: creation must deploy", attrs["deployed_version_id"], firstVersion)
					}
					return edge.checkServiceCode(name, workerCode("v1"))
				},
			},
			{
				Config:           config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				ResourceName:      svcAddress,
				ImportState:       true,
				ImportStateVerify: true,
				// The platform cannot know local file paths or the plan-only memory and health settings.
				ImportStateVerifyIgnore: []string{"modules", "limits.memory_mb", "health"},
			},
		},
	})
}

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (e *testEdge) checkServiceCode(name, want string) error {
	content, err := e.client.GetScriptContent(context.Background(), name, "")
	if err != nil {
		return err
	}
	for _, m := range content.Modules {
		if m.Name == content.MainModule {
			if string(m.Content) != want {
				return fmt.Errorf("serving code is %q, want %q", m.Content, want)
			}
			return nil
		}
	}
	return fmt.Errorf("main module %q not among %d modules", content.MainModule, len(content.Modules))
}

func (e *testEdge) checkServicesDestroyed(s *terraform.State) error {
	return checkAllGone(s, "servicesdo_service", "service", func(rs *terraform.ResourceState) error {
		_, err := e.client.GetScript(context.Background(), rs.Primary.ID)
		return err
	})
}

// requestsDuring counts API requests matching pattern while step runs: the counters reset
// in PreConfig, and the step's Check reads them.
const (
	putScript    = "PUT /accounts/{account_id}/workers/scripts/{script_name}"
	postVersion  = "POST /accounts/{account_id}/workers/scripts/{script_name}/versions"
	putSecret    = "PUT /accounts/{account_id}/workers/scripts/{script_name}/secrets"
	putSchedules = "PUT /accounts/{account_id}/workers/scripts/{script_name}/schedules"
	listVersions = "GET /accounts/{account_id}/workers/scripts/{script_name}/versions"
	deployments  = "GET /accounts/{account_id}/workers/scripts/{script_name}/deployments"
	doNamespaces = "GET /accounts/{account_id}/workers/durable_objects/namespaces"
)

// uploadReadBack is what a step that uploads once, and then finds nothing to do, costs beyond
// the upload: the read-back takes the script from the upload's answer and both version ids
// from one deployments read, and no refresh re-reads a script that has not changed since.
var uploadReadBack = map[string]int{putScript: 1, deployments: 1, listVersions: 0, doNamespaces: 0}

func (e *testEdge) expectRequests(want map[string]int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for pattern, n := range want {
			if got := e.local.RequestCount(pattern); got != n {
				return fmt.Errorf("%s: %d requests, want %d\n%s", pattern, got, n, e.local.FormatRequestCounts())
			}
		}
		return nil
	}
}

func (e *testEdge) bindingsOf(name string) (map[string]map[string]any, error) {
	list, err := e.local.ScriptBindings(name)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]any{}
	for _, b := range list {
		out[fmt.Sprint(b["name"])] = b
	}
	return out, nil
}

func TestAccService_updates(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	edge.requireLocal(t)
	dir := t.TempDir()
	code := writeCode(t, dir, "index.js", workerCode("v1"))
	name := uniqueName("tf-acc-svc-upd")
	kv, err := edge.client.CreateKVNamespace(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	bindings := fmt.Sprintf(`vars = { MODE = "a" }
  kv_namespaces = { SESSIONS = %q }`, kv.ID)
	triggers := `crons = ["0 * * * *"]
  routes = [{ pattern = "shop.example.com/api/*" }]
  custom_domains = ["api.example.com"]`
	var v1 string
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkServicesDestroyed,
		Steps: []resource.TestStep{
			{
				Config: edge.serviceConfig(name, code, bindings),
				Check: func(s *terraform.State) error {
					v1 = s.RootModule().Resources[svcAddress].Primary.Attributes["latest_version_id"]
					return nil
				},
			},
			{
				// Code only: one upload, a new version, bindings intact.
				PreConfig: func() {
					writeCode(t, dir, "index.js", workerCode("v2"))
					edge.local.ResetRequestCounts()
				},
				Config: edge.serviceConfig(name, code, bindings),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddress, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeTestCheckFunc(
					edge.expectRequests(uploadReadBack),
					func(s *terraform.State) error {
						attrs := s.RootModule().Resources[svcAddress].Primary.Attributes
						if attrs["latest_version_id"] == v1 || attrs["deployed_version_id"] != attrs["latest_version_id"] {
							return fmt.Errorf("want a new deployed version: latest %s, deployed %s, first %s", attrs["latest_version_id"], attrs["deployed_version_id"], v1)
						}
						if err := edge.checkServiceCode(name, workerCode("v2")); err != nil {
							return err
						}
						b, err := edge.bindingsOf(name)
						if err != nil {
							return err
						}
						if b["MODE"]["text"] != "a" || b["SESSIONS"]["namespace_id"] != kv.ID {
							return fmt.Errorf("bindings lost by a code update: %v", b)
						}
						return nil
					},
				),
			},
			{
				// Bindings only: the code stays, MODE changes.
				PreConfig: edge.local.ResetRequestCounts,
				Config:    edge.serviceConfig(name, code, strings.Replace(bindings, `"a"`, `"b"`, 1)),
				Check: resource.ComposeTestCheckFunc(
					edge.expectRequests(uploadReadBack),
					func(*terraform.State) error {
						b, err := edge.bindingsOf(name)
						if err != nil {
							return err
						}
						if b["MODE"]["text"] != "b" {
							return fmt.Errorf("MODE is %v, want b", b["MODE"])
						}
						return edge.checkServiceCode(name, workerCode("v2"))
					},
				),
			},
			{
				// Triggers are added without uploading code.
				PreConfig: edge.local.ResetRequestCounts,
				Config:    edge.serviceConfig(name, code, strings.Replace(bindings, `"a"`, `"b"`, 1)+"\n  "+triggers),
				Check: resource.ComposeTestCheckFunc(
					edge.expectRequests(map[string]int{putScript: 0, postVersion: 0, putSchedules: 1}),
					edge.checkTriggers(name, []string{"0 * * * *"}, []string{"shop.example.com/api/*"}, []string{"api.example.com"}),
				),
			},
			{
				Config:           edge.serviceConfig(name, code, strings.Replace(bindings, `"a"`, `"b"`, 1)+"\n  "+triggers),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				// ... and removed without uploading code.
				PreConfig: edge.local.ResetRequestCounts,
				Config:    edge.serviceConfig(name, code, strings.Replace(bindings, `"a"`, `"b"`, 1)),
				Check: resource.ComposeTestCheckFunc(
					edge.expectRequests(map[string]int{putScript: 0, postVersion: 0, putSchedules: 1}),
					edge.checkTriggers(name, nil, nil, nil),
				),
			},
		},
	})
}

// checkTriggers compares the platform's cron triggers, routes and custom domains of a service.
func (e *testEdge) checkTriggers(name string, crons, routes, domains []string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		ctx := context.Background()
		gotCrons, err := e.client.GetSchedules(ctx, name)
		if err != nil {
			return err
		}
		var gotRoutes, gotDomains []string
		all, err := e.client.ListRoutes(ctx, testZoneID)
		if err != nil {
			return err
		}
		for _, r := range all {
			if r.Script == name {
				gotRoutes = append(gotRoutes, r.Pattern)
			}
		}
		ds, err := e.client.ListDomains(ctx, cloudflare.DomainFilter{Service: name})
		if err != nil {
			return err
		}
		for _, d := range ds {
			gotDomains = append(gotDomains, d.Hostname)
		}
		sort.Strings(gotRoutes)
		sort.Strings(gotDomains)
		if fmt.Sprint(gotCrons) != fmt.Sprint(nonNil(crons)) && len(gotCrons)+len(crons) > 0 ||
			fmt.Sprint(gotRoutes) != fmt.Sprint(routes) || fmt.Sprint(gotDomains) != fmt.Sprint(domains) {
			return fmt.Errorf("triggers: crons %v routes %v domains %v; want %v %v %v", gotCrons, gotRoutes, gotDomains, crons, routes, domains)
		}
		return nil
	}
}

func TestAccService_secrets(t *testing.T) {
	edge := newTestEdge(t)
	edge.requireLocal(t)
	logPath := filepath.Join(t.TempDir(), "trace.log")
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG_PATH", logPath)
	dir := t.TempDir()
	code := writeCode(t, dir, "index.js", workerCode("s"))
	name := uniqueName("tf-acc-svc-sec")
	first, second, third := "first-secret-"+name, "second-secret-"+name, "third-secret-"+name
	// The values come from ephemeral variables set in the environment, as in real use: an
	// ephemeral value never reaches a plan file, and the test harness logs the configuration
	// text itself, so a literal would show up there.
	variables := "variable \"api_key\" {\n  type      = string\n  sensitive = true\n  ephemeral = true\n}\n" +
		"variable \"db_password\" {\n  type      = string\n  sensitive = true\n  ephemeral = true\n}\n"
	config := func(secrets, version string) string {
		return edge.serviceConfig(name, code, secrets+"\n  "+version) + variables
	}
	one := `secrets = { API_KEY = var.api_key }`
	two := `secrets = { API_KEY = var.api_key, DB_PASSWORD = var.db_password }`
	var stateFiles []string
	saveState := func(s *terraform.State) error {
		stateFiles = append(stateFiles, fmt.Sprint(s.RootModule().Resources[svcAddress].Primary.Attributes))
		return nil
	}
	names := func(n ...string) statecheck.StateCheck {
		checks := make([]knownvalue.Check, len(n))
		for i, v := range n {
			checks[i] = knownvalue.StringExact(v)
		}
		return statecheck.ExpectKnownValue(svcAddress, tfjsonpath.New("secret_names"), knownvalue.SetExact(checks))
	}
	t.Setenv("TF_VAR_api_key", first)
	t.Setenv("TF_VAR_db_password", third)
	resource.UnitTest(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkServicesDestroyed,
		Steps: []resource.TestStep{
			{
				Config:            config(one, ""),
				ConfigStateChecks: []statecheck.StateCheck{names("API_KEY")},
				Check:             resource.ComposeTestCheckFunc(edge.expectSecret(name, "API_KEY", first), saveState),
			},
			{
				// A new value alone plans nothing: Terraform cannot see a write-only value.
				PreConfig:        func() { t.Setenv("TF_VAR_api_key", second) },
				Config:           config(one, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				// Bumping secrets_version writes it, through the secrets API, not a code upload;
				// the version ids move, the code's etag and the URL stay known.
				PreConfig: edge.local.ResetRequestCounts,
				Config:    config(one, "secrets_version = 2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddress, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(svcAddress, tfjsonpath.New("latest_version_id")),
					plancheck.ExpectKnownValue(svcAddress, tfjsonpath.New("etag"), knownvalue.NotNull()),
					plancheck.ExpectKnownValue(svcAddress, tfjsonpath.New("url"), knownvalue.NotNull()),
					planExcludes(first), planExcludes(second),
				}},
				Check: resource.ComposeTestCheckFunc(
					edge.expectRequests(map[string]int{putScript: 0, putSecret: 1}),
					edge.expectSecret(name, "API_KEY", second),
					saveState,
				),
			},
			{
				// Adding a secret plans a change by its name alone and writes only that one.
				PreConfig: edge.local.ResetRequestCounts,
				Config:    config(two, "secrets_version = 2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddress, plancheck.ResourceActionUpdate), planExcludes(third),
				}},
				ConfigStateChecks: []statecheck.StateCheck{names("API_KEY", "DB_PASSWORD")},
				Check: resource.ComposeTestCheckFunc(
					edge.expectRequests(map[string]int{putScript: 0, putSecret: 1}),
					edge.expectSecret(name, "DB_PASSWORD", third), edge.expectSecret(name, "API_KEY", second),
					saveState,
				),
			},
			{
				Config:           config(two, "secrets_version = 2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				// Removing one deletes it.
				Config:            config(one, "secrets_version = 2"),
				ConfigStateChecks: []statecheck.StateCheck{names("API_KEY")},
				Check: func(*terraform.State) error {
					b, err := edge.bindingsOf(name)
					if err != nil {
						return err
					}
					if _, still := b["DB_PASSWORD"]; still {
						return fmt.Errorf("DB_PASSWORD is still bound: %v", b)
					}
					return nil
				},
			},
			{
				// A secret deleted outside Terraform is drift, and is written again.
				PreConfig: func() {
					if err := edge.client.DeleteSecret(context.Background(), name, "API_KEY"); err != nil {
						t.Fatal(err)
					}
				},
				Config: config(one, "secrets_version = 2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddress, plancheck.ResourceActionUpdate),
				}},
				Check: edge.expectSecret(name, "API_KEY", second),
			},
		},
	})
	logs, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(logs), "servicesdo_service") {
		t.Fatal("the trace log does not mention the service: the check proves nothing")
	}
	for _, secret := range []string{first, second, third} {
		if i := strings.Index(string(logs), secret); i >= 0 {
			t.Errorf("secret %q appears in the trace log: %q", secret, string(logs)[max(0, i-300):i])
		}
		for _, st := range stateFiles {
			if strings.Contains(st, secret) {
				t.Errorf("secret %q appears in state", secret)
			}
		}
	}
	for _, st := range stateFiles {
		if strings.Contains(st, "secret_hashes") || strings.Contains(st, "pbkdf2") {
			t.Errorf("state holds something derived from a secret: %s", st)
		}
	}
}

func (e *testEdge) expectSecret(name, binding, want string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		b, err := e.bindingsOf(name)
		if err != nil {
			return err
		}
		if b[binding]["type"] != "secret_text" || b[binding]["text"] != want {
			return fmt.Errorf("secret %s of %s is %v", binding, name, b[binding]["type"])
		}
		return nil
	}
}

const counterCode = `export class %s { constructor(state, env) { this.state = state } async fetch() { return new Response("count") } }
export default { async fetch(request, env) { return new Response("do") } }
`

func TestAccService_durableObjectLifecycle(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	dir := t.TempDir()
	code := writeCode(t, dir, "index.js", fmt.Sprintf(counterCode, "Counter"))
	name := uniqueName("tf-acc-svc-do")
	doConfig := func(binding, extra string) string {
		return edge.serviceConfig(name, code, binding+"\n  "+extra)
	}
	var namespaceID string
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkServicesDestroyed,
		Steps: []resource.TestStep{
			{
				// A new class: a generated new_sqlite_classes migration.
				Config: doConfig(`durable_objects = { COUNTER = { class_name = "Counter" } }`, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(svcAddress, tfjsonpath.New("migration_tag"), knownvalue.StringExact("v1")),
					statecheck.ExpectKnownValue(svcAddress, tfjsonpath.New("durable_object_classes"), knownvalue.MapExact(map[string]knownvalue.Check{"Counter": knownvalue.Bool(true)})),
				},
				Check: func(*terraform.State) error {
					ns, err := edge.namespaceOf(name, "Counter")
					namespaceID = ns.ID
					return err
				},
			},
			{
				Config:           doConfig(`durable_objects = { COUNTER = { class_name = "Counter" } }`, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				// Renamed: same namespace (same data), new class name.
				PreConfig: func() { writeCode(t, dir, "index.js", fmt.Sprintf(counterCode, "Tally")) },
				Config:    doConfig(`durable_objects = { COUNTER = { class_name = "Tally", renamed_from = "Counter" } }`, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(svcAddress, tfjsonpath.New("migration_tag"), knownvalue.StringExact("v2")),
				},
				Check: func(*terraform.State) error {
					ns, err := edge.namespaceOf(name, "Tally")
					if err == nil && ns.ID != namespaceID {
						return fmt.Errorf("rename created namespace %s instead of keeping %s", ns.ID, namespaceID)
					}
					return err
				},
			},
			{
				Config:           doConfig(`durable_objects = { COUNTER = { class_name = "Tally", renamed_from = "Counter" } }`, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				// Deleted, with consent.
				PreConfig: func() { writeCode(t, dir, "index.js", workerCode("no classes")) },
				Config:    doConfig("", "allow_delete = true"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(svcAddress, tfjsonpath.New("migration_tag"), knownvalue.StringExact("v3")),
					statecheck.ExpectKnownValue(svcAddress, tfjsonpath.New("durable_object_classes"), knownvalue.MapExact(map[string]knownvalue.Check{})),
				},
				Check: func(*terraform.State) error {
					if _, err := edge.namespaceOf(name, "Tally"); err == nil {
						return fmt.Errorf("class Tally still has a namespace")
					}
					return nil
				},
			},
		},
	})
}

func (e *testEdge) namespaceOf(script, class string) (cloudflare.DONamespace, error) {
	all, err := e.client.ListDONamespaces(context.Background())
	if err != nil {
		return cloudflare.DONamespace{}, err
	}
	for _, ns := range all {
		if ns.Script == script && ns.Class == class {
			return ns, nil
		}
	}
	return cloudflare.DONamespace{}, fmt.Errorf("no namespace for class %s of %s", class, script)
}

// A managed rollout uploads a version and leaves the traffic on the old one.
func TestAccService_managedRollout(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	edge.requireLocal(t)
	dir := t.TempDir()
	code := writeCode(t, dir, "index.js", workerCode("stable"))
	name := uniqueName("tf-acc-svc-managed")
	var stable string
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkServicesDestroyed,
		Steps: []resource.TestStep{
			{
				Config: edge.serviceConfig(name, code, `rollout = "managed"`),
				Check: func(s *terraform.State) error {
					stable = s.RootModule().Resources[svcAddress].Primary.Attributes["deployed_version_id"]
					return edge.checkServiceCode(name, workerCode("stable"))
				},
			},
			{
				PreConfig: func() {
					writeCode(t, dir, "index.js", workerCode("canary"))
					edge.local.ResetRequestCounts()
				},
				Config: edge.serviceConfig(name, code, `rollout = "managed"`),
				Check: resource.ComposeTestCheckFunc(
					edge.expectRequests(map[string]int{putScript: 0, postVersion: 1}),
					func(s *terraform.State) error {
						attrs := s.RootModule().Resources[svcAddress].Primary.Attributes
						if attrs["deployed_version_id"] != stable || attrs["latest_version_id"] == stable {
							return fmt.Errorf("managed rollout moved traffic: deployed %s (was %s), latest %s", attrs["deployed_version_id"], stable, attrs["latest_version_id"])
						}
						return edge.checkServiceCode(name, workerCode("stable"))
					},
				),
			},
			{
				Config:           edge.serviceConfig(name, code, `rollout = "managed"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

func TestAccService_drift(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	dir := t.TempDir()
	code := writeCode(t, dir, "index.js", workerCode("mine"))
	name := uniqueName("tf-acc-svc-drift")
	config := edge.serviceConfig(name, code, `vars = { MODE = "a" }
  routes = [{ pattern = "drift.example.com/*" }]`)
	ctx := context.Background()
	expectUpdate := resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(svcAddress, plancheck.ResourceActionUpdate)}}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkServicesDestroyed,
		Steps: []resource.TestStep{
			{Config: config},
			{
				// Code changed out of band: detected and put back.
				PreConfig: func() {
					if _, err := edge.client.UploadScript(ctx, cloudflare.ScriptUpload{
						Name: name, MainModule: "index.js", CompatibilityDate: "2025-01-01",
						Modules:  []cloudflare.Module{{Name: "index.js", Content: []byte(workerCode("theirs"))}},
						Bindings: []cloudflare.Binding{{Type: cloudflare.BindingPlainText, Name: "MODE", Text: "a"}},
					}); err != nil {
						t.Fatal(err)
					}
				},
				Config:           config,
				ConfigPlanChecks: expectUpdate,
				Check:            func(*terraform.State) error { return edge.checkServiceCode(name, workerCode("mine")) },
			},
			{
				// A binding changed out of band.
				PreConfig: func() {
					if _, err := edge.client.EditScriptSettings(ctx, name, cloudflare.ScriptSettingsPatch{
						Bindings: []cloudflare.Binding{{Type: cloudflare.BindingPlainText, Name: "MODE", Text: "b"}},
					}); err != nil {
						t.Fatal(err)
					}
				},
				Config:           config,
				ConfigPlanChecks: expectUpdate,
			},
			{
				// A route removed out of band.
				PreConfig: func() {
					routes, err := edge.client.ListRoutes(ctx, testZoneID)
					if err != nil || len(routes) != 1 {
						t.Fatalf("routes %v, %v", routes, err)
					}
					if err := edge.client.DeleteRoute(ctx, testZoneID, routes[0].ID); err != nil {
						t.Fatal(err)
					}
				},
				Config:           config,
				ConfigPlanChecks: expectUpdate,
				Check:            edge.checkTriggers(name, nil, []string{"drift.example.com/*"}, nil),
			},
			{
				// Deleted out of band: recreated.
				PreConfig: func() {
					if err := edge.client.DeleteScript(ctx, name, true); err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddress, plancheck.ResourceActionCreate),
				}},
			},
			{
				Config:           config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

// withSubsecondClock gives the local edge a clock that never leaves one second and moves a
// microsecond per reading: every change a test makes happens within the same second, which
// timestamps kept to the second cannot tell apart.
func withSubsecondClock(cfg *localedge.Config) {
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	var ticks atomic.Int64
	cfg.Now = func() time.Time { return base.Add(time.Duration(ticks.Add(1)) * time.Microsecond) }
}

// An out-of-band change in the same second as the last refresh is still drift.
func TestAccService_driftWithinOneSecond(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t, withSubsecondClock)
	edge.requireLocal(t)
	code := writeCode(t, t.TempDir(), "index.js", workerCode("mine"))
	name := uniqueName("tf-acc-svc-drift1s")
	config := edge.serviceConfig(name, code, `vars = { MODE = "a" }`)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkServicesDestroyed,
		Steps: []resource.TestStep{
			{Config: config},
			{
				PreConfig: func() {
					if _, err := edge.client.EditScriptSettings(context.Background(), name, cloudflare.ScriptSettingsPatch{
						Bindings: []cloudflare.Binding{{Type: cloudflare.BindingPlainText, Name: "MODE", Text: "b"}},
					}); err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddress, plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraform.State) error {
					b, err := edge.bindingsOf(name)
					if err != nil {
						return err
					}
					if b["MODE"]["text"] != "a" {
						return fmt.Errorf("MODE is %v after the repair, want a", b["MODE"]["text"])
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

// Destroy removes the script with its routes, custom domains and schedules.
func TestAccService_destroyCleansUp(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	code := writeCode(t, t.TempDir(), "index.js", workerCode("bye"))
	name := uniqueName("tf-acc-svc-gone")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy: resource.ComposeTestCheckFunc(
			edge.checkServicesDestroyed,
			func(*terraform.State) error {
				routes, err := edge.client.ListRoutes(context.Background(), testZoneID)
				if err != nil || len(routes) != 0 {
					return fmt.Errorf("routes left after destroy: %v %v", routes, err)
				}
				domains, err := edge.client.ListDomains(context.Background(), cloudflare.DomainFilter{})
				if err != nil || len(domains) != 0 {
					return fmt.Errorf("custom domains left after destroy: %v %v", domains, err)
				}
				return nil
			},
		),
		Steps: []resource.TestStep{{
			Config: edge.serviceConfig(name, code, `crons = ["0 0 * * *"]
  routes = [{ pattern = "bye.example.com/*" }, { pattern = "bye.example.com/api/*", zone_id = "`+testZoneID+`" }]
  custom_domains = ["bye.example.com"]`),
			Check: edge.checkTriggers(name, []string{"0 0 * * *"}, []string{"bye.example.com/*", "bye.example.com/api/*"}, []string{"bye.example.com"}),
		}},
	})
}

// Importing a service reads back everything the platform knows; the first apply only records
// the local module paths (nothing is uploaded), and the plan after it is empty.
func TestAccService_importBlock(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	edge.requireLocal(t)
	code := writeCode(t, t.TempDir(), "index.js", workerCode("adopted"))
	name := uniqueName("tf-acc-svc-imp")
	kv, err := edge.client.CreateKVNamespace(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	extra := fmt.Sprintf(`description = "adopted"
  version = "2.1.0"
  domain = "commerce"
  vars = { MODE = "x" }
  json_vars = { CONF = jsonencode({ a = [1, 2] }) }
  kv_namespaces = { CACHE = %q }
  services = { SELF_CHECK = { service = servicesdo_service.other.name } }
  durable_objects = { COUNTER = { class_name = "Counter" } }
  crons = ["*/10 * * * *"]
  routes = [{ pattern = "adopt.example.com/*" }]
  custom_domains = ["adopt.example.com"]
  workers_dev = true
  observability = { enabled = true }
  limits = { cpu_ms = 100 }`, kv.ID)
	// The platform holds the service first, as wrangler or another state would have left it.
	source := edge.serviceConfig(name, code, extra)
	otherCode := writeCode(t, t.TempDir(), "index.js", workerCode("other"))
	other := fmt.Sprintf(`
resource "servicesdo_service" "other" {
  name               = "other-service"
  main_module        = "index.js"
  modules            = { "index.js" = %q }
  compatibility_date = "2025-01-01"
}
`, otherCode)
	writeCode(t, filepath.Dir(code), "index.js", fmt.Sprintf(counterCode, "Counter"))
	forget := fmt.Sprintf("\nremoved {\n  from = %s\n  lifecycle {\n    destroy = false\n  }\n}\n", svcAddress)
	importBlock := fmt.Sprintf("\nimport {\n  to = %s\n  id = %q\n}\n", svcAddress, name)
	resource.UnitTest(t, resource.TestCase{
		// removed blocks need Terraform 1.7.
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_7_0)},
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkServicesDestroyed,
		Steps: []resource.TestStep{
			{Config: source + other},
			{
				// Forget it, leaving it on the platform, as if it had been made elsewhere.
				Config: edge.providerBlock(fmt.Sprintf("zone_id = %q", testZoneID)) + other + forget,
			},
			{
				PreConfig: edge.local.ResetRequestCounts,
				Config:    source + other + importBlock,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					// Only the local file paths are new to the state.
					plancheck.ExpectResourceAction(svcAddress, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(svcAddress, tfjsonpath.New("modules").AtMapKey("index.js"), knownvalue.StringExact(code)),
				}},
				Check: edge.expectRequests(map[string]int{putScript: 0, postVersion: 0, putSchedules: 0}),
			},
			{
				Config:           source + other,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				// Let the destroy delete the class's (empty) data.
				Config: strings.Replace(source, `description = "adopted"`, "description = \"adopted\"\n  allow_delete = true", 1) + other,
			},
		},
	})
}

// A source directory with JavaScript, Wasm and text modules uploads each with its type.
func TestAccService_sourceDirModuleTypes(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	dir := t.TempDir()
	writeCode(t, dir, "index.js", `import text from "./greeting.txt"; export default { fetch() { return new Response(text) } }`)
	writeCode(t, dir, "greeting.txt", "hello")
	writeCode(t, dir, "add.wasm", "\x00asm\x01\x00\x00\x00")
	writeCode(t, dir, "README.md", "not a module")
	name := uniqueName("tf-acc-svc-dir")
	config := edge.providerBlock("") + fmt.Sprintf(`
resource "servicesdo_service" "test" {
  name               = %q
  main_module        = "index.js"
  source_dir         = %q
  compatibility_date = "2025-01-01"
}
`, name, dir)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkServicesDestroyed,
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(svcAddress, tfjsonpath.New("module_hashes"), knownvalue.MapSizeExact(3)),
				},
				Check: func(*terraform.State) error {
					content, err := edge.client.GetScriptContent(context.Background(), name, "")
					if err != nil {
						return err
					}
					types := map[string]string{}
					for _, m := range content.Modules {
						types[m.Name] = m.ContentType
					}
					want := map[string]string{"index.js": "application/javascript+module", "greeting.txt": "text/plain", "add.wasm": "application/wasm"}
					if fmt.Sprint(types) != fmt.Sprint(want) {
						return fmt.Errorf("module types %v, want %v", types, want)
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

// Inline modules are write-only: the code reaches the platform, never the state or plan.
func TestAccService_inlineModules(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	name := uniqueName("tf-acc-svc-inline")
	config := func(body string) string {
		return edge.providerBlock("") + fmt.Sprintf(`
resource "servicesdo_service" "test" {
  name               = %q
  main_module        = "index.js"
  inline_modules     = { "index.js" = %q }
  compatibility_date = "2025-01-01"
}
`, name, workerCode(body))
	}
	resource.UnitTest(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkServicesDestroyed,
		Steps: []resource.TestStep{
			{
				Config: config("inline-one"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddress, plancheck.ResourceActionCreate), planExcludes("inline-one"),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(svcAddress, tfjsonpath.New("inline_modules"), knownvalue.Null()),
				},
				Check: func(*terraform.State) error { return edge.checkServiceCode(name, workerCode("inline-one")) },
			},
			{
				Config: config("inline-two"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddress, plancheck.ResourceActionUpdate), planExcludes("inline-two"),
				}},
				Check: func(*terraform.State) error { return edge.checkServiceCode(name, workerCode("inline-two")) },
			},
		},
	})
}

// planExcludes fails when text appears in the plan's values: planned values, resource
// changes and prior state (the configuration section echoes literals of the .tf files).
func planExcludes(text string) plancheck.PlanCheck { return planExcludesCheck{text} }

type planExcludesCheck struct{ text string }

func (c planExcludesCheck) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	raw, err := json.Marshal([]any{req.Plan.PlannedValues, req.Plan.ResourceChanges, req.Plan.PriorState, req.Plan.OutputChanges})
	if err != nil {
		resp.Error = err
		return
	}
	if strings.Contains(string(raw), c.text) {
		resp.Error = fmt.Errorf("the plan contains %q", c.text)
	}
}

// A migration made outside Terraform is drift: the next plan migrates back.
func TestAccService_outOfBandMigration(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	dir := t.TempDir()
	code := writeCode(t, dir, "index.js", fmt.Sprintf(counterCode, "Counter"))
	name := uniqueName("tf-acc-svc-mig")
	config := edge.serviceConfig(name, code, `durable_objects = { COUNTER = { class_name = "Counter" } }
  allow_delete = true`)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkServicesDestroyed,
		Steps: []resource.TestStep{
			{Config: config},
			{
				// Someone deletes the class with their own migration (v1 → v2).
				PreConfig: func() {
					if _, err := edge.client.UploadScript(context.Background(), cloudflare.ScriptUpload{
						Name: name, MainModule: "index.js", CompatibilityDate: "2025-01-01",
						Modules:   []cloudflare.Module{{Name: "index.js", Content: []byte(workerCode("no classes"))}},
						Migration: &cloudflare.Migration{OldTag: "v1", NewTag: "v2", DeletedClasses: []string{"Counter"}},
					}); err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddress, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(svcAddress, tfjsonpath.New("migration_tag"), knownvalue.StringExact("v3")),
					statecheck.ExpectKnownValue(svcAddress, tfjsonpath.New("durable_object_classes"), knownvalue.MapExact(map[string]knownvalue.Check{"Counter": knownvalue.Bool(true)})),
				},
			},
			{
				Config:           config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}
