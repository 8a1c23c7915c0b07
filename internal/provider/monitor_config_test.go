package provider

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/workers"
)

// The example configuration of the monitor program survives model → configuration → model →
// configuration byte for byte (what import relies on), minus what the provider supplies.
func TestMonitorConfigRoundTrip(t *testing.T) {
	raw, err := os.ReadFile("../workers/monitor/testdata/config-example.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := workers.ParseMonitorConfig(raw)
	if err != nil {
		t.Fatal(err)
	}
	// The resource takes webhook URLs only (no secret-held URL).
	var alerts []workers.MonitorAlert
	for _, a := range cfg.Alerts {
		if a.WebhookURL != "" {
			alerts = append(alerts, a)
		}
	}
	cfg.Alerts = alerts
	m := monitorModel{Name: types.StringValue(cfg.Name)}
	if d := monitorModelFromConfig(cfg, &m); d.HasError() {
		t.Fatal(d)
	}
	got, keys, ok, d := m.monitorConfig(context.Background(), cfg.AccountID, cfg.APIBase, nil)
	if d.HasError() || !ok {
		t.Fatalf("monitorConfig: ok %v, %v", ok, d)
	}
	want, _, _ := monitorConfigJSON(cfg)
	have, _, _ := monitorConfigJSON(got)
	if have != want {
		t.Errorf("round trip:\n got %s\nwant %s", have, want)
	}
	if len(keys.services) != len(cfg.Services) || len(keys.alerts) != len(cfg.Alerts) {
		t.Errorf("keys %+v", keys)
	}
	if problems := workers.ValidateMonitorConfig(got); len(problems) != 0 {
		t.Errorf("the example is refused: %v", problems)
	}
}

// An unknown value leaves the configuration unknown rather than validating an empty string.
func TestMonitorConfigUnknown(t *testing.T) {
	m := monitorModel{Name: types.StringUnknown(), Services: types.MapNull(monitorServiceType), Alerts: types.MapNull(monitorAlertType)}
	if _, _, ok, _ := m.monitorConfig(context.Background(), "", "", nil); ok {
		t.Error("an unknown name gave a known configuration")
	}
	m = monitorModel{Name: types.StringValue("m"), Services: types.MapUnknown(monitorServiceType), Alerts: types.MapNull(monitorAlertType)}
	if _, _, ok, _ := m.monitorConfig(context.Background(), "", "", nil); ok {
		t.Error("unknown services gave a known configuration")
	}
}

// Problems land on the attribute that set the value, named as the configuration writes it.
func TestMonitorProblemPath(t *testing.T) {
	keys := monitorKeys{services: []string{"orders", "users"}, alerts: []string{"orders-errors"}}
	for _, tt := range []struct {
		problem []any
		at      path.Path
		text    string
	}{
		{[]any{"services", 1, "checks"}, path.Root("services").AtMapKey("users").AtName("checks"), `services["users"].checks`},
		{[]any{"services", 0, "name"}, path.Root("services").AtMapKey("orders"), `services["orders"]`},
		{[]any{"services", 0, "binding"}, path.Root("services").AtMapKey("orders"), `services["orders"]`},
		{[]any{"services", 0, "registry", 2, "version"}, path.Root("services").AtMapKey("orders").AtName("registry").AtListIndex(2).AtName("version"), `services["orders"].registry[2].version`},
		{[]any{"alerts", 0, "for"}, path.Root("alerts").AtMapKey("orders-errors").AtName("for"), `alerts["orders-errors"].for`},
		{[]any{"alerts", 0, "webhook_secret"}, path.Root("alerts").AtMapKey("orders-errors").AtName("webhook_url"), `alerts["orders-errors"].webhook_url`},
		{[]any{"account_id"}, path.Root("alerts"), "account_id (the provider's)"},
		{[]any{"heartbeat"}, path.Root("heartbeat"), "heartbeat"},
		{[]any{"services"}, path.Root("services"), "services"},
		{[]any{"services", 7, "checks"}, path.Root("services"), "services"},
	} {
		at, text := monitorProblemPath(workers.ConfigProblem{Path: tt.problem, Message: "m"}, keys)
		if !at.Equal(tt.at) || text != tt.text {
			t.Errorf("%v → %s %q, want %s %q", tt.problem, at, text, tt.at, tt.text)
		}
	}
}

// The secrets to send and to remove: all on create, only a bumped version's on update, and
// the removal of a token dropped with its version.
func TestMonitorSecrets(t *testing.T) {
	v := func(n int64) types.Int64 { return types.Int64Value(n) }
	s := func(x string) types.String { return types.StringValue(x) }
	cfg := monitorModel{AnalyticsToken: s("a"), StatusToken: s("b")}
	plan := monitorModel{AnalyticsTokenVersion: v(1), StatusTokenVersion: v(1)}
	send, drop := monitorSecrets(plan, monitorModel{}, cfg, true)
	if len(send) != 2 || len(drop) != 0 {
		t.Errorf("create: %v %v", keysOf(send), drop)
	}
	send, drop = monitorSecrets(plan, plan, cfg, false)
	if len(send) != 0 || len(drop) != 0 {
		t.Errorf("unchanged: %v %v", keysOf(send), drop)
	}
	send, _ = monitorSecrets(monitorModel{AnalyticsTokenVersion: v(2), StatusTokenVersion: v(1)}, plan, cfg, false)
	if len(send) != 1 || send[workers.MonitorAnalyticsTokenBinding] != "a" {
		t.Errorf("rotated: %v", keysOf(send))
	}
	send, drop = monitorSecrets(monitorModel{AnalyticsTokenVersion: v(1), StatusTokenVersion: types.Int64Null()}, plan,
		monitorModel{AnalyticsToken: s("a"), StatusToken: types.StringNull()}, false)
	if len(send) != 0 || len(drop) != 1 || drop[0] != workers.MonitorTokenBinding {
		t.Errorf("removed: %v %v", keysOf(send), drop)
	}
}

func keysOf(m map[string]string) string {
	raw, _ := json.Marshal(sortedKeys(m))
	return strings.TrimSpace(string(raw))
}

// Write-only webhook URLs go to the Worker as secrets: all on create, none when nothing
// changed, all when their version changes, a new alert's without it; a secret whose alert
// has no write-only URL any more is removed.
func TestMonitorWebhookSecrets(t *testing.T) {
	alerts := func(hooks map[string]string) types.Map {
		elems := map[string]attr.Value{}
		for name, url := range hooks {
			wo, plain := types.StringValue(url), types.StringNull()
			if !strings.HasPrefix(url, "secret:") {
				wo, plain = types.StringNull(), types.StringValue(url)
			}
			elems[name] = types.ObjectValueMust(monitorAlertType.AttrTypes, map[string]attr.Value{
				"service": types.StringValue("orders"), "condition": types.StringValue("requests < 1"), "for": types.StringValue("5m"),
				"min_requests": types.Int64Null(), "webhook_url": plain, "webhook_url_wo": wo,
			})
		}
		return types.MapValueMust(monitorAlertType, elems)
	}
	deployed := func(names ...string) types.String {
		cfg := workers.MonitorConfig{}
		for _, n := range names {
			cfg.Alerts = append(cfg.Alerts, workers.MonitorAlert{Name: n, WebhookSecret: workers.MonitorAlertWebhookBinding(n)})
		}
		raw, _ := json.Marshal(cfg)
		return types.StringValue(string(raw))
	}
	a, b := workers.MonitorAlertWebhookBinding("a"), workers.MonitorAlertWebhookBinding("b")
	v1 := monitorModel{WebhookURLsVersion: types.Int64Value(1)}
	cfg := monitorModel{Alerts: alerts(map[string]string{"a": "secret:1"})}
	if send, _ := monitorSecrets(v1, monitorModel{}, cfg, true); send[a] != "secret:1" || len(send) != 1 {
		t.Errorf("create: %v", keysOf(send))
	}
	state := monitorModel{WebhookURLsVersion: types.Int64Value(1), Config: deployed("a")}
	if send, drop := monitorSecrets(v1, state, cfg, false); len(send) != 0 || len(drop) != 0 {
		t.Errorf("unchanged: %v %v", keysOf(send), drop)
	}
	if send, _ := monitorSecrets(monitorModel{WebhookURLsVersion: types.Int64Value(2)}, state, cfg, false); send[a] != "secret:1" {
		t.Errorf("bumped: %v", keysOf(send))
	}
	both := monitorModel{Alerts: alerts(map[string]string{"a": "secret:1", "b": "secret:2"})}
	if send, _ := monitorSecrets(v1, state, both, false); len(send) != 1 || send[b] != "secret:2" {
		t.Errorf("new alert: %v", keysOf(send))
	}
	plain := monitorModel{Alerts: alerts(map[string]string{"a": "https://hooks.example.com/a"})}
	if send, drop := monitorSecrets(monitorModel{}, state, plain, false); len(send) != 0 || len(drop) != 1 || drop[0] != a {
		t.Errorf("back to a plain URL: %v %v", keysOf(send), drop)
	}
	if got := workers.MonitorAlertWebhookBinding("orders.errors"); got == workers.MonitorAlertWebhookBinding("orders-errors") || got != strings.ToUpper(got) {
		t.Errorf("binding names: %s", got)
	}
}
