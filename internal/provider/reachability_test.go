package provider

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
)

// A saga's API reached through a zone route and a custom domain, as a service is: added,
// answered on both hosts, removed by an update (the saga stays), removed on destroy.
func TestAccReachability_saga(t *testing.T) {
	edge := newTestEdge(t)
	edgeURL := edge.startWorkers(t)
	ledger := newSagaLedger()
	ledgerSrv := httptest.NewServer(ledger)
	t.Cleanup(ledgerSrv.Close)
	prefix := fmt.Sprintf("sr%d", time.Now().UnixNano()%100000)
	name := prefix + "-checkout"
	routeHost, domain := prefix+"-api.example.com", prefix+"-sagas.example.com"
	reach := fmt.Sprintf(`
  routes         = [{ pattern = "%s/*", zone_id = %q }]
  custom_domains = [%q]`, routeHost, testZoneID, domain)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		CheckDestroy:             edge.checkNoReachability(name),
		Steps: []resource.TestStep{
			{
				Config: sagaConfig(edge, prefix, ledgerSrv.URL, "/shipments", reach),
				Check: resource.ComposeTestCheckFunc(
					edge.checkTriggers(name, nil, []string{routeHost + "/*"}, []string{domain}),
					func(*terraform.State) error {
						for _, host := range []string{routeHost, domain} {
							if _, err := startExecution(edgeURL, host, "via-"+host, "o-"+host); err != nil {
								return fmt.Errorf("through %s: %w", host, err)
							}
						}
						return nil
					},
				),
			},
			{
				Config: sagaConfig(edge, prefix, ledgerSrv.URL, "/shipments", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("servicesdo_saga.checkout", plancheck.ResourceActionUpdate),
					// Only reachability changed: the Worker is not uploaded again.
					plancheck.ExpectKnownValue("servicesdo_saga.checkout", tfjsonpath.New("deployed_version_id"), knownvalue.NotNull()),
				}},
				Check: edge.checkTriggers(name, nil, nil, nil),
			},
		},
	})
}

// A gateway reached through a custom domain and a zone route.
func TestAccReachability_gateway(t *testing.T) {
	edge := newTestEdge(t)
	edgeURL := edge.startWorkers(t)
	prefix := fmt.Sprintf("gr%d", time.Now().UnixNano()%100000)
	name := prefix + "-gw"
	routeHost, domain := prefix+"-api.example.com", prefix+"-gw.example.com"
	reach := fmt.Sprintf(`
  zone_routes    = [{ pattern = "%s/*", zone_id = %q }]
  custom_domains = [%q]`, routeHost, testZoneID, domain)
	key := map[string]string{"Authorization": "Bearer " + gatewayTestKey}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		CheckDestroy:             edge.checkNoReachability(name),
		Steps: []resource.TestStep{
			{
				Config: gatewayTestConfig(edge, prefix, reach),
				Check: resource.ComposeTestCheckFunc(
					edge.checkTriggers(name, nil, []string{routeHost + "/*"}, []string{domain}),
					resource.TestCheckResourceAttr("servicesdo_gateway.api", "url", "https://"+name+"."+"example.com"),
					func(*terraform.State) error {
						for _, host := range []string{routeHost, domain} {
							if _, err := expectAnswer(edgeURL, host, "GET", "/users/1", key, 200, map[string]any{"service": "users"}); err != nil {
								return fmt.Errorf("through %s: %w", host, err)
							}
						}
						return nil
					},
				),
			},
			{
				Config: gatewayTestConfig(edge, prefix, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue("servicesdo_gateway.api", tfjsonpath.New("deployed_version_id"), knownvalue.NotNull()),
				}},
				Check: edge.checkTriggers(name, nil, nil, nil),
			},
		},
	})
}

// checkNoReachability: no route of the test zone and no custom domain points at the script.
func (e *testEdge) checkNoReachability(script string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		ctx := context.Background()
		routes, err := e.client.ListRoutes(ctx, testZoneID)
		if err != nil {
			return err
		}
		for _, r := range routes {
			if r.Script == script {
				return fmt.Errorf("route %s still points at %s", r.Pattern, script)
			}
		}
		domains, err := e.client.ListDomains(ctx, cloudflare.DomainFilter{Service: script})
		if err != nil {
			return err
		}
		if len(domains) > 0 {
			return fmt.Errorf("custom domains %v still point at %s", domains, script)
		}
		return nil
	}
}

// A saga whose API takes no key must not be reachable from the internet: routes and custom
// domains are refused at plan time with access = "service_binding", as workers_dev is.
func TestAccReachability_sagaOpenAPIRefused(t *testing.T) {
	edge := newTestEdge(t)
	config := func(reach string) string {
		return edge.providerBlock("") + fmt.Sprintf(`
resource "servicesdo_saga" "open" {
  name   = "open-saga"
  access = "service_binding"
  steps  = [{ name = "reserve", service = "some-worker", action = { method = "POST", path = "/o" } }]
  %s
}
`, reach)
	}
	want := expectError(`access = "service_binding" opens the API without a key, so the saga must not be reachable from the internet: remove routes and custom_domains`)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: config(fmt.Sprintf(`routes = [{ pattern = "open.example.com/*", zone_id = %q }]`, testZoneID)), PlanOnly: true, ExpectError: want},
			{Config: config(`custom_domains = ["open.example.com"]`), PlanOnly: true, ExpectError: want},
		},
	})
}
