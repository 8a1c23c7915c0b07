package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/workers"
)

// The monitor resource's configuration in Terraform terms, and its translation to and from the
// monitor program's JSON configuration (workers.MonitorConfig), which is the contract: the
// resource validates with workers.ValidateMonitorConfig and never re-implements a rule.

type monitorServiceModel struct {
	Path            types.String           `tfsdk:"path"`
	ExpectStatus    types.Int64            `tfsdk:"expect_status"`
	Timeout         types.String           `tfsdk:"timeout"`
	DegradedLatency types.String           `tfsdk:"degraded_latency"`
	Interval        types.String           `tfsdk:"interval"`
	Checks          types.Int64            `tfsdk:"checks"`
	RecoveryChecks  types.Int64            `tfsdk:"recovery_checks"`
	Registry        []monitorRegistryModel `tfsdk:"registry"`
}

type monitorRegistryModel struct {
	Name    types.String `tfsdk:"name"`
	Version types.String `tfsdk:"version"`
}

type monitorAlertModel struct {
	Service      types.String `tfsdk:"service"`
	Condition    types.String `tfsdk:"condition"`
	For          types.String `tfsdk:"for"`
	MinRequests  types.Int64  `tfsdk:"min_requests"`
	WebhookURL   types.String `tfsdk:"webhook_url"`
	WebhookURLWO types.String `tfsdk:"webhook_url_wo"`
}

var (
	monitorRegistryType = types.ObjectType{AttrTypes: map[string]attr.Type{"name": types.StringType, "version": types.StringType}}
	monitorServiceType  = types.ObjectType{AttrTypes: map[string]attr.Type{
		"path": types.StringType, "expect_status": types.Int64Type, "timeout": types.StringType, "degraded_latency": types.StringType,
		"interval": types.StringType, "checks": types.Int64Type, "recovery_checks": types.Int64Type,
		"registry": types.ListType{ElemType: monitorRegistryType},
	}}
	monitorAlertType = types.ObjectType{AttrTypes: map[string]attr.Type{
		"service": types.StringType, "condition": types.StringType, "for": types.StringType, "min_requests": types.Int64Type, "webhook_url": types.StringType,
		"webhook_url_wo": types.StringType,
	}}
)

// monitorKeys maps the configuration's list indexes back to the map keys they came from.
type monitorKeys struct{ services, alerts []string }

// knownReader reads optional values, remembering whether any was unknown.
type knownReader struct{ unknown bool }

func (k *knownReader) str(v types.String) string {
	k.unknown = k.unknown || v.IsUnknown()
	return v.ValueString()
}

func (k *knownReader) count(v types.Int64) *int {
	k.unknown = k.unknown || v.IsUnknown()
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	n := int(v.ValueInt64())
	return &n
}

// monitorConfig builds the program's configuration from the model; ok is false when a value is
// not known yet (the plan then leaves the configuration unknown). Services and alerts are in
// key order, so equal configurations give equal JSON.
//
// secretHooks names the alerts whose webhook URL is write-only (from the configuration: a plan
// holds no write-only value): their configuration names the secret binding holding the URL.
func (m *monitorModel) monitorConfig(ctx context.Context, accountID, apiBase string, secretHooks map[string]bool) (cfg workers.MonitorConfig, keys monitorKeys, ok bool, diags diag.Diagnostics) {
	k := &knownReader{}
	if m.Services.IsUnknown() || m.Alerts.IsUnknown() {
		return cfg, keys, false, nil
	}
	cfg = workers.MonitorConfig{
		Version: workers.MonitorConfigVersion, Name: k.str(m.Name), Interval: k.str(m.Interval), Heartbeat: k.str(m.Heartbeat),
	}
	services := map[string]monitorServiceModel{}
	alerts := map[string]monitorAlertModel{}
	if !m.Services.IsNull() {
		diags.Append(m.Services.ElementsAs(ctx, &services, false)...)
	}
	if !m.Alerts.IsNull() {
		diags.Append(m.Alerts.ElementsAs(ctx, &alerts, false)...)
	}
	if diags.HasError() {
		if !fullyKnown(m.Services) || !fullyKnown(m.Alerts) {
			return cfg, keys, false, nil // a nested list unknown as a whole: known at apply
		}
		return cfg, keys, false, diags
	}
	keys.services = sortedKeys(services)
	for _, name := range keys.services {
		s := services[name]
		ms := workers.MonitorService{
			Name: name, Binding: workers.MonitorServiceBinding(name), Path: k.str(s.Path), Timeout: k.str(s.Timeout),
			DegradedLatency: k.str(s.DegradedLatency), Interval: k.str(s.Interval), Checks: k.count(s.Checks), RecoveryChecks: k.count(s.RecoveryChecks),
		}
		if p := k.count(s.ExpectStatus); p != nil {
			ms.ExpectStatus = *p
		}
		for _, e := range s.Registry {
			ms.Registry = append(ms.Registry, workers.MonitorRegistryEntry{Name: k.str(e.Name), Version: k.str(e.Version)})
		}
		cfg.Services = append(cfg.Services, ms)
	}
	keys.alerts = sortedKeys(alerts)
	for _, name := range keys.alerts {
		a := alerts[name]
		alert := workers.MonitorAlert{
			Name: name, Service: k.str(a.Service), Condition: k.str(a.Condition), For: k.str(a.For),
			MinRequests: k.count(a.MinRequests), WebhookURL: k.str(a.WebhookURL),
		}
		if secretHooks[name] {
			alert.WebhookSecret = workers.MonitorAlertWebhookBinding(name)
		}
		cfg.Alerts = append(cfg.Alerts, alert)
	}
	if len(cfg.Alerts) > 0 {
		cfg.AccountID = accountID
		cfg.APIBase = apiBase
	}
	return cfg, keys, !k.unknown, diags
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// monitorConfigJSON is the configuration as the Worker's JSON binding carries it, and its
// SHA-256 (config_sha256).
func monitorConfigJSON(cfg workers.MonitorConfig) (string, string, error) {
	raw, err := json.Marshal(cfg)
	if err != nil {
		return "", "", err
	}
	sum := sha256.Sum256(raw)
	return string(raw), hex.EncodeToString(sum[:]), nil
}

// monitorProblemPath maps a problem of the program's configuration to the attribute that set
// it, and names that attribute as a configuration would write it.
func monitorProblemPath(p workers.ConfigProblem, keys monitorKeys) (path.Path, string) {
	if len(p.Path) == 0 {
		return path.Root("services"), "services"
	}
	top, _ := p.Path[0].(string)
	index := func(list []string) (string, bool) {
		if len(p.Path) < 2 {
			return "", false
		}
		i, ok := p.Path[1].(int)
		if !ok || i < 0 || i >= len(list) {
			return "", false
		}
		return list[i], true
	}
	switch top {
	case "services", "alerts":
		list := keys.services
		if top == "alerts" {
			list = keys.alerts
		}
		key, ok := index(list)
		if !ok {
			return path.Root(top), top
		}
		at, text := path.Root(top).AtMapKey(key), top+"["+strconv.Quote(key)+"]"
		rest := p.Path[2:]
		if len(rest) > 0 {
			if f, _ := rest[0].(string); f == "name" || f == "binding" {
				return at, text // the map key is the name
			} else if f == "webhook_secret" {
				rest = []any{"webhook_url"}
			}
		}
		for _, step := range rest {
			switch v := step.(type) {
			case string:
				at, text = at.AtName(v), text+"."+v
			case int:
				at, text = at.AtListIndex(v), text+fmt.Sprintf("[%d]", v)
			}
		}
		return at, text
	case "account_id":
		return path.Root("alerts"), "account_id (the provider's)"
	case "version":
		return path.Root("name"), "version"
	}
	return path.Root(top), top
}

// addMonitorProblems reports the contract's validation of cfg as attribute errors.
func addMonitorProblems(cfg workers.MonitorConfig, keys monitorKeys, diags *diag.Diagnostics) {
	for _, p := range workers.ValidateMonitorConfig(cfg) {
		at, text := monitorProblemPath(p, keys)
		// The program's webhook_secret is webhook_url_wo in Terraform terms.
		message := strings.Replace(p.Message, "webhook_secret (a secret binding holding the URL, for URLs that embed a token)",
			"webhook_url_wo (write-only: for URLs that embed a token)", 1)
		diags.AddAttributeError(at, "Invalid monitor configuration", text+": "+message)
	}
}

// secretWebhooks returns the write-only webhook URLs of a configuration's alerts by alert name
// (unknown ones as ""): each goes to the monitor's Worker as a secret.
func (m *monitorModel) secretWebhooks() map[string]string {
	out := map[string]string{}
	if m.Alerts.IsNull() || m.Alerts.IsUnknown() {
		return out
	}
	alerts := map[string]monitorAlertModel{}
	if m.Alerts.ElementsAs(context.Background(), &alerts, false).HasError() {
		return out
	}
	for name, a := range alerts {
		if !a.WebhookURLWO.IsNull() {
			out[name] = a.WebhookURLWO.ValueString()
		}
	}
	return out
}

// secretWebhookBindings returns the secret bindings of the write-only webhook URLs that a
// deployed configuration (JSON) names.
func secretWebhookBindings(config string) map[string]bool {
	out := map[string]bool{}
	if cfg, err := workers.ParseMonitorConfig([]byte(config)); err == nil {
		for _, a := range cfg.Alerts {
			if a.WebhookSecret != "" {
				out[a.WebhookSecret] = true
			}
		}
	}
	return out
}

func namesOf[V any](m map[string]V) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// monitorModelFromConfig fills the configuration attributes of m from a deployed configuration
// (import): fields the configuration left out stay null.
func monitorModelFromConfig(cfg workers.MonitorConfig, m *monitorModel) diag.Diagnostics {
	var diags diag.Diagnostics
	opt := func(s string) types.String {
		if s == "" {
			return types.StringNull()
		}
		return types.StringValue(s)
	}
	num := func(p *int) types.Int64 {
		if p == nil {
			return types.Int64Null()
		}
		return types.Int64Value(int64(*p))
	}
	m.Interval, m.Heartbeat = opt(cfg.Interval), opt(cfg.Heartbeat)
	services := map[string]attr.Value{}
	for _, s := range cfg.Services {
		status := types.Int64Null()
		if s.ExpectStatus != 0 {
			status = types.Int64Value(int64(s.ExpectStatus))
		}
		registryList := types.ListNull(monitorRegistryType)
		if len(s.Registry) > 0 {
			entries := make([]attr.Value, 0, len(s.Registry))
			for _, e := range s.Registry {
				obj, d := types.ObjectValue(monitorRegistryType.AttrTypes, map[string]attr.Value{"name": types.StringValue(e.Name), "version": types.StringValue(e.Version)})
				diags.Append(d...)
				entries = append(entries, obj)
			}
			var d diag.Diagnostics
			registryList, d = types.ListValue(monitorRegistryType, entries)
			diags.Append(d...)
		}
		obj, d := types.ObjectValue(monitorServiceType.AttrTypes, map[string]attr.Value{
			"path": opt(s.Path), "expect_status": status, "timeout": opt(s.Timeout), "degraded_latency": opt(s.DegradedLatency),
			"interval": opt(s.Interval), "checks": num(s.Checks), "recovery_checks": num(s.RecoveryChecks), "registry": registryList,
		})
		diags.Append(d...)
		services[s.Name] = obj
	}
	alerts := map[string]attr.Value{}
	for _, a := range cfg.Alerts {
		obj, d := types.ObjectValue(monitorAlertType.AttrTypes, map[string]attr.Value{
			"service": types.StringValue(a.Service), "condition": types.StringValue(a.Condition), "for": types.StringValue(a.For),
			"min_requests": num(a.MinRequests), "webhook_url": opt(a.WebhookURL), "webhook_url_wo": types.StringNull(),
		})
		diags.Append(d...)
		alerts[a.Name] = obj
	}
	var d diag.Diagnostics
	m.Services, d = types.MapValue(monitorServiceType, services)
	diags.Append(d...)
	if len(cfg.Services) == 0 {
		m.Services = types.MapNull(monitorServiceType)
	}
	m.Alerts, d = types.MapValue(monitorAlertType, alerts)
	diags.Append(d...)
	if len(cfg.Alerts) == 0 {
		m.Alerts = types.MapNull(monitorAlertType)
	}
	return diags
}
