package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/runtime"
	"github.com/dot-do/terraform-provider-servicesdo/internal/registry"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workers"
)

// monitorTestAccount is a 32-hex account id, as the analytics API takes (the default test
// account's id is not hex).
const monitorTestAccount = "0123456789abcdef0123456789abcdef"

// useAccount points the test's client (and provider blocks) at another account id of the
// local edge, set with newTestEdge's options.
func (e *testEdge) useAccount(t *testing.T, id string) {
	t.Helper()
	e.accountID = id
	client, err := cloudflare.New(cloudflare.Config{AccountID: id, APIToken: e.token, BaseURL: e.baseURL, MaxRetries: 3})
	if err != nil {
		t.Fatal(err)
	}
	e.client = client
}

// frozenClock stands still at its time, so the edge never fires cron triggers on its own and
// every invocation is recorded in one known minute; the test drives the monitor's ticks.
type frozenClock struct{ at time.Time }

func (c frozenClock) Now() time.Time { return c.at }
func (c frozenClock) At(t time.Time) <-chan time.Time {
	ch := make(chan time.Time, 1)
	if !t.After(c.at) {
		ch <- c.at
	}
	return ch
}

// startFrozenWorkers starts the Workers runtime on a frozen clock and returns the edge's URL.
func (e *testEdge) startFrozenWorkers(t *testing.T, at time.Time) string {
	t.Helper()
	if err := runtime.CheckInstalled(runtime.NodeDir("")); err != nil {
		t.Skip(err.Error())
	}
	e.requireLocal(t)
	w, err := edge.Start(context.Background(), edge.Config{
		API:   e.local,
		Clock: frozenClock{at},
		Runtime: runtime.Options{
			PersistDir: t.TempDir(), APIAddress: strings.TrimSuffix(strings.TrimPrefix(e.baseURL, "http://"), localedge.APIPrefix),
			APIToken: e.token, AccountID: e.accountID, DrainDelay: 200 * time.Millisecond,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w)
	t.Cleanup(func() {
		srv.Close()
		_ = w.Close()
	})
	return srv.URL
}

// healthControl answers the probed services' health checks: each service's status code.
type healthControl struct {
	mu     sync.Mutex
	status map[string]int
}

func (h *healthControl) set(service string, status int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.status[service] = status
}

func (h *healthControl) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	status := h.status[strings.TrimPrefix(r.URL.Path, "/health/")]
	h.mu.Unlock()
	if status == 0 {
		status = http.StatusOK
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"status":%q}`, map[bool]string{true: "pass", false: "fail"}[status < 300])
}

// webhookSink records the notifications posted to it.
type webhookSink struct {
	mu     sync.Mutex
	events []map[string]any
}

func (s *webhookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	body["_idempotency_key"] = r.Header.Get("Idempotency-Key")
	s.mu.Lock()
	s.events = append(s.events, body)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *webhookSink) kinds() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []string{}
	for _, e := range s.events {
		out = append(out, fmt.Sprint(e["event"]))
	}
	return out
}

// probedServiceJS answers /health with what the test's control server says, throws on /boom
// (an error in the analytics), and answers 200 otherwise.
const probedServiceJS = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/health") {
      const r = await fetch(env.CONTROL + "/health/" + env.SERVICE);
      return new Response(await r.text(), { status: r.status, headers: { "content-type": "application/json" } });
    }
    if (url.pathname === "/boom") throw new Error("boom");
    return new Response("ok");
  },
};`

const monitorStatusToken = "monitor-status-token-0123456789"

// monitorConfig is two versions of OrderService, each a Worker with a registry entry, and a
// monitor probing both and alerting on the errors of the second. extra goes in the monitor.
func monitorTestConfig(e *testEdge, registryID, prefix, control, webhook, extra string) string {
	service := func(res, version string) string {
		return fmt.Sprintf(`
resource "servicesdo_service" %[1]q {
  name               = "%[2]s-%[1]s"
  main_module        = "index.js"
  inline_modules     = { "index.js" = %[3]q }
  compatibility_date = "2025-01-01"
  workers_dev        = true
  vars               = { CONTROL = %[4]q, SERVICE = "%[2]s-%[1]s" }
}

resource "servicesdo_registry_entry" %[1]q {
  name     = "OrderService"
  version  = %[5]q
  service  = servicesdo_service.%[1]s.name
  endpoint = "https://%[2]s-%[1]s.example.com"
}
`, res, prefix, probedServiceJS, control, version)
	}
	return e.registryConfig(registryID, service("v1", "1.0.0")+service("v2", "1.1.0")+fmt.Sprintf(`
resource "servicesdo_monitor" "platform" {
  name        = "%[1]s-monitor"
  workers_dev = true

  services = {
    # Generous timeouts (degraded above half of them): the test machine is loaded.
    (servicesdo_service.v1.name) = {
      timeout  = "20s"
      registry = [{ name = servicesdo_registry_entry.v1.name, version = servicesdo_registry_entry.v1.version }]
    }
    (servicesdo_service.v2.name) = {
      path            = "/health"
      timeout         = "20s"
      checks          = 2
      recovery_checks = 1
      registry        = [{ name = servicesdo_registry_entry.v2.name, version = servicesdo_registry_entry.v2.version }]
    }
  }

  alerts = {
    "orders-errors" = {
      service     = servicesdo_service.v2.name
      condition   = "error_rate > 0.05"
      for         = "5m"
      # A webhook URL that embeds a token stays secret: never in state or the configuration.
      webhook_url_wo = %[2]q
    }
  }
  webhook_urls_wo_version = 1

  analytics_token_wo         = %[3]q
  analytics_token_wo_version = 1
  status_token_wo            = %[4]q
  status_token_wo_version    = 1
  %[5]s
}
`, prefix, webhook, e.token, monitorStatusToken, extra))
}

// monitorCall sends a request to the monitor through the edge with the status token.
func monitorCall(edgeURL, host, method, path string) (int, map[string]any) {
	req, _ := http.NewRequest(method, edgeURL+path, nil)
	req.Host = host
	req.Header.Set("Authorization", "Bearer "+monitorStatusToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, map[string]any{"error": err.Error()}
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := map[string]any{}
	if err := json.Unmarshal(raw, &out); err != nil {
		out["body"] = string(raw)
	}
	return res.StatusCode, out
}

// monitorRun runs a round now (POST /__run) and returns each service's status.
func monitorRun(edgeURL, host string) (map[string]string, error) {
	status, out := monitorCall(edgeURL, host, http.MethodPost, "/__run")
	if status != http.StatusOK {
		return nil, fmt.Errorf("POST /__run: HTTP %d %v", status, out)
	}
	health := map[string]string{}
	h, _ := out["health"].(map[string]any)
	for k, v := range h {
		health[k] = fmt.Sprint(v)
	}
	return health, nil
}

// monitorTick fires the monitor's cron trigger at a chosen time through the edge.
func monitorTick(edgeURL, host string, at time.Time) error {
	req, _ := http.NewRequest(http.MethodGet, edgeURL+"/__scheduled?format=json&cron="+url.QueryEscape(workers.MonitorCron)+fmt.Sprintf("&time=%d", at.UnixMilli()), nil)
	req.Host = host
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("scheduled tick at %s: HTTP %d %s", at.Format(time.RFC3339), res.StatusCode, body)
	}
	return nil
}

// registryHealth reads the health_status the monitor recorded in an entry (value and metadata).
func (e *testEdge) registryHealth(ns, name, version string) (value, listed string, err error) {
	raw, err := e.client.GetKVValue(context.Background(), ns, registry.Key(name, version))
	if err != nil {
		return "", "", err
	}
	doc, err := registry.Decode(raw)
	if err != nil {
		return "", "", err
	}
	if doc.HealthStatus != nil {
		value = doc.HealthStatus.Status
	}
	keys, err := e.client.ListKVKeys(context.Background(), ns, registry.Key(name, version))
	if err != nil {
		return "", "", err
	}
	for _, k := range keys {
		var s registry.Summary
		if k.Name == registry.Key(name, version) && json.Unmarshal(k.Metadata, &s) == nil && s.HealthStatus != nil {
			listed = s.HealthStatus.Status
		}
	}
	return value, listed, nil
}

// monitorAnalyticsError runs rounds until /status reports an analytics error (or none), within
// a deadline: the edge may still be switching to the version an apply deployed.
func monitorAnalyticsError(edgeURL, host string, want bool) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, _ = monitorRun(edgeURL, host)
		_, status := monitorCall(edgeURL, host, http.MethodGet, "/status")
		a, _ := status["analytics"].(map[string]any)
		got := a["error"]
		if (got != nil) == want {
			if want && !strings.Contains(fmt.Sprint(got), "the analytics API answered 4") {
				return fmt.Errorf("analytics error %v, want the API's refusal", got)
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("GET /status analytics: %v, want an error: %v", a, want)
		}
		time.Sleep(100 * time.Millisecond) // polling interval
	}
}

func monitorDiscovery(healthy bool) string {
	return fmt.Sprintf(`
data "servicesdo_service_discovery" "orders" {
  name    = "OrderService"
  version = "^1"
  healthy = %t
  depends_on = [servicesdo_monitor.platform]
}
`, healthy)
}

// The monitor through Terraform, the local edge and Miniflare: the second service's health
// endpoint starts failing, the service turns unhealthy in the registry at its second check,
// discovery with healthy = true then finds the first version, and it recovers at the next
// passing check. An error-rate alert fires once to the webhook and resolves. Update, no-op
// re-plan, import, drift (the cron trigger removed out of band) and destroy.
func TestAccMonitor_endToEnd(t *testing.T) {
	edge := newTestEdge(t, func(c *localedge.Config) { c.AccountID = monitorTestAccount })
	edge.useAccount(t, monitorTestAccount)
	// The edge's frozen time is half an hour ahead: the alert ticks (from t0 on) then come after
	// every window that the rounds run at real time (POST /__run) claim.
	t0 := time.Now().UTC().Truncate(time.Minute).Add(30*time.Minute + 30*time.Second)
	edgeURL := edge.startFrozenWorkers(t, t0)
	ns := edge.registryNamespace(t)
	control := &healthControl{status: map[string]int{}}
	controlSrv := httptest.NewServer(control)
	t.Cleanup(controlSrv.Close)
	sink := &webhookSink{}
	sinkSrv := httptest.NewServer(sink)
	t.Cleanup(sinkSrv.Close)
	prefix := "mon" + fmt.Sprint(time.Now().UnixNano()%100000)
	v1, v2 := prefix+"-v1", prefix+"-v2"
	host := prefix + "-monitor.localhost"
	address := "servicesdo_monitor.platform"
	config := func(extra string) string {
		return monitorTestConfig(edge, ns, prefix, controlSrv.URL, sinkSrv.URL, extra)
	}
	var firstVersion, firstSHA string

	// runUntil runs rounds until v2 has the status, at most n rounds; it reports how many.
	runUntil := func(want string, n int) (int, error) {
		for i := 1; i <= n; i++ {
			health, err := monitorRun(edgeURL, host)
			if err != nil {
				return i, err
			}
			if health[v2] == want {
				return i, nil
			}
		}
		return n, fmt.Errorf("%s is not %s after %d rounds", v2, want, n)
	}

	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		CheckDestroy: func(s *terraform.State) error {
			return checkAllGone(s, "servicesdo_monitor", "monitor", func(rs *terraform.ResourceState) error {
				_, err := edge.client.GetScript(context.Background(), rs.Primary.ID)
				return err
			})
		},
		Steps: []resource.TestStep{
			{
				// Create; both services healthy; then v2 fails: degraded at the first failed
				// check, unhealthy at the second (checks = 2), in the registry's value and
				// listing metadata.
				Config: config(""),
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr(address, "cron", workers.MonitorCron),
					resource.TestCheckResourceAttrSet(address, "deployed_version_id"),
					func(s *terraform.State) error { // the write-only tokens and webhook URL are nowhere in state
						attrs := s.RootModule().Resources[address].Primary.Attributes
						for k, v := range attrs {
							if strings.Contains(v, edge.token) || strings.Contains(v, monitorStatusToken) || strings.Contains(v, sinkSrv.URL) {
								return fmt.Errorf("state attribute %s carries a secret", k)
							}
						}
						if want := workers.MonitorAlertWebhookBinding("orders-errors"); !strings.Contains(attrs["config"], `"webhook_secret":"`+want+`"`) {
							return fmt.Errorf("config does not name the webhook secret %s: %s", want, attrs["config"])
						}
						return nil
					},
					func(s *terraform.State) error {
						firstVersion = s.RootModule().Resources[address].Primary.Attributes["deployed_version_id"]
						firstSHA = s.RootModule().Resources[address].Primary.Attributes["config_sha256"]
						deadline := time.Now().Add(60 * time.Second)
						for st, out := monitorCall(edgeURL, host, http.MethodGet, "/status"); st != http.StatusOK; st, out = monitorCall(edgeURL, host, http.MethodGet, "/status") {
							if time.Now().After(deadline) {
								return fmt.Errorf("GET /status with the token: HTTP %d %v", st, out)
							}
							time.Sleep(100 * time.Millisecond) // the edge is starting the monitor
						}
						req, _ := http.NewRequest(http.MethodGet, edgeURL+"/status", nil)
						req.Host = host
						if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusUnauthorized {
							return fmt.Errorf("GET /status without the token: %v %v, want 401", res, err)
						}
						if _, err := runUntil(registry.HealthHealthy, 1); err != nil {
							return err
						}
						control.set(v2, http.StatusServiceUnavailable)
						health, err := monitorRun(edgeURL, host)
						if err != nil {
							return err
						}
						if health[v2] != registry.HealthDegraded || health[v1] != registry.HealthHealthy {
							return fmt.Errorf("after one failed check: %v, want %s degraded and %s healthy", health, v2, v1)
						}
						if health, err = monitorRun(edgeURL, host); err != nil {
							return err
						}
						if health[v2] != registry.HealthUnhealthy {
							return fmt.Errorf("after two failed checks: %v, want %s unhealthy", health, v2)
						}
						value, listed, err := edge.registryHealth(ns, "OrderService", "1.1.0")
						if err != nil || value != registry.HealthUnhealthy || listed != registry.HealthUnhealthy {
							return fmt.Errorf("registry entry 1.1.0: health %q, listed %q, %v; want unhealthy", value, listed, err)
						}
						if value, _, err := edge.registryHealth(ns, "OrderService", "1.0.0"); err != nil || value != registry.HealthHealthy {
							return fmt.Errorf("registry entry 1.0.0: health %q, %v; want healthy", value, err)
						}
						return nil
					},
				),
			},
			{
				// Only the unhealthy version matches: discovery with healthy = true refuses.
				Config:      config("") + strings.Replace(monitorDiscovery(true), `"^1"`, `"1.1.0"`, 1),
				PlanOnly:    true,
				ExpectError: expectError(`every version of OrderService matching "1.1.0" is unhealthy (1.1.0), as its monitor recorded: fix the service, or drop healthy = true to find it anyway`),
			},
			{
				// Discovery skips the unhealthy version (and without healthy = true finds it);
				// the registry entries plan no change although the monitor rewrote them.
				Config: config("") + monitorDiscovery(true) + strings.Replace(monitorDiscovery(false), `"orders"`, `"any"`, 1) +
					strings.Replace(strings.Replace(monitorDiscovery(true), `"orders"`, `"stale"`, 1), "healthy = true", `healthy = true
  health_max_age = "1ms"`, 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("servicesdo_registry_entry.v2", plancheck.ResourceActionNoop),
					plancheck.ExpectResourceAction(address, plancheck.ResourceActionNoop),
				}},
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr("data.servicesdo_service_discovery.orders", "resolved_version", "1.0.0"),
					resource.TestCheckResourceAttr("data.servicesdo_service_discovery.orders", "health_status", registry.HealthHealthy),
					resource.TestCheckResourceAttr("data.servicesdo_service_discovery.any", "resolved_version", "1.1.0"),
					resource.TestCheckResourceAttr("data.servicesdo_service_discovery.any", "health_status", registry.HealthUnhealthy),
					resource.TestCheckResourceAttr("data.servicesdo_service_discovery.any", "health_reason", "status 503, want 2xx"),
					// A status older than health_max_age is stale and skips nothing.
					resource.TestCheckResourceAttr("data.servicesdo_service_discovery.stale", "resolved_version", "1.1.0"),
					func(*terraform.State) error {
						control.set(v2, http.StatusOK)
						health, err := monitorRun(edgeURL, host)
						if err != nil {
							return err
						}
						if health[v2] != registry.HealthHealthy {
							return fmt.Errorf("after one passing check (recovery_checks = 1): %v, want %s healthy", health, v2)
						}
						return nil
					},
				),
			},
			{
				// Recovered: discovery with healthy = true finds the newest version again.
				Config: config("") + monitorDiscovery(true),
				Check:  resource.TestCheckResourceAttr("data.servicesdo_service_discovery.orders", "resolved_version", "1.1.0"),
			},
			{
				// An error-rate alert: 4 of 10 requests throw in the frozen minute. The tick one
				// minute later fires it (one notification), the next tick sees it still firing
				// (none), GET /status lists it; the tick ten minutes later finds no traffic in
				// its window and resolves it (one notification).
				Config: config(""),
				Check: func(*terraform.State) error {
					for i := 0; i < 10; i++ {
						path := "/ok"
						if i%5 < 2 {
							path = "/boom"
						}
						if st, _ := edgeGet(edgeURL, v2+".localhost", path); st == 0 {
							return fmt.Errorf("the edge did not answer %s", path)
						}
					}
					fire := t0.Truncate(time.Minute).Add(time.Minute + time.Second)
					if err := monitorTick(edgeURL, host, fire); err != nil {
						return err
					}
					if got := sink.kinds(); len(got) != 1 || got[0] != "alert.firing" {
						return fmt.Errorf("webhook after the first tick: %v, want one alert.firing", got)
					}
					if err := monitorTick(edgeURL, host, fire.Add(time.Minute)); err != nil {
						return err
					}
					if got := sink.kinds(); len(got) != 1 {
						return fmt.Errorf("webhook after the second tick: %v, want still one notification", got)
					}
					st, status := monitorCall(edgeURL, host, http.MethodGet, "/status")
					open, _ := status["open_alerts"].([]any)
					if st != http.StatusOK || len(open) != 1 || open[0].(map[string]any)["alert"] != "orders-errors" {
						return fmt.Errorf("GET /status: HTTP %d, open alerts %v, want orders-errors", st, status["open_alerts"])
					}
					services, _ := status["services"].([]any)
					if len(services) != 2 {
						return fmt.Errorf("GET /status services: %v", status["services"])
					}
					for _, s := range services {
						if m := s.(map[string]any); m["status"] != registry.HealthHealthy {
							return fmt.Errorf("GET /status: %v, want healthy", m)
						}
					}
					sink.mu.Lock()
					firing := sink.events[0]
					sink.mu.Unlock()
					observed, _ := firing["observed"].(map[string]any)
					if firing["alert"] != "orders-errors" || firing["service"] != v2 || observed["requests"] != float64(10) || observed["errors"] != float64(4) {
						return fmt.Errorf("firing payload: %v", firing)
					}
					if err := monitorTick(edgeURL, host, fire.Add(10*time.Minute)); err != nil {
						return err
					}
					got := sink.kinds()
					if len(got) != 2 || got[1] != "alert.resolved" {
						return fmt.Errorf("webhook after the quiet tick: %v, want alert.firing then alert.resolved", got)
					}
					sink.mu.Lock()
					defer sink.mu.Unlock()
					if sink.events[0]["incident_id"] != sink.events[1]["incident_id"] {
						return fmt.Errorf("firing and resolved name different incidents: %v", sink.events)
					}
					_, status = monitorCall(edgeURL, host, http.MethodGet, "/status")
					if open, _ := status["open_alerts"].([]any); len(open) != 0 {
						return fmt.Errorf("GET /status after resolving: open alerts %v", open)
					}
					return nil
				},
			},
			{
				// Update: a changed rule deploys a new version with a new configuration.
				Config: strings.Replace(config(""), `for         = "5m"`, `for         = "10m"`, 1),
				Check: func(s *terraform.State) error {
					a := s.RootModule().Resources[address].Primary.Attributes
					if a["deployed_version_id"] == firstVersion || a["config_sha256"] == firstSHA {
						return fmt.Errorf("no new deployment: version %s, sha %s", a["deployed_version_id"], a["config_sha256"])
					}
					if !strings.Contains(a["config"], `"for":"10m"`) {
						return fmt.Errorf("config: %s", a["config"])
					}
					// The tokens survived the upload (kept, not sent again).
					if st, _ := monitorCall(edgeURL, host, http.MethodGet, "/status"); st != http.StatusOK {
						return fmt.Errorf("GET /status after the update: HTTP %d", st)
					}
					return nil
				},
			},
			{
				// Rotation: a bumped version sends the write-only token again (here a wrong
				// one, so the analytics API refuses it and /status reports why)...
				Config: strings.Replace(strings.Replace(config(""), `for         = "5m"`, `for         = "10m"`, 1),
					fmt.Sprintf("analytics_token_wo         = %q\n  analytics_token_wo_version = 1", edge.token),
					"analytics_token_wo         = \"wrong-token\"\n  analytics_token_wo_version = 2", 1),
				Check: func(*terraform.State) error { return monitorAnalyticsError(edgeURL, host, true) },
			},
			{
				// ...and bumping it again with the right token heals it.
				Config: strings.Replace(config(""), `for         = "5m"`, `for         = "10m"`, 1),
				Check:  func(*terraform.State) error { return monitorAnalyticsError(edgeURL, host, false) },
			},
			{
				Config:           strings.Replace(config(""), `for         = "5m"`, `for         = "10m"`, 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				ResourceName:            address,
				ImportState:             true,
				ImportStateId:           prefix + "-monitor",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"analytics_token_wo_version", "status_token_wo_version", "webhook_urls_wo_version"},
			},
			{
				// Drift: the cron trigger removed out of band is planned back and restored.
				PreConfig: func() {
					if _, err := edge.client.SetSchedules(context.Background(), prefix+"-monitor", nil); err != nil {
						t.Fatal(err)
					}
				},
				Config: strings.Replace(config(""), `for         = "5m"`, `for         = "10m"`, 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraform.State) error {
					crons, err := edge.client.GetSchedules(context.Background(), prefix+"-monitor")
					if err != nil || len(crons) != 1 || crons[0] != workers.MonitorCron {
						return fmt.Errorf("schedules after the apply: %v, %v", crons, err)
					}
					return nil
				},
			},
			{
				// Drift: a configuration edited out of band is planned back.
				PreConfig: func() {
					_, err := edge.client.EditScriptSettings(context.Background(), prefix+"-monitor", cloudflare.ScriptSettingsPatch{
						Bindings:     []cloudflare.Binding{{Type: cloudflare.BindingJSON, Name: workers.MonitorConfigBinding, JSON: []byte(`{"version":1,"name":"` + prefix + `-monitor","services":[]}`)}},
						KeepBindings: []string{cloudflare.BindingDurableObject, cloudflare.BindingService, cloudflare.BindingKVNamespace, cloudflare.BindingSecretText},
					})
					if err != nil {
						t.Fatal(err)
					}
				},
				Config: strings.Replace(config(""), `for         = "5m"`, `for         = "10m"`, 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraform.State) error {
					if st, status := monitorCall(edgeURL, host, http.MethodGet, "/status"); st != http.StatusOK || len(status["services"].([]any)) != 2 {
						return fmt.Errorf("GET /status after restoring the configuration: HTTP %d %v", st, status)
					}
					return nil
				},
			},
			{
				// The status token removed: the secret is deleted, /status is open and
				// /__run no longer exists.
				Config: strings.Replace(strings.Replace(config(""), `for         = "5m"`, `for         = "10m"`, 1),
					fmt.Sprintf("status_token_wo            = %q\n  status_token_wo_version    = 1", monitorStatusToken), "", 1),
				Check: func(*terraform.State) error {
					secrets, err := edge.client.ListSecrets(context.Background(), prefix+"-monitor")
					if err != nil {
						return err
					}
					for _, s := range secrets {
						if s.Name == workers.MonitorTokenBinding {
							return fmt.Errorf("the %s secret is still there", s.Name)
						}
					}
					deadline := time.Now().Add(60 * time.Second)
					for {
						req, _ := http.NewRequest(http.MethodGet, edgeURL+"/status", nil)
						req.Host = host
						res, err := http.DefaultClient.Do(req)
						if err == nil {
							res.Body.Close()
							if res.StatusCode == http.StatusOK {
								break
							}
						}
						if time.Now().After(deadline) {
							return fmt.Errorf("GET /status without a token: %v %v, want 200", res, err)
						}
						time.Sleep(100 * time.Millisecond) // the edge is switching to the new version
					}
					if st, _ := monitorCall(edgeURL, host, http.MethodPost, "/__run"); st != http.StatusNotFound {
						return fmt.Errorf("POST /__run without MONITOR_TOKEN: HTTP %d, want 404", st)
					}
					return nil
				},
			},
		},
	})
}
