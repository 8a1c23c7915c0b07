package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/dot-do/terraform-provider-servicesdo/internal/registry"
)

const regAddress = "servicesdo_registry_entry.test"

// registryNamespace creates the registry namespace out of band.
func (e *testEdge) registryNamespace(t *testing.T) string {
	t.Helper()
	ns, err := e.client.CreateKVNamespace(context.Background(), uniqueName("tf-acc-registry"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.client.DeleteKVNamespace(context.Background(), ns.ID) })
	return ns.ID
}

func (e *testEdge) registryConfig(registryID, body string) string {
	return e.providerBlock(fmt.Sprintf("registry_namespace_id = %q", registryID)) + body
}

func TestAccRegistryEntry_basic(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	ns := edge.registryNamespace(t)
	entry := func(description string) string {
		return fmt.Sprintf(`
resource "servicesdo_registry_entry" "test" {
  name         = "UserService"
  version      = "1.2.0"
  service      = "users"
  endpoint     = "https://users.example.com"
  schema       = "https://schema.org/Person"
  dependencies = ["AuthService"]
  health       = { path = "/health", expect_status = 200, timeout = "5s" }
  tags         = ["core", "identity"]
  metadata     = { team = "identity" }
  details      = { runbook = "https://wiki.example.com/users" }
  description  = %q
}
`, description)
	}
	key := registry.Key("UserService", "1.2.0")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy: func(*terraform.State) error {
			if _, err := edge.client.GetKVValue(context.Background(), ns, key); err == nil {
				return fmt.Errorf("%s still in the registry", key)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: edge.registryConfig(ns, entry("users")),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(regAddress, tfjsonpath.New("id"), knownvalue.StringExact(ns+"/UserService/1.2.0")),
					statecheck.ExpectKnownValue(regAddress, tfjsonpath.New("key"), knownvalue.StringExact(key)),
					statecheck.ExpectKnownValue(regAddress, tfjsonpath.New("type_id"), knownvalue.StringExact("https://services.do/UserService")),
				},
				Check: func(*terraform.State) error {
					raw, err := edge.client.GetKVValue(context.Background(), ns, key)
					if err != nil {
						return err
					}
					var doc map[string]any
					if err := json.Unmarshal(raw, &doc); err != nil {
						return err
					}
					if doc["$type"] != "Service" || doc["$id"] != "https://services.do/UserService" || doc["$schema_version"] != float64(1) || doc["endpoint"] != "https://users.example.com" {
						return fmt.Errorf("document %s", raw)
					}
					keys, err := edge.client.ListKVKeys(context.Background(), ns, "service:")
					if err != nil || len(keys) != 1 || !strings.Contains(string(keys[0].Metadata), `"version":"1.2.0"`) {
						return fmt.Errorf("KV metadata summary: %v %v", keys, err)
					}
					return nil
				},
			},
			{
				Config:           edge.registryConfig(ns, entry("users")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{ResourceName: regAddress, ImportState: true, ImportStateVerify: true},
			{
				Config: edge.registryConfig(ns, entry("users and profiles")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(regAddress, plancheck.ResourceActionUpdate),
				}},
			},
			{
				// Changed out of band: detected and rewritten.
				PreConfig: func() {
					if err := edge.client.PutKVValue(context.Background(), ns, key, []byte(`{"$id":"https://services.do/UserService","$type":"Service","$schema_version":1,"name":"UserService","version":"1.2.0","endpoint":"https://evil.example.com","updated_at":"2020-01-01T00:00:00Z"}`), nil); err != nil {
						t.Fatal(err)
					}
				},
				Config: edge.registryConfig(ns, entry("users and profiles")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(regAddress, plancheck.ResourceActionUpdate),
				}},
			},
			{
				// Deleted out of band: recreated.
				PreConfig: func() {
					if err := edge.client.DeleteKVKeys(context.Background(), ns, []string{key}); err != nil {
						t.Fatal(err)
					}
				},
				Config: edge.registryConfig(ns, entry("users and profiles")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(regAddress, plancheck.ResourceActionCreate),
				}},
			},
		},
	})
}

// A value rewritten out of band without "$id" (which the contract requires) is drift: the plan
// shows type_id going back to its default, and the apply writes it consistently.
func TestAccRegistryEntry_rewrittenWithoutID(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	ns := edge.registryNamespace(t)
	config := edge.registryConfig(ns, `
resource "servicesdo_registry_entry" "test" {
  name     = "Orders"
  version  = "2.0.0"
  endpoint = "https://orders.example.com"
}
`)
	key := registry.Key("Orders", "2.0.0")
	rewrite := func(doc string) func() {
		return func() {
			if err := edge.client.PutKVValue(context.Background(), ns, key, []byte(doc), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	const defaultID = "https://services.do/Orders"
	repaired := func(*terraform.State) error {
		raw, err := edge.client.GetKVValue(context.Background(), ns, key)
		if err != nil {
			return err
		}
		e, err := registry.Decode(raw)
		if err != nil || e.ID != defaultID || e.Endpoint != "https://orders.example.com" {
			return fmt.Errorf("value not repaired: %s (%v)", raw, err)
		}
		return nil
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: config},
			{
				// Only "$id" is missing.
				PreConfig: rewrite(`{"$type":"Service","$schema_version":1,"name":"Orders","version":"2.0.0","endpoint":"https://orders.example.com","updated_at":"2020-01-01T00:00:00Z"}`),
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(regAddress, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(regAddress, tfjsonpath.New("type_id"), knownvalue.StringExact(defaultID)),
				}},
				Check: repaired,
			},
			{
				// "$id" missing and another field changed.
				PreConfig: rewrite(`{"$type":"Service","$schema_version":1,"name":"Orders","version":"2.0.0","endpoint":"https://evil.example.com","updated_at":"2020-01-01T00:00:00Z"}`),
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(regAddress, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(regAddress, tfjsonpath.New("type_id"), knownvalue.StringExact(defaultID)),
				},
				Check: repaired,
			},
			{
				Config:           config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

// The monitor owns health_status: its verdict written beside the entry is not drift, and an
// update of the entry keeps it instead of erasing it.
func TestAccRegistryEntry_keepsMonitorHealthStatus(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	ns := edge.registryNamespace(t)
	config := func(endpoint string) string {
		return edge.registryConfig(ns, fmt.Sprintf(`
resource "servicesdo_registry_entry" "test" {
  name     = "Carts"
  version  = "1.0.0"
  endpoint = %q
  health   = { path = "/health" }
}
`, endpoint))
	}
	key := registry.Key("Carts", "1.0.0")
	verdict := &registry.HealthStatus{Status: "unhealthy", LastCheck: "2030-01-02T03:04:05.000Z", LatencyMs: 5000, ConsecutiveFailures: 3, Reason: "timeout", Monitor: "platform-monitor"}
	monitorWrites := func() {
		raw, err := edge.client.GetKVValue(context.Background(), ns, key)
		if err != nil {
			t.Fatal(err)
		}
		e, err := registry.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		e.HealthStatus = verdict
		value, err := e.Encode()
		if err != nil {
			t.Fatal(err)
		}
		summary, err := registry.EncodeSummary(e.Summary())
		if err != nil {
			t.Fatal(err)
		}
		if err := edge.client.PutKVValue(context.Background(), ns, key, value, summary); err != nil {
			t.Fatal(err)
		}
	}
	kept := func(*terraform.State) error {
		raw, err := edge.client.GetKVValue(context.Background(), ns, key)
		if err != nil {
			return err
		}
		e, err := registry.Decode(raw)
		if err != nil {
			return err
		}
		if e.Endpoint != "https://carts-v2.example.com" || e.HealthStatus == nil || *e.HealthStatus != *verdict {
			return fmt.Errorf("after the update the entry is %s: the monitor's health_status must be kept", raw)
		}
		keys, err := edge.client.ListKVKeys(context.Background(), ns, "service:")
		if err != nil || len(keys) != 1 || !strings.Contains(string(keys[0].Metadata), `"unhealthy"`) {
			return fmt.Errorf("the KV metadata summary lost the health status: %v %v", keys, err)
		}
		return nil
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: config("https://carts.example.com")},
			{
				PreConfig:        monitorWrites,
				Config:           config("https://carts.example.com"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				Config: config("https://carts-v2.example.com"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(regAddress, plancheck.ResourceActionUpdate),
				}},
				Check: kept,
			},
		},
	})
}

func TestAccRegistryEntry_errors(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	ns := edge.registryNamespace(t)
	cases := map[string]struct {
		config, want string
		planOnly     bool
	}{
		"duplicate": {config: `
resource "servicesdo_registry_entry" "a" {
  name    = "Dup"
  version = "1.0.0"
}
resource "servicesdo_registry_entry" "b" {
  name    = "Dup"
  version = "1.0.0"
}
`, want: "the registry already has Dup 1.0.0"},
		"missing registry": {config: `
resource "servicesdo_registry_entry" "test" {
  registry_id = "ffffffffffffffffffffffffffffffff"
  name        = "Lost"
  version     = "1.0.0"
}
`, want: `registry_id "ffffffffffffffffffffffffffffffff" is not a KV namespace of account`},
		"semver": {planOnly: true, config: `
resource "servicesdo_registry_entry" "test" {
  name    = "UserService"
  version = "1.2"
}
`, want: `"1.2" is not a semantic version`},
		"name": {planOnly: true, config: `
resource "servicesdo_registry_entry" "test" {
  name    = "1Service"
  version = "1.0.0"
}
`, want: `"1Service" is not a valid registry name`},
		"endpoint": {planOnly: true, config: `
resource "servicesdo_registry_entry" "test" {
  name     = "UserService"
  version  = "1.0.0"
  endpoint = "users.example.com/api"
}
`, want: `endpoint "users.example.com/api" must be an absolute http(s) URL`},
		"metadata": {planOnly: true, config: fmt.Sprintf(`
resource "servicesdo_registry_entry" "test" {
  name     = "UserService"
  version  = "1.0.0"
  metadata = { big = %q, small = "x" }
}
`, strings.Repeat("m", 1100)), want: "over Workers KV's 1024-byte metadata limit: move the largest metadata fields (big:"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps: []resource.TestStep{{
					Config: edge.registryConfig(ns, tc.config), PlanOnly: tc.planOnly, ExpectError: expectError(tc.want),
				}},
			})
		})
	}
}

func TestAccServiceDiscovery_resolution(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	ns := edge.registryConfig(edge.registryNamespace(t), "")
	entries := ""
	for i, v := range []string{"1.0.0", "1.2.0", "1.2.5", "2.0.0", "2.1.0-beta.1"} {
		entries += fmt.Sprintf(`
resource "servicesdo_registry_entry" "v%d" {
  name     = "Catalog"
  version  = %q
  service  = "catalog-%d"
  tags     = [%q]
}
`, i, v, i, map[bool]string{true: "stable", false: "next"}[!strings.Contains(v, "-")])
	}
	table := map[string]string{"latest": "2.0.0", "^1.2": "1.2.5", ">=2.0.0 <3": "2.0.0", "~1.2.0": "1.2.5", "1.0.0": "1.0.0", "1.x": "1.2.5", "^2.1.0-beta": "2.1.0-beta.1", "~> 1.0": "1.2.5", "~> 2.0.0": "2.0.0"}
	lookups := ""
	var checks []statecheck.StateCheck
	i := 0
	for constraint, want := range table {
		lookups += fmt.Sprintf(`
data "servicesdo_service_discovery" "c%d" {
  name       = "Catalog"
  version    = %q
  depends_on = [servicesdo_registry_entry.v0, servicesdo_registry_entry.v1, servicesdo_registry_entry.v2, servicesdo_registry_entry.v3, servicesdo_registry_entry.v4]
}
`, i, constraint)
		checks = append(checks, statecheck.ExpectKnownValue(fmt.Sprintf("data.servicesdo_service_discovery.c%d", i), tfjsonpath.New("resolved_version"), knownvalue.StringExact(want)))
		i++
	}
	listing := `
data "servicesdo_registry" "stable" {
  tag        = "stable"
  depends_on = [servicesdo_registry_entry.v0, servicesdo_registry_entry.v1, servicesdo_registry_entry.v2, servicesdo_registry_entry.v3, servicesdo_registry_entry.v4]
}
`
	checks = append(checks,
		statecheck.ExpectKnownValue("data.servicesdo_registry.stable", tfjsonpath.New("entries"), knownvalue.ListSizeExact(4)),
		statecheck.ExpectKnownValue("data.servicesdo_registry.stable", tfjsonpath.New("entries").AtSliceIndex(0).AtMapKey("version"), knownvalue.StringExact("2.0.0")),
		statecheck.ExpectKnownValue("data.servicesdo_service_discovery.c0", tfjsonpath.New("available_versions"), knownvalue.ListExact([]knownvalue.Check{
			knownvalue.StringExact("2.1.0-beta.1"), knownvalue.StringExact("2.0.0"), knownvalue.StringExact("1.2.5"), knownvalue.StringExact("1.2.0"), knownvalue.StringExact("1.0.0"),
		})),
	)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: ns + entries + lookups + listing, ConfigStateChecks: checks},
			{
				Config: ns + entries + `
data "servicesdo_service_discovery" "none" {
  name    = "Catalog"
  version = "^3"
}
`,
				ExpectError: expectError(`no version of Catalog matches "^3": available versions are 2.1.0-beta.1, 2.0.0, 1.2.5, 1.2.0, 1.0.0`),
			},
			{
				Config: ns + entries + `
data "servicesdo_service_discovery" "bad" {
  name    = "Catalog"
  version = "^one"
}
`,
				PlanOnly:    true,
				ExpectError: expectError(`invalid version constraint "^one": "one" is not a version: use MAJOR[.MINOR[.PATCH]]`),
			},
			{
				// An operator written the wrong way round gets a suggestion.
				Config: ns + entries + `
data "servicesdo_service_discovery" "bad" {
  name    = "Catalog"
  version = "=>1.0"
}
`,
				PlanOnly:    true,
				ExpectError: expectError(`invalid version constraint "=>1.0": "=>" is not an operator (did you mean ">=1.0"?)`),
			},
			// A valid last configuration, for the destroy that ends the test.
			{Config: ns + entries},
		},
	})
}
