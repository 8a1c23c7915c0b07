package provider

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// gatewayCode finds the newest UserService in the registry at run time and calls the Worker
// that entry names, through the service binding of the same name.
const gatewayCode = `export default {
  async fetch(request, env) {
    const { keys } = await env.REGISTRY.list({ prefix: "service:UserService:" });
    const newest = keys.map((k) => k.metadata).sort((a, b) => cmp(a.version, b.version)).at(-1);
    const entry = await env.REGISTRY.get("service:UserService:" + newest.version, "json");
    const target = env[entry.service.replaceAll("-", "_")];
    const answer = await (await target.fetch("https://internal/")).text();
    return new Response(entry.version + " -> " + answer);
  },
};
function cmp(a, b) {
  const x = a.split(".").map(Number), y = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}
`

// What Terraform writes to the registry is what a Worker reads at run time.
func TestAccRegistry_runtimeDiscovery(t *testing.T) {
	edgeAPI := newTestEdge(t)
	edgeURL := edgeAPI.startWorkers(t)
	dir := t.TempDir()
	gateway := writeCode(t, dir, "gateway/index.js", gatewayCode)
	v1 := writeCode(t, dir, "v1/index.js", workerCode("users v1"))
	v2 := writeCode(t, dir, "v2/index.js", workerCode("users v2"))
	ns := edgeAPI.registryNamespace(t)
	config := func(newest, service string) string {
		return edgeAPI.registryConfig(ns, fmt.Sprintf(`
resource "servicesdo_service" "users_v1" {
  name               = "users-v1"
  main_module        = "index.js"
  modules            = { "index.js" = %[1]q }
  compatibility_date = "2025-01-01"
}

resource "servicesdo_service" "users_v2" {
  name               = "users-v2"
  main_module        = "index.js"
  modules            = { "index.js" = %[2]q }
  compatibility_date = "2025-01-01"
}

resource "servicesdo_registry_entry" "old" {
  name    = "UserService"
  version = "1.0.0"
  service = servicesdo_service.users_v1.name
}

resource "servicesdo_registry_entry" "newest" {
  name    = "UserService"
  version = %[4]q
  service = %[5]s
}

resource "servicesdo_service" "gateway" {
  name               = "gateway"
  main_module        = "index.js"
  modules            = { "index.js" = %[3]q }
  compatibility_date = "2025-01-01"
  workers_dev        = true
  registry           = { binding = "REGISTRY" }
  services = {
    users_v1 = { service = servicesdo_service.users_v1.name }
    users_v2 = { service = servicesdo_service.users_v2.name }
  }
  depends_on = [servicesdo_registry_entry.old, servicesdo_registry_entry.newest]
}
`, v1, v2, gateway, newest, service))
	}
	expect := func(want string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			deadline := time.Now().Add(15 * time.Second)
			for {
				status, body := edgeGet(edgeURL, "gateway.localhost", "/")
				if status == 200 && body == want {
					return nil
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("gateway answered %d %q, want %q", status, body, want)
				}
				time.Sleep(50 * time.Millisecond) // polling interval
			}
		}
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: config("1.1.0", "servicesdo_service.users_v2.name"), Check: expect("1.1.0 -> users v2")},
			// A newer entry, written by Terraform, redirects the running Worker.
			{Config: config("1.2.0", "servicesdo_service.users_v1.name"), Check: expect("1.2.0 -> users v1")},
		},
	})
	_ = filepath.Join
}
