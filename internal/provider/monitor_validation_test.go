package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
)

// monitorBadConfig is a monitor with one existing service ("orders", deployed by the
// configuration) and the given attributes.
func monitorBadConfig(e *testEdge, providerExtra, body string) string {
	return e.providerBlock(providerExtra) + `
resource "servicesdo_service" "orders" {
  name               = "mon-val-orders"
  main_module        = "index.js"
  inline_modules     = { "index.js" = "export default { fetch() { return new Response('ok') } }" }
  compatibility_date = "2025-01-01"
}

resource "servicesdo_monitor" "bad" {
  name = "mon-val"
` + body + `
}
`
}

const monitorValAlert = `
  analytics_token_wo         = "token"
  analytics_token_wo_version = 1
  services = { (servicesdo_service.orders.name) = {} }
  alerts = {
    "orders-errors" = { service = servicesdo_service.orders.name, condition = %q, for = %q, webhook_url = "https://hooks.example.com/a" %s }
  }
`

// Each bad input is refused at plan time with the contract's message, on its attribute.
func TestAccMonitor_validation(t *testing.T) {
	edge := newTestEdge(t, func(c *localedge.Config) { c.AccountID = monitorTestAccount })
	edge.useAccount(t, monitorTestAccount)
	alert := func(condition, window, extra string) string {
		return fmt.Sprintf(monitorValAlert, condition, window, extra)
	}
	step := func(providerExtra, body, want string) resource.TestStep {
		return resource.TestStep{Config: monitorBadConfig(edge, providerExtra, body), PlanOnly: true, ExpectError: expectError(want)}
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		Steps: []resource.TestStep{
			// A malformed condition: the program's parser, column and caret.
			step("", alert("error_rate >> 0.05", "5m", ""),
				`alerts["orders-errors"].condition: condition "error_rate >> 0.05", column 13: expected a number, found ">"`),
			step("", alert("error_rate > 5%", "5m", ""),
				`"%" is not needed: error_rate is a fraction from 0 to 1, so 5% is written 0.05`),
			step("", alert("latency > 5", "5m", ""), `unknown metric "latency": use error_rate, p99_latency_ms or requests`),
			step("", alert("requests >= 0", "5m", ""), `requests >= 0 always holds, so the alert would never resolve`),
			// for shorter than the monitor's interval, and than the service's probe interval.
			step("", `interval = "5m"`+alert("error_rate > 0.05", "1m", ""),
				`alerts["orders-errors"].for: "1m" is shorter than the monitor's interval (5m): the window must cover the time between two evaluations; use for = "5m" or longer`),
			step("", `
  analytics_token_wo         = "token"
  analytics_token_wo_version = 1
  services = { (servicesdo_service.orders.name) = { interval = "10m" } }
  alerts = { "e" = { service = servicesdo_service.orders.name, condition = "error_rate > 0.05", for = "5m", webhook_url = "https://hooks.example.com/a" } }`,
				`alerts["e"].for: "5m" is shorter than the probe interval of mon-val-orders (10m): use for = "10m" or longer`),
			step("", alert("requests < 10", "5m", ", min_requests = 5"),
				`alerts["orders-errors"].min_requests: applies to error_rate and p99_latency_ms conditions only`),
			step("", `
  analytics_token_wo         = "token"
  analytics_token_wo_version = 1
  alerts = { "e" = { service = servicesdo_service.orders.name, condition = "requests < 1", for = "5m", webhook_url = "hooks.example.com/a" } }`,
				`alerts["e"].webhook_url: "hooks.example.com/a" is not an absolute http(s) URL such as "https://hooks.example.com/alerts"`),
			// Unknown services, knowable at plan time.
			step("", `services = { "no-such-worker" = {} }`,
				`services["no-such-worker"]: "no-such-worker" is not a Worker of this account nor a servicesdo_service of this configuration`),
			step("", `
  analytics_token_wo         = "token"
  analytics_token_wo_version = 1
  alerts = { "e" = { service = "ghost-worker", condition = "requests < 1", for = "5m", webhook_url = "https://hooks.example.com/a" } }`,
				`alerts["e"].service: "ghost-worker" is not a Worker of this account nor a servicesdo_service of this configuration`),
			// The other rules of the contract.
			step("", `services = { (servicesdo_service.orders.name) = { checks = 11 } }`,
				`services["mon-val-orders"].checks: is 11: the number of consecutive failed probes that make the service unhealthy, from 1 to 10`),
			step("", `services = { (servicesdo_service.orders.name) = { interval = "90s" } }`,
				`services["mon-val-orders"].interval: "90s" must be a whole number of minutes from 1m to 1d`),
			step("", `services = { (servicesdo_service.orders.name) = { timeout = "1s", degraded_latency = "2s" } }`,
				`services["mon-val-orders"].degraded_latency: "2s" must be above 0 and below the timeout (1s)`),
			step("", `services = { (servicesdo_service.orders.name) = { path = "health" } }`,
				`services["mon-val-orders"].path: "health" must be a path starting with "/"`),
			step(`registry_namespace_id = "00000000000000000000000000000001"`, `services = {
    (servicesdo_service.orders.name) = { registry = [{ name = "Orders", version = "1.0.0" }] }
    "mon-val" = { registry = [{ name = "Orders", version = "1.0.0" }] }
  }`, `services["mon-val-orders"].registry[0]: service:Orders:1.0.0 is also recorded by services[0]: one service owns an entry's health`),
			step("", `services = { (servicesdo_service.orders.name) = { registry = [{ name = "Orders", version = "v1" }] } }`,
				`services["mon-val-orders"].registry[0].version: "v1" is not a semantic version as the registry writes it`),
			step("", `services = { (servicesdo_service.orders.name) = { registry = [{ name = "Orders", version = "1.0.0" }] } }`,
				`services list registry entries, so the monitor needs the registry's KV namespace: set registry_id, or the provider's registry_namespace_id`),
			step("", `heartbeat = "30s"
  services = { (servicesdo_service.orders.name) = {} }`, `heartbeat: "30s" must be from the monitor's interval (1m) to 1d`),
			step("", ``, `services: a monitor needs at least one service to probe or alert to evaluate`),
			step("", `
  services = { (servicesdo_service.orders.name) = {} }
  alerts = { "e" = { service = servicesdo_service.orders.name, condition = "requests < 1", for = "5m", webhook_url = "https://hooks.example.com/a" } }`,
				`alerts read Workers analytics, which needs analytics_token_wo`),
			step("", `
  status_token_wo = "s"
  services = { (servicesdo_service.orders.name) = {} }`, `status_token_wo is write-only, so Terraform cannot see when it changes: set status_token_wo_version`),
			// A webhook URL is plain or write-only, and a write-only one needs its version.
			step("", `
  analytics_token_wo         = "token"
  analytics_token_wo_version = 1
  webhook_urls_wo_version    = 1
  alerts = { "e" = { service = servicesdo_service.orders.name, condition = "requests < 1", for = "5m", webhook_url = "https://hooks.example.com/a", webhook_url_wo = "https://hooks.example.com/b" } }`,
				`alerts["e"].webhook_url: set exactly one of webhook_url and webhook_url_wo (write-only: for URLs that embed a token)`),
			step("", `
  analytics_token_wo         = "token"
  analytics_token_wo_version = 1
  alerts = { "e" = { service = servicesdo_service.orders.name, condition = "requests < 1", for = "5m" } }`,
				`alerts["e"].webhook_url: set exactly one of webhook_url and webhook_url_wo`),
			step("", `
  analytics_token_wo         = "token"
  analytics_token_wo_version = 1
  alerts = { "e" = { service = servicesdo_service.orders.name, condition = "requests < 1", for = "5m", webhook_url_wo = "https://hooks.example.com/secret-token" } }`,
				`webhook_url_wo is write-only, so Terraform cannot see when it changes: set webhook_urls_wo_version`),
		},
	})
}

// The provider's account id must be the 32-hex id the analytics API takes.
func TestAccMonitor_accountID(t *testing.T) {
	edge := newTestEdge(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		Steps: []resource.TestStep{{
			Config:      monitorBadConfig(edge, "", fmt.Sprintf(monitorValAlert, "error_rate > 0.05", "5m", "")),
			PlanOnly:    true,
			ExpectError: expectError(fmt.Sprintf(`account_id (the provider's): %q must be the 32-character hex id of the account whose analytics the alerts read`, testAccountID)),
		}},
	})
}
