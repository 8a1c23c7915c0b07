package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// Nested lists and objects that are unknown as a whole at plan time (here a `for` expression
// filtering on a value known only after the apply, as with a data source read during the apply)
// plan as unknown, apply with their final values and then plan nothing; they used to fail the
// plan with the framework's "Value Conversion Error … This is always an error in the provider".
func TestAccUnknownNestedValues(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	edge.startWorkers(t)
	code := writeCodeOnce(t.TempDir(), "index.js", "export default { fetch() { return new Response(\"ok\") } }\n")
	config := edge.providerBlock("") + `
resource "terraform_data" "later" { input = "users" }

locals {
  later = terraform_data.later.output
}

resource "servicesdo_service" "users" {
  name               = "tf-acc-unknown-users"
  main_module        = "index.js"
  modules            = { "index.js" = "` + code + `" }
  compatibility_date = "2025-01-01"
  health             = local.later != "" ? { path = "/health" } : null
}

resource "servicesdo_gateway" "api" {
  name               = "tf-acc-unknown-api"
  compatibility_date = "2025-01-01"
  routes             = [for p in ["/users/*"] : { path = p, service = servicesdo_service.users.name } if local.later != ""]
}

resource "servicesdo_saga" "signup" {
  name   = "tf-acc-unknown-signup"
  access = "service_binding"
  steps = [for s in ["create"] : {
    name    = s
    service = servicesdo_service.users.name
    action  = { method = "POST", path = "/users" }
  } if local.later != ""]
}

resource "servicesdo_monitor" "platform" {
  name = "tf-acc-unknown-monitor"
  services = {
    (servicesdo_service.users.name) = {
      path     = "/health"
      registry = [for n in ["users"] : { name = n, version = "1.0.0" } if local.later == "none"]
    }
  }
}
`
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue("servicesdo_gateway.api", tfjsonpath.New("routes")),
					plancheck.ExpectUnknownValue("servicesdo_gateway.api", tfjsonpath.New("config_sha256")),
					plancheck.ExpectUnknownValue("servicesdo_saga.signup", tfjsonpath.New("steps")),
					plancheck.ExpectUnknownValue("servicesdo_service.users", tfjsonpath.New("health")),
					plancheck.ExpectUnknownValue("servicesdo_monitor.platform", tfjsonpath.New("config")),
				}},
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr("servicesdo_gateway.api", "routes.#", "1"),
					resource.TestCheckResourceAttr("servicesdo_gateway.api", "routes.0.service", "tf-acc-unknown-users"),
					resource.TestCheckResourceAttrSet("servicesdo_gateway.api", "config_sha256"),
					resource.TestCheckResourceAttr("servicesdo_saga.signup", "steps.#", "1"),
					resource.TestCheckResourceAttrSet("servicesdo_saga.signup", "definition_sha256"),
					resource.TestCheckResourceAttr("servicesdo_service.users", "health.path", "/health"),
					resource.TestCheckResourceAttr("servicesdo_monitor.platform", "services.tf-acc-unknown-users.registry.#", "0"),
					resource.TestCheckResourceAttrSet("servicesdo_monitor.platform", "config_sha256"),
				),
			},
			{Config: config, ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
		},
	})
}
