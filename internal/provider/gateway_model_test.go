package provider

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workers"
)

// The example configuration the gateway program's tests use survives import (configuration →
// attributes) and upload (attributes → configuration) unchanged, byte for byte.
func TestGatewayConfigRoundTrip(t *testing.T) {
	raw, err := os.ReadFile("../workers/gateway/testdata/config-example.json")
	if err != nil {
		t.Fatal(err)
	}
	var example workers.GatewayConfig
	if err := json.Unmarshal(raw, &example); err != nil {
		t.Fatal(err)
	}
	want, wantSum, err := canonicalGatewayConfig(example)
	if err != nil {
		t.Fatal(err)
	}
	m := gatewayModel{Name: types.StringValue(example.Name)}
	m.fromGatewayConfig(example)
	got, gotSum, err := canonicalGatewayConfig(m.gatewayConfig(example.Auth.APIKeys, false))
	if err != nil {
		t.Fatal(err)
	}
	if got != want || gotSum != wantSum {
		t.Fatalf("round trip changed the configuration:\n got %s\nwant %s", got, want)
	}
	if problems := workers.ValidateGatewayConfig(m.gatewayConfig(true, false)); len(problems) > 0 {
		t.Fatalf("the example is refused: %v", problems)
	}
}

// Problems of the shared validation land on the resource's attribute names.
func TestGatewayAttributePath(t *testing.T) {
	problems := workers.ValidateGatewayAPIKeys(map[string]string{"ci": "short"})
	if len(problems) != 1 {
		t.Fatalf("problems %v, want one", problems)
	}
	if got := gatewayAttributePath(problems[0].Path).String(); got != `auth.api_keys_wo["ci"]` {
		t.Errorf("path %s, want auth.api_keys_wo[\"ci\"]", got)
	}
	cfg := workers.GatewayConfig{Version: 1, Routes: []workers.GatewayRoute{{Path: "/a", Service: "a", Binding: "SERVICE_A", TimeoutMs: -1}}}
	problems = workers.ValidateGatewayConfig(cfg)
	if len(problems) != 1 || gatewayAttributePath(problems[0].Path).String() != "routes[0].timeout" {
		t.Errorf("problems %v, want one on routes[0].timeout", problems)
	}
}

// Bindings: one service binding per target, the secrets given, and the rate-limit binding for
// 10 s / 60 s periods or the Durable Object counter for any other.
func TestGatewayBindings(t *testing.T) {
	routes := []workers.GatewayRoute{{Path: "/b/*", Service: "b-svc"}, {Path: "/a/*", Service: "a"}, {Path: "/b2", Service: "b-svc"}}
	byName := func(bs []cloudflare.Binding) map[string]cloudflare.Binding {
		out := map[string]cloudflare.Binding{}
		for _, b := range bs {
			out[b.Name] = b
		}
		return out
	}
	got := gatewayBindings(workers.GatewayConfig{Name: "gw", Routes: routes, RateLimit: &workers.GatewayRateLimit{Requests: 5, Period: 60}}, "{}", map[string]string{workers.GatewayAPIKeysBinding: "hashes"})
	bs := byName(got)
	if len(got) != 5 || bs["SERVICE_B_SVC"].Service != "b-svc" || bs["SERVICE_A"].Service != "a" || bs[workers.GatewayAPIKeysBinding].Text != "hashes" {
		t.Fatalf("bindings %+v", got)
	}
	rl := bs[workers.GatewayRateLimitBinding]
	if rl.Type != cloudflare.BindingRateLimit || rl.Simple == nil || rl.Simple.Limit != 5 || rl.Simple.Period != 60 || rl.NamespaceID == "" || rl.NamespaceID == gatewayRateLimitNamespace("other") {
		t.Errorf("rate-limit binding %+v", rl)
	}
	got = gatewayBindings(workers.GatewayConfig{Name: "gw", Routes: routes, RateLimit: &workers.GatewayRateLimit{Requests: 5, Period: 30}}, "{}", nil)
	bs = byName(got)
	if do := bs[workers.GatewayRateCounterBinding]; do.Type != cloudflare.BindingDurableObject || do.ClassName != workers.GatewayRateCounterClass || do.ScriptName != "" {
		t.Errorf("counter binding %+v", do)
	}
	if _, ok := bs[workers.GatewayRateLimitBinding]; ok || len(got) != 4 {
		t.Errorf("bindings %+v: want no rate-limit binding with a 30 s period", got)
	}
}

// Write-only values may be unknown at plan time (ephemeral sources) without hiding the rest of
// the configuration from validation; anything else unknown does.
func TestKnownApartFromSecrets(t *testing.T) {
	authType := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"api_keys_wo": tftypes.Map{ElementType: tftypes.String}, "mode": tftypes.String}}
	objType := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"name": tftypes.String, "auth": authType}}
	value := func(name, keys any) tftypes.Value {
		return tftypes.NewValue(objType, map[string]tftypes.Value{
			"name": tftypes.NewValue(tftypes.String, name),
			"auth": tftypes.NewValue(authType, map[string]tftypes.Value{
				"api_keys_wo": tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, keys),
				"mode":        tftypes.NewValue(tftypes.String, "required"),
			}),
		})
	}
	if !knownApartFromSecrets(value("gw", tftypes.UnknownValue)) {
		t.Error("unknown api_keys_wo hid the configuration")
	}
	if knownApartFromSecrets(value(tftypes.UnknownValue, nil)) {
		t.Error("an unknown name counted as known")
	}
}

// At plan time a route to a Worker that does not exist is an error, and a pinned version that
// is not in the target's current deployment is a warning (Cloudflare would ignore the pin).
func TestGatewayCheckTargets(t *testing.T) {
	edge := newTestEdge(t)
	edge.requireLocal(t)
	ctx := context.Background()
	_, err := edge.client.UploadScript(ctx, cloudflare.ScriptUpload{
		Name: "pinned-target", MainModule: "index.js", CompatibilityDate: "2025-01-01",
		Modules: []cloudflare.Module{{Name: "index.js", Content: []byte(`export default { fetch() { return new Response("ok") } }`)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	dep, _, err := edge.client.ActiveDeployment(ctx, "pinned-target")
	if err != nil || len(dep.Versions) != 1 {
		t.Fatalf("deployment %+v, %v", dep, err)
	}
	deployed := dep.Versions[0].VersionID
	r := &gatewayResource{data: &providerData{client: edge.client}}
	route := func(service, version string) gatewayRouteModel {
		v := types.StringNull()
		if version != "" {
			v = types.StringValue(version)
		}
		return gatewayRouteModel{Path: types.StringValue("/" + service + "/*"), Service: types.StringValue(service), VersionID: v}
	}
	plan := gatewayModel{Routes: []gatewayRouteModel{
		route("pinned-target", deployed),
		route("pinned-target", "00000000-0000-4000-8000-000000000000"),
		route("missing-target", ""),
	}}
	var resp resource.ModifyPlanResponse
	r.checkTargets(ctx, &plan, &resp)
	if errs := resp.Diagnostics.Errors(); len(errs) != 1 || !strings.Contains(errs[0].Detail(), `routes[2].service: "missing-target" is not a Worker of this account`) {
		t.Errorf("errors %v, want one for routes[2]", errs)
	}
	warnings := resp.Diagnostics.Warnings()
	if len(warnings) != 1 || !strings.Contains(warnings[0].Detail(), `routes[1].version_id: version "00000000-0000-4000-8000-000000000000" is not in the current deployment of "pinned-target" (`+deployed+`)`) {
		t.Errorf("warnings %v, want one for routes[1] naming the deployed version", warnings)
	}
}
