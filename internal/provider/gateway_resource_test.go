package provider

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workers"
)

// upstreamJS answers with what it received, so a test sees what the gateway forwarded.
const upstreamJS = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    return Response.json({
      service: env.SERVICE, path: url.pathname, method: request.method,
      auth: request.headers.get("x-gateway-auth"), identity: request.headers.get("x-gateway-identity"),
      api_key: request.headers.get("x-api-key"), authorization: request.headers.get("authorization"),
    });
  },
};`

var tenantSeq atomic.Int64

const gatewayTestJWTSecret = "gw-test-hs256-secret-0123456789abcdefghij"

// hs256Token signs claims with the test secret.
func hs256Token(claims map[string]any) string {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT"})
	payload, _ := json.Marshal(claims)
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	mac := hmac.New(sha256.New, []byte(gatewayTestJWTSecret))
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

const gatewayTestKey = "gw-test-key-0123456789abcdef"

func gatewayUpstream(resource, name string) string {
	return fmt.Sprintf(`
resource "servicesdo_service" %q {
  name               = %q
  main_module        = "index.js"
  inline_modules     = { "index.js" = %q }
  compatibility_date = "2025-01-01"
  vars               = { SERVICE = %q }
}
`, resource, name, upstreamJS, resource)
}

// gatewayConfig is two upstream services and a gateway in front of them; extra goes in the
// gateway block.
func gatewayTestConfig(e *testEdge, prefix, extra string) string {
	return e.providerBlock("") + gatewayUpstream("users", prefix+"-users") + gatewayUpstream("orders", prefix+"-orders") + fmt.Sprintf(`
resource "servicesdo_gateway" "api" {
  name        = %[1]q
  workers_dev = true
  routes = [
    { path = "/users/*", service = servicesdo_service.users.name, strip_prefix = "/users", timeout = "10s" },
    { path = "/orders/:id", service = servicesdo_service.orders.name, methods = ["GET"], retries = 2 },
    { path = "/health", service = servicesdo_service.orders.name, methods = ["GET"] },
  ]
  cors = {
    allowed_origins   = ["https://app.example.com"]
    allow_credentials = true
    max_age           = 600
  }
  auth = {
    mode            = "required"
    api_keys_wo     = { ci = %[2]q }
    secrets_version = 1
    public_paths    = ["/health"]
    jwt = {
      hs256_secret_wo = %[4]q
      audiences       = ["https://api.example.com"]
      clock_skew      = 30
    }
  }
  logging = { sample_rate = 1 }
  %[3]s
}
`, prefix+"-gw", gatewayTestKey, extra, gatewayTestJWTSecret)
}

type gatewayAnswer struct {
	status int
	header http.Header
	body   map[string]any
}

// gatewayCall sends one request to the gateway through the edge.
func gatewayCall(edgeURL, host, method, path string, headers map[string]string) gatewayAnswer {
	req, _ := http.NewRequest(method, edgeURL+path, nil)
	req.Host = host
	// Each call is its own rate-limit tenant unless it names one (see checkRateLimit).
	req.Header.Set("X-Tenant", fmt.Sprintf("call-%d", tenantSeq.Add(1)))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return gatewayAnswer{body: map[string]any{"error": err.Error()}}
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := gatewayAnswer{status: res.StatusCode, header: res.Header, body: map[string]any{}}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

// expectAnswer calls until the gateway gives the status (a fresh deployment may still be
// starting on a loaded machine), then checks the body fields.
func expectAnswer(edgeURL, host, method, path string, headers map[string]string, status int, fields map[string]any) (gatewayAnswer, error) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := gatewayCall(edgeURL, host, method, path, headers)
		if got.status == status {
			for k, want := range fields {
				if fmt.Sprint(got.body[k]) != fmt.Sprint(want) {
					return got, fmt.Errorf("%s %s: %s = %v, want %v (body %v)", method, path, k, got.body[k], want, got.body)
				}
			}
			return got, nil
		}
		if time.Now().After(deadline) {
			return got, fmt.Errorf("%s %s: HTTP %d %v, want %d", method, path, got.status, got.body, status)
		}
		time.Sleep(200 * time.Millisecond) // polling interval
	}
}

func checkGatewayTraffic(edgeURL, host, users, orders string) resource.TestCheckFunc {
	key := map[string]string{"Authorization": "Bearer " + gatewayTestKey}
	return func(*terraform.State) error {
		if _, err := expectAnswer(edgeURL, host, "GET", "/users/42/profile", key, 200, map[string]any{"service": "users", "path": "/42/profile", "auth": "api_key", "identity": "ci", "authorization": nil}); err != nil {
			return err
		}
		if _, err := expectAnswer(edgeURL, host, "GET", "/orders/7", map[string]string{"X-API-Key": gatewayTestKey}, 200, map[string]any{"service": "orders", "path": "/orders/7"}); err != nil {
			return err
		}
		if got := gatewayCall(edgeURL, host, "GET", "/users/1", nil); got.status != 401 || !strings.HasPrefix(got.header.Get("WWW-Authenticate"), "Bearer") {
			return fmt.Errorf("no credentials: HTTP %d %v, want 401 with WWW-Authenticate", got.status, got.header)
		}
		if got := gatewayCall(edgeURL, host, "GET", "/users/1", map[string]string{"Authorization": "Bearer wrong-key-0123456789abcdef"}); got.status != 401 {
			return fmt.Errorf("wrong key: HTTP %d, want 401", got.status)
		}
		exp := time.Now().Add(time.Hour).Unix()
		good := hs256Token(map[string]any{"sub": "alice", "aud": "https://api.example.com", "exp": exp})
		if _, err := expectAnswer(edgeURL, host, "GET", "/users/me", map[string]string{"Authorization": "Bearer " + good}, 200, map[string]any{"auth": "jwt", "identity": "alice"}); err != nil {
			return err
		}
		other := hs256Token(map[string]any{"sub": "alice", "aud": "https://other.example.com", "exp": exp})
		if got := gatewayCall(edgeURL, host, "GET", "/users/me", map[string]string{"Authorization": "Bearer " + other}); got.status != 403 {
			return fmt.Errorf("token for another audience: HTTP %d %v, want 403", got.status, got.body)
		}
		expired := hs256Token(map[string]any{"sub": "alice", "aud": "https://api.example.com", "exp": time.Now().Add(-time.Hour).Unix()})
		if got := gatewayCall(edgeURL, host, "GET", "/users/me", map[string]string{"Authorization": "Bearer " + expired}); got.status != 401 {
			return fmt.Errorf("expired token: HTTP %d, want 401", got.status)
		}
		if got := gatewayCall(edgeURL, host, "GET", "/health", nil); got.status != 200 || got.body["service"] != "orders" {
			return fmt.Errorf("public path: HTTP %d %v, want 200 from orders", got.status, got.body)
		}
		if got := gatewayCall(edgeURL, host, "POST", "/orders/7", key); got.status != 405 || got.header.Get("Allow") == "" {
			return fmt.Errorf("POST /orders/7: HTTP %d Allow %q, want 405 with Allow", got.status, got.header.Get("Allow"))
		}
		if got := gatewayCall(edgeURL, host, "GET", "/nowhere", key); got.status != 404 || got.body["request_id"] == nil {
			return fmt.Errorf("unknown path: HTTP %d %v, want 404 with request_id", got.status, got.body)
		}
		if got := gatewayCall(edgeURL, host, "GET", "/users/../admin", key); got.status == 200 && got.body["path"] != "/admin" {
			return fmt.Errorf("traversal reached %v", got.body)
		}
		pre := gatewayCall(edgeURL, host, "OPTIONS", "/users/1", map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT"})
		if pre.status != 204 || pre.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || pre.header.Get("Access-Control-Allow-Credentials") != "true" || pre.body["service"] != nil {
			return fmt.Errorf("preflight: HTTP %d %v %v, want 204 from the gateway allowing the origin", pre.status, pre.header, pre.body)
		}
		evil := gatewayCall(edgeURL, host, "OPTIONS", "/users/1", map[string]string{"Origin": "https://app.example.com.evil.com", "Access-Control-Request-Method": "PUT"})
		if evil.header.Get("Access-Control-Allow-Origin") != "" {
			return fmt.Errorf("preflight from another origin allowed: %v", evil.header)
		}
		return nil
	}
}

// checkRateLimit: the (N+1)th request of a tenant in the window is refused with 429 and
// Retry-After; another tenant is counted apart.
func checkRateLimit(edgeURL, host string, n int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		tenant := fmt.Sprintf("t%d", time.Now().UnixNano())
		headers := map[string]string{"Authorization": "Bearer " + gatewayTestKey, "X-Tenant": tenant}
		// The first request may meet a deployment still starting: wait for it to pass.
		if _, err := expectAnswer(edgeURL, host, "GET", "/health", map[string]string{"X-Tenant": tenant + "-warm"}, 200, nil); err != nil {
			return err
		}
		for i := 1; i <= n; i++ {
			if got := gatewayCall(edgeURL, host, "GET", "/users/1", headers); got.status != 200 {
				return fmt.Errorf("request %d of %d: HTTP %d %v, want 200", i, n, got.status, got.body)
			}
		}
		over := gatewayCall(edgeURL, host, "GET", "/users/1", headers)
		if over.status != 429 || over.header.Get("Retry-After") == "" {
			return fmt.Errorf("request %d: HTTP %d Retry-After %q, want 429 with Retry-After", n+1, over.status, over.header.Get("Retry-After"))
		}
		other := map[string]string{"Authorization": "Bearer " + gatewayTestKey, "X-Tenant": tenant + "-other"}
		if got := gatewayCall(edgeURL, host, "GET", "/users/1", other); got.status != 200 {
			return fmt.Errorf("another tenant: HTTP %d, want 200", got.status)
		}
		return nil
	}
}

// checkRateLimitParallel: of n+extra requests of one tenant sent at once, exactly n pass.
func checkRateLimitParallel(edgeURL, host string, n, extra int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		tenant := fmt.Sprintf("p%d", time.Now().UnixNano())
		if _, err := expectAnswer(edgeURL, host, "GET", "/health", map[string]string{"X-Tenant": tenant + "-warm"}, 200, nil); err != nil {
			return err
		}
		headers := map[string]string{"Authorization": "Bearer " + gatewayTestKey, "X-Tenant": tenant}
		statuses := make(chan int, n+extra)
		var wg sync.WaitGroup
		for range n + extra {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses <- gatewayCall(edgeURL, host, "GET", "/users/1", headers).status
			}()
		}
		wg.Wait()
		close(statuses)
		count := map[int]int{}
		for st := range statuses {
			count[st]++
		}
		if count[200] != n || count[429] != extra {
			return fmt.Errorf("%d parallel requests with a limit of %d: statuses %v, want %d × 200 and %d × 429", n+extra, n, count, n, extra)
		}
		return nil
	}
}

// checkNoKeyInState: neither the API key nor its hash record is anywhere in the state.
func checkNoKeyInState(s *terraform.State) error {
	raw, err := json.Marshal(s)
	if err != nil {
		return err
	}
	for _, secret := range []string{gatewayTestKey, gatewayTestJWTSecret, `"salt"`, `hmac-sha256`} {
		if strings.Contains(string(raw), secret) {
			return fmt.Errorf("state contains %q", secret)
		}
	}
	return nil
}

// The gateway through Terraform and the local edge: routing to two real services, auth,
// CORS preflight, a rate limit added by an update, no-op re-plan, import, drift of the
// configuration binding, destroy.
func TestAccGateway_endToEnd(t *testing.T) {
	edge := newTestEdge(t)
	edgeURL := edge.startWorkers(t)
	prefix := fmt.Sprintf("gw%d", time.Now().UnixNano()%100000)
	host := prefix + "-gw.localhost"
	name := prefix + "-gw"
	rateLimit := `rate_limit = { requests = 3, period = 60, key = "header:X-Tenant" }`
	// Everything Terraform and the provider log at trace level, to check for secrets.
	logs := t.TempDir()
	t.Setenv("TF_LOG", "trace")
	t.Setenv("TF_LOG_PATH", filepath.Join(logs, "terraform.log"))
	t.Setenv("TF_ACC_LOG_PATH", filepath.Join(logs, "provider.log"))
	t.Cleanup(func() {
		if t.Failed() || t.Skipped() {
			return
		}
		if err := checkLogsFreeOfSecrets(logs); err != nil {
			t.Error(err)
		}
	})
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		CheckDestroy: func(s *terraform.State) error {
			return checkAllGone(s, "servicesdo_gateway", "gateway", func(rs *terraform.ResourceState) error {
				_, err := edge.client.GetScriptSettings(context.Background(), rs.Primary.ID)
				return err
			})
		},
		Steps: []resource.TestStep{
			{
				Config: gatewayTestConfig(edge, prefix, ""),
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr("servicesdo_gateway.api", "id", name),
					resource.TestCheckResourceAttrSet("servicesdo_gateway.api", "config_sha256"),
					resource.TestCheckResourceAttrSet("servicesdo_gateway.api", "deployed_version_id"),
					resource.TestCheckNoResourceAttr("servicesdo_gateway.api", "auth.api_keys_wo.ci"),
					checkGatewayTraffic(edgeURL, host, prefix+"-users", prefix+"-orders"),
					checkNoKeyInState,
					func(*terraform.State) error { return expectGatewayBindings(edge, name, prefix, 0) },
				),
			},
			{
				Config: gatewayTestConfig(edge, prefix, rateLimit),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("servicesdo_gateway.api", plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue("servicesdo_gateway.api", tfjsonpath.New("deployed_version_id")),
				}},
				Check: resource.ComposeTestCheckFunc(checkRateLimit(edgeURL, host, 3), checkNoKeyInState),
			},
			{
				Config:            gatewayTestConfig(edge, prefix, rateLimit),
				ResourceName:      "servicesdo_gateway.api",
				ImportState:       true,
				ImportStateId:     name,
				ImportStateVerify: true,
				// Write-only values are never in state; the version counter is not on the platform.
				ImportStateVerifyIgnore: []string{"auth.secrets_version"},
			},
			{
				// Someone edits the configuration binding outside Terraform: the plan shows it.
				PreConfig: func() {
					if err := driftGatewayConfig(edge, name); err != nil {
						t.Fatal(err)
					}
				},
				Config: gatewayTestConfig(edge, prefix, rateLimit),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("servicesdo_gateway.api", plancheck.ResourceActionUpdate),
				}},
				Check: checkGatewayTraffic(edgeURL, host, prefix+"-users", prefix+"-orders"),
			},
			{
				// A service binding removed outside Terraform: the plan uploads the gateway again.
				PreConfig: func() {
					if err := dropGatewayBinding(edge, name, workers.GatewayServiceBindingName(prefix+"-users")); err != nil {
						t.Fatal(err)
					}
				},
				Config: gatewayTestConfig(edge, prefix, rateLimit),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("servicesdo_gateway.api", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeTestCheckFunc(
					checkGatewayTraffic(edgeURL, host, prefix+"-users", prefix+"-orders"),
					func(*terraform.State) error { return expectGatewayBindings(edge, name, prefix, 1) },
				),
			},
			{
				Config: gatewayTestConfig(edge, prefix, rateLimit),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
			{
				// A period the rate-limit binding cannot count: the Durable Object counter,
				// declared by the first upload, takes over; exact under parallel requests.
				Config: gatewayTestConfig(edge, prefix, `rate_limit = { requests = 4, period = 45, key = "header:X-Tenant" }`),
				Check: resource.ComposeTestCheckFunc(
					checkRateLimit(edgeURL, host, 4), checkRateLimitParallel(edgeURL, host, 4, 6),
					func(*terraform.State) error { return expectRateCounter(edge, name) },
				),
			},
		},
	})
}

// checkLogsFreeOfSecrets reads the trace logs of the test (Terraform's and the provider's):
// they must show the gateway's RPCs and contain neither secret. The harness's own log entry
// echoing each step's configuration (which holds the test's literal keys) is skipped: it is
// the test's text, not something Terraform or the provider logged.
func checkLogsFreeOfSecrets(dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		return err
	}
	var rpcs int
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		echo := false
		for i, line := range strings.Split(string(raw), "\n") {
			if !strings.HasPrefix(line, " ") { // an entry starts; continuation lines are indented
				echo = strings.Contains(line, "Setting Terraform configuration")
			}
			if echo {
				continue
			}
			if strings.Contains(line, "rpc=PlanResourceChange") && strings.Contains(line, "servicesdo_gateway") {
				rpcs++
			}
			for _, secret := range []string{gatewayTestKey, gatewayTestJWTSecret} {
				if strings.Contains(line, secret) {
					return fmt.Errorf("%s line %d contains a secret", filepath.Base(f), i+1)
				}
			}
		}
	}
	if rpcs == 0 {
		return fmt.Errorf("no trace log in %v shows a plan of the gateway: nothing was checked", files)
	}
	return nil
}

// expectGatewayBindings checks the Worker's bindings: the configuration, one service binding
// per target service, the key hashes as a secret.
func expectGatewayBindings(edge *testEdge, name, prefix string, more int) error {
	settings, err := edge.client.GetScriptSettings(context.Background(), name)
	if err != nil {
		return err
	}
	got := map[string]cloudflare.Binding{}
	for _, b := range settings.Bindings {
		got[b.Name] = b
	}
	for binding, service := range map[string]string{workers.GatewayServiceBindingName(prefix + "-users"): prefix + "-users", workers.GatewayServiceBindingName(prefix + "-orders"): prefix + "-orders"} {
		if got[binding].Type != cloudflare.BindingService || got[binding].Service != service {
			return fmt.Errorf("binding %s = %+v, want a service binding to %s", binding, got[binding], service)
		}
	}
	if got[workers.GatewayAPIKeysBinding].Type != cloudflare.BindingSecretText || got[workers.GatewayConfigBinding].Type != cloudflare.BindingJSON {
		return fmt.Errorf("bindings %v: want the config as json and the key hashes as secret_text", settings.Bindings)
	}
	if got[workers.GatewayJWTSecretBinding].Type != cloudflare.BindingSecretText {
		return fmt.Errorf("bindings %v: want the HS256 key as secret_text", settings.Bindings)
	}
	if len(settings.Bindings) != 5+more {
		return fmt.Errorf("bindings %v: want config, two services, the key hashes, the HS256 key and %d more", settings.Bindings, more)
	}
	return nil
}

// expectRateCounter checks that the gateway counts with its Durable Object, not the binding.
func expectRateCounter(edge *testEdge, name string) error {
	settings, err := edge.client.GetScriptSettings(context.Background(), name)
	if err != nil {
		return err
	}
	kinds := map[string]string{}
	for _, b := range settings.Bindings {
		kinds[b.Name] = b.Type
	}
	if kinds[workers.GatewayRateCounterBinding] != cloudflare.BindingDurableObject || kinds[workers.GatewayRateLimitBinding] != "" {
		return fmt.Errorf("bindings %v: want the Durable Object counter and no rate-limit binding", kinds)
	}
	return nil
}

// driftGatewayConfig changes the gateway's configuration binding as a user of the API would:
// the /health route no longer exists.
func driftGatewayConfig(edge *testEdge, name string) error {
	ctx := context.Background()
	settings, err := edge.client.GetScriptSettings(ctx, name)
	if err != nil {
		return err
	}
	bindings := make([]cloudflare.Binding, 0, len(settings.Bindings))
	for _, b := range settings.Bindings {
		if b.Name == workers.GatewayConfigBinding {
			var cfg workers.GatewayConfig
			if err := json.Unmarshal(b.JSON, &cfg); err != nil {
				return err
			}
			cfg.Routes = cfg.Routes[:2]
			b.JSON, _ = json.Marshal(cfg)
		}
		bindings = append(bindings, b)
	}
	_, err = edge.client.EditScriptSettings(ctx, name, cloudflare.ScriptSettingsPatch{Bindings: bindings})
	return err
}

// dropGatewayBinding removes one binding of the gateway's Worker through the API.
func dropGatewayBinding(edge *testEdge, name, binding string) error {
	ctx := context.Background()
	settings, err := edge.client.GetScriptSettings(ctx, name)
	if err != nil {
		return err
	}
	kept := make([]cloudflare.Binding, 0, len(settings.Bindings))
	for _, b := range settings.Bindings {
		if b.Name != binding {
			kept = append(kept, b)
		}
	}
	if len(kept) == len(settings.Bindings) {
		return fmt.Errorf("worker %s has no binding %s", name, binding)
	}
	_, err = edge.client.EditScriptSettings(ctx, name, cloudflare.ScriptSettingsPatch{Bindings: kept})
	return err
}

// Each bad input is refused at plan time with the rule and the fix.
func TestAccGateway_invalidInput(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	gw := func(body string) string {
		return edge.providerBlock("") + fmt.Sprintf(`
resource "servicesdo_gateway" "bad" {
  name = "tf-acc-bad-gateway"
%s
}
`, body)
	}
	route := `routes = [{ path = "/a/*", service = "nosuch-service" }]`
	cases := []struct{ name, body, message string }{
		{"duplicate path", `routes = [{ path = "/a/*", service = "x" }, { path = "/a/*", service = "y" }]`,
			`routes[1].path: "/a/*" is also routes[0].path: each path pattern may appear once`},
		{"same after normalisation", `routes = [{ path = "/users/:id", service = "x" }, { path = "/users/:uid", service = "x" }]`,
			`routes[1].path: "/users/:uid" matches exactly the same requests as routes[0].path "/users/:id" (parameter names do not count)`},
		{"pattern syntax", `routes = [{ path = "/users/*/posts", service = "x" }]`,
			`routes[0].path: pattern "/users/*/posts": "*" matches the rest of the path, so it must be the last segment`},
		{"unknown service", route,
			`routes[0].service: "nosuch-service" is not a Worker of this account nor a servicesdo_service of this configuration`},
		{"credentials with any origin", route + "\n" + `cors = { allowed_origins = ["*"], allow_credentials = true }`,
			`cors.allow_credentials: is true with allowed_origins = ["*"]: browsers refuse credentials`},
		{"required without credentials", route + "\n" + `auth = { mode = "required" }`,
			`auth.mode: is "required" but there is nothing to check credentials against`},
		{"no requests", route + "\n" + `rate_limit = { requests = 0, period = 60 }`,
			`rate_limit.requests: is 0: allow at least 1 request per period`},
		{"unsupported period", route + "\n" + `rate_limit = { requests = 10, period = 172800 }`,
			`rate_limit.period: is 172800 s, which is not supported: use a whole number of seconds from 1 to 86400`},
		{"jwks over http", route + "\n" + `auth = { mode = "required", jwt = { jwks_url = "http://auth.example.com/jwks.json" } }`,
			`auth.jwt.jwks_url: "http://auth.example.com/jwks.json" must be an https URL`},
		{"retries on POST", `routes = [{ path = "/a/*", service = "x", methods = ["GET", "POST"], retries = 2 }]`,
			`routes[0].retries: is 2, but methods include POST: a retry sends a request again, which is safe only for idempotent methods`},
	}
	steps := make([]resource.TestStep, 0, len(cases))
	for _, c := range cases {
		steps = append(steps, resource.TestStep{Config: gw(c.body), PlanOnly: true, ExpectError: expectError(c.message)})
	}
	resource.UnitTest(t, resource.TestCase{ProtoV6ProviderFactories: testProviders, Steps: steps})
}

// jwtToken signs claims in compact form: header alg with sign over "header.payload".
func jwtToken(header map[string]string, claims map[string]any, sign func(signing []byte) []byte) string {
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(header)
	payload, _ := json.Marshal(claims)
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(payload)
	return signing + "." + enc.EncodeToString(sign([]byte(signing)))
}

func rs256Signer(key *rsa.PrivateKey) func([]byte) []byte {
	return func(signing []byte) []byte {
		digest := sha256.Sum256(signing)
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
		if err != nil {
			panic(err)
		}
		return sig
	}
}

// startJWKSServer serves the public key as a JWKS over https on 127.0.0.1, with a certificate
// of its own that the gateway Worker trusts: Miniflare adds the certificates in
// NODE_EXTRA_CA_CERTS to the trust store of the Workers' outbound fetches (and allows private
// addresses), so the edge's runtime, started after this, reaches it like an identity provider.
// It returns the JWKS URL and a counter of the JWKS fetches.
func startJWKSServer(t *testing.T, pub *rsa.PublicKey, kid string) (string, *atomic.Int64) {
	t.Helper()
	certKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "servicesdo test identity provider"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &certKey.PublicKey, certKey)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	caFile := filepath.Join(t.TempDir(), "idp-ca.pem")
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NODE_EXTRA_CA_CERTS", caFile)

	enc := base64.RawURLEncoding
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
		"n": enc.EncodeToString(pub.N.Bytes()), "e": enc.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
	var fetches atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: certKey}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return "https://" + srv.Listener.Addr().String() + "/.well-known/jwks.json", &fetches
}

// versionedJS answers with its version label, so a test sees which version served a request.
const versionedJS = `export default { fetch: (request) => Response.json({ version: %q, path: new URL(request.url).pathname }) };`

// RS256 through a JWKS the gateway Worker fetches over https, and routes pinned to a version
// of a managed service (kept in its deployment at 0 % by servicesdo_deployment) next to an
// unpinned route that follows the 100 % version. Two applies: version one deployed alone,
// then version two deployed with version one kept and pinned.
func TestAccGateway_jwksAndPinnedVersion(t *testing.T) {
	edge := newTestEdge(t)
	signing, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwksURL, jwksFetches := startJWKSServer(t, &signing.PublicKey, "k1") // before the runtime starts: it reads NODE_EXTRA_CA_CERTS
	edgeURL := edge.startWorkers(t)
	prefix := fmt.Sprintf("gwp%d", time.Now().UnixNano()%100000)
	host := prefix + "-gw.localhost"
	dir := t.TempDir()
	code := writeCode(t, dir, "index.js", fmt.Sprintf(versionedJS, "one"))
	pinFile := filepath.Join(dir, "pinned-version")
	// The pinned version is known after the first apply; the configuration reads it from a file
	// written before the second, and pins nothing while the file does not exist.
	config := edge.providerBlock("") + fmt.Sprintf(`
locals {
  pinned = try(trimspace(file(%[4]q)), null)
}

resource "servicesdo_service" "app" {
  name               = %[1]q
  main_module        = "index.js"
  modules            = { "index.js" = %[2]q }
  compatibility_date = "2025-01-01"
  rollout            = "managed"
}

resource "servicesdo_deployment" "app" {
  service         = servicesdo_service.app.name
  version_id      = servicesdo_service.app.latest_version_id
  keep_version_id = local.pinned
  strategy        = "immediate"
}

resource "servicesdo_gateway" "api" {
  name        = %[5]q
  workers_dev = true
  routes = [
    { path = "/v1/*", service = servicesdo_service.app.name, strip_prefix = "/v1", version_id = local.pinned },
    { path = "/latest/*", service = servicesdo_service.app.name, strip_prefix = "/latest" },
  ]
  auth = {
    mode = "required"
    jwt = {
      jwks_url  = %[3]q
      issuer    = "https://idp.example.com"
      audiences = ["https://api.example.com"]
    }
  }
  depends_on = [servicesdo_deployment.app]
}
`, prefix+"-app", code, jwksURL, pinFile, prefix+"-gw")

	claims := func(sub string) map[string]any {
		return map[string]any{"sub": sub, "iss": "https://idp.example.com", "aud": "https://api.example.com", "exp": time.Now().Add(time.Hour).Unix()}
	}
	rsHeader := map[string]string{"alg": "RS256", "typ": "JWT", "kid": "k1"}
	bearer := func(token string) map[string]string { return map[string]string{"Authorization": "Bearer " + token} }
	valid := bearer(jwtToken(rsHeader, claims("alice"), rs256Signer(signing)))

	checkJWKS := func(*terraform.State) error {
		if _, err := expectAnswer(edgeURL, host, "GET", "/latest/x", valid, http.StatusOK, map[string]any{"version": "one", "path": "/x"}); err != nil {
			return err
		}
		if jwksFetches.Load() == 0 {
			return fmt.Errorf("the gateway accepted the token without fetching the JWKS")
		}
		other, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return err
		}
		// The public key as an HS256 secret: the classic RS/HS confusion.
		spki, _ := x509.MarshalPKIXPublicKey(&signing.PublicKey)
		publicPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki})
		good := jwtToken(rsHeader, claims("alice"), rs256Signer(signing))
		parts := strings.Split(good, ".")
		forged, _ := json.Marshal(claims("admin"))
		// Each is denied for its own reason (the body's error), before the service is called.
		denied := map[string]struct{ token, reason string }{
			"tampered payload": {parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2], "token signature is not valid"},
			"wrong key":        {jwtToken(rsHeader, claims("alice"), rs256Signer(other)), "token signature is not valid"},
			"HS256 with the public key as secret": {jwtToken(map[string]string{"alg": "HS256", "typ": "JWT", "kid": "k1"}, claims("alice"), func(signing []byte) []byte {
				mac := hmac.New(sha256.New, publicPEM)
				mac.Write(signing)
				return mac.Sum(nil)
			}), "token algorithm is not accepted"},
		}
		for what, c := range denied {
			got := gatewayCall(edgeURL, host, "GET", "/latest/x", bearer(c.token))
			if got.status != http.StatusUnauthorized || got.body["error"] != c.reason || got.header.Get("WWW-Authenticate") == "" || got.body["version"] != nil {
				return fmt.Errorf("%s: HTTP %d %v (WWW-Authenticate %q), want 401 %q without reaching the service", what, got.status, got.body, got.header.Get("WWW-Authenticate"), c.reason)
			}
		}
		return nil
	}

	var first string
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: resource.ComposeTestCheckFunc(
					checkJWKS,
					func(s *terraform.State) error {
						first = s.RootModule().Resources["servicesdo_service.app"].Primary.Attributes["latest_version_id"]
						if first == "" {
							return fmt.Errorf("no latest_version_id")
						}
						return nil
					},
				),
			},
			{
				// Version two rolls out; version one stays at 0 % and /v1 is pinned to it.
				PreConfig: func() {
					writeCode(t, dir, "index.js", fmt.Sprintf(versionedJS, "two"))
					writeCode(t, dir, "pinned-version", first)
				},
				Config: config,
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttrPair("servicesdo_gateway.api", "routes.0.version_id", "servicesdo_deployment.app", "keep_version_id"),
					func(s *terraform.State) error {
						if second := s.RootModule().Resources["servicesdo_service.app"].Primary.Attributes["latest_version_id"]; second == first {
							return fmt.Errorf("version two has the id of version one (%s)", first)
						}
						if _, err := expectAnswer(edgeURL, host, "GET", "/latest/x", valid, http.StatusOK, map[string]any{"version": "two"}); err != nil {
							return err
						}
						// Several calls: a split would show on some; the pin must hold on each.
						for range 5 {
							if _, err := expectAnswer(edgeURL, host, "GET", "/v1/x", valid, http.StatusOK, map[string]any{"version": "one", "path": "/x"}); err != nil {
								return err
							}
							if _, err := expectAnswer(edgeURL, host, "GET", "/latest/x", valid, http.StatusOK, map[string]any{"version": "two"}); err != nil {
								return err
							}
						}
						return nil
					},
				),
			},
		},
	})
}
