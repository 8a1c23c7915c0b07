package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workers"
)

var (
	_ resource.Resource                   = (*monitorResource)(nil)
	_ resource.ResourceWithConfigure      = (*monitorResource)(nil)
	_ resource.ResourceWithImportState    = (*monitorResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*monitorResource)(nil)
	_ resource.ResourceWithValidateConfig = (*monitorResource)(nil)
)

// NewMonitorResource is the servicesdo_monitor constructor.
func NewMonitorResource() resource.Resource { return &monitorResource{} }

type monitorResource struct{ data *providerData }

const (
	monitorCompatibilityDate = "2025-01-01"
	monitorMigrationTag      = "monitor-v1"
	// monitorPlaceholderAccount stands in for the provider's account id where the
	// configuration alone is validated (ValidateConfig has no provider).
	monitorPlaceholderAccount = "00000000000000000000000000000000"
)

type monitorModel struct {
	ID                    types.String `tfsdk:"id"`
	Name                  types.String `tfsdk:"name"`
	Interval              types.String `tfsdk:"interval"`
	Heartbeat             types.String `tfsdk:"heartbeat"`
	Services              types.Map    `tfsdk:"services"`
	Alerts                types.Map    `tfsdk:"alerts"`
	RegistryID            types.String `tfsdk:"registry_id"`
	APIBase               types.String `tfsdk:"api_base"`
	AnalyticsToken        types.String `tfsdk:"analytics_token_wo"`
	AnalyticsTokenVersion types.Int64  `tfsdk:"analytics_token_wo_version"`
	StatusToken           types.String `tfsdk:"status_token_wo"`
	StatusTokenVersion    types.Int64  `tfsdk:"status_token_wo_version"`
	WebhookURLsVersion    types.Int64  `tfsdk:"webhook_urls_wo_version"`
	WorkersDev            types.Bool   `tfsdk:"workers_dev"`
	Cron                  types.String `tfsdk:"cron"`
	Config                types.String `tfsdk:"config"`
	ConfigSHA256          types.String `tfsdk:"config_sha256"`
	URL                   types.String `tfsdk:"url"`
	DeployedVersionID     types.String `tfsdk:"deployed_version_id"`
}

func (r *monitorResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_monitor"
}

func (r *monitorResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	optString := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Optional: true, MarkdownDescription: desc}
	}
	optInt := func(desc string) schema.Int64Attribute {
		return schema.Int64Attribute{Optional: true, MarkdownDescription: desc}
	}
	computed := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A health monitor: a generated Worker on a once-a-minute cron trigger that probes each listed service's health endpoint " +
			"through a service binding, records each service's health (`healthy`, `degraded`, `unhealthy`) in its registry entries so that " +
			"discovery can skip unhealthy services, and evaluates alert rules over Workers analytics, posting a webhook once when an alert " +
			"fires and once when it resolves. `GET /status` on the monitor shows every service's health and the open alerts. " +
			"See the monitoring guide.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The monitor's name.", PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the monitor's Worker: 1–63 of `a-z`, `0-9`, `-`. Changing it replaces the monitor (and its alert state).",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{stringvalidator.RegexMatches(sagaScriptName.Regexp(), "must be 1 to 63 lowercase letters, digits or '-', starting with a letter or digit")},
			},
			"interval": optString("How often alerts are evaluated, and the services' default probe interval: whole minutes from `1m` to `1d`. Default `" +
				workers.MonitorDefaultInterval + "`."),
			"heartbeat": optString("Longest time between two registry writes of an unchanged verdict, from `interval` to `1d`. Default `" +
				workers.MonitorDefaultHeartbeat + "`. A reader should treat a `health_status` older than `heartbeat` + `interval` as unknown."),
			"services": schema.MapNestedAttribute{
				Optional: true,
				MarkdownDescription: fmt.Sprintf("The services to probe, by Worker name (e.g. `(servicesdo_service.orders.name) = { … }`), at most %d. "+
					"Each gets a service binding `SERVICE_<NAME>` on the monitor.", workers.MonitorMaxServices),
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"path":          optString("The health endpoint, from `/` (a query is allowed). Default `" + workers.MonitorDefaultPath + "`."),
					"expect_status": optInt("The status a passing probe answers (100–599). Default: any 2xx."),
					"timeout":       optString("How long a probe may take, `100ms` to `30s`. Default `" + workers.MonitorDefaultTimeout + "`."),
					"degraded_latency": optString("A passing probe slower than this makes the service `degraded`; above 0 and below `timeout`. " +
						"Default half the timeout."),
					"interval": optString("How often the service is probed: whole minutes from `1m` to `1d`. Default the monitor's `interval`."),
					"checks": optInt(fmt.Sprintf("Consecutive failed probes before the service is `unhealthy` (1–%d). Default %d.",
						workers.MonitorMaxChecks, workers.MonitorDefaultChecks)),
					"recovery_checks": optInt(fmt.Sprintf("Consecutive passing probes before an unhealthy service counts as recovered (1–%d). Default %d.",
						workers.MonitorMaxChecks, workers.MonitorDefaultRecoveryChecks)),
					"registry": schema.ListNestedAttribute{
						Optional: true,
						MarkdownDescription: fmt.Sprintf("Registry entries (at most %d) whose `health_status` records this service's health. "+
							"The monitor never creates an entry; an entry belongs to one service.", workers.MonitorMaxRegistryEntries),
						NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
							"name":    schema.StringAttribute{Required: true, MarkdownDescription: "The entry's service name, e.g. `servicesdo_registry_entry.orders.name`."},
							"version": schema.StringAttribute{Required: true, MarkdownDescription: "The entry's version, `MAJOR.MINOR.PATCH`."},
						}},
					},
				}},
			},
			"alerts": schema.MapNestedAttribute{
				Optional: true,
				MarkdownDescription: fmt.Sprintf("Alert rules by name (letters, digits, `_`, `.`, `-`), at most %d. An alert fires once when its "+
					"condition starts to hold over the `for` window and resolves once when it stops.", workers.MonitorMaxAlerts),
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"service": schema.StringAttribute{Required: true, MarkdownDescription: "The Worker whose analytics the rule reads (it need not be probed)."},
					"condition": schema.StringAttribute{
						Required: true,
						MarkdownDescription: "`<metric> <operator> <number>`: metrics `error_rate` (a fraction from 0 to 1), `p99_latency_ms`, `requests`; " +
							"operators `>`, `>=`, `<`, `<=`. Checked at plan time, e.g. `error_rate > 0.05`.",
					},
					"for": schema.StringAttribute{
						Required:            true,
						MarkdownDescription: "The analytics window, whole minutes from `1m` to `1d`, not shorter than the monitor's `interval` nor the service's probe interval.",
					},
					"min_requests": optInt("`error_rate` and `p99_latency_ms` only: fewer requests in the window is no data (the condition does not hold). Default 1."),
					"webhook_url": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: "Where the `alert.firing` and `alert.resolved` JSON notifications are posted. It is kept in state and in the " +
							"monitor's configuration: for a URL that embeds a token (Slack, Discord, PagerDuty), use `webhook_url_wo`. Set exactly one of the two.",
					},
					"webhook_url_wo": schema.StringAttribute{
						Optional: true, Sensitive: true, WriteOnly: true,
						MarkdownDescription: "The webhook URL, kept secret (write-only, Terraform 1.11+): never in state, plans or the monitor's configuration, " +
							"which names the Worker secret holding it instead (`ALERT_WEBHOOK_` and a hash of the alert's name). " +
							"Set `webhook_urls_wo_version`, and bump it to send changed URLs.",
					},
				}},
			},
			"registry_id": optString("The registry's KV namespace, bound as `REGISTRY` when a service lists registry entries; defaults to the provider's `registry_namespace_id`."),
			"api_base": optString("The Cloudflare API base URL the monitor sends its analytics queries to. Default the provider's `base_url` " +
				"(`" + cloudflare.DefaultBaseURL + "`)."),
			"analytics_token_wo": schema.StringAttribute{
				Optional: true, Sensitive: true, WriteOnly: true,
				MarkdownDescription: "An API token with Account Analytics Read, needed with `alerts` (write-only, Terraform 1.11+: never in state or plans). " +
					"It becomes the Worker's `ANALYTICS_TOKEN` secret; bump `analytics_token_wo_version` to send a new value.",
			},
			"analytics_token_wo_version": optInt("Any number; changing it sends `analytics_token_wo` again (a write-only value is never compared)."),
			"status_token_wo": schema.StringAttribute{
				Optional: true, Sensitive: true, WriteOnly: true,
				MarkdownDescription: "A bearer token guarding `GET /status` and enabling `POST /__run` (a round now) (write-only, Terraform 1.11+). " +
					"Without it `/status` is open and `/__run` does not exist. Bump `status_token_wo_version` to rotate it.",
			},
			"status_token_wo_version": optInt("Any number; changing it sends `status_token_wo` again. Remove both to remove the token."),
			"webhook_urls_wo_version": optInt("Any number, needed with any alert's `webhook_url_wo`; changing it sends every alert's `webhook_url_wo` again " +
				"(a new alert's is sent without it)."),
			"workers_dev": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Serve `GET /status` on the monitor's workers.dev address. Default false.",
			},
			"cron":                computed("The monitor's cron trigger, `" + workers.MonitorCron + "`; each service's interval picks the ticks that probe it."),
			"config":              computed("The monitor program's configuration (JSON) as deployed in its `MONITOR_CONFIG` binding."),
			"config_sha256":       computed("SHA-256 of `config`: a change of what the monitor watches shows here."),
			"url":                 computed("The monitor's workers.dev URL; empty when `workers_dev` is off."),
			"deployed_version_id": computed("The Worker version running the monitor."),
		},
	}
}

func (r *monitorResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureClient(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig checks what the configuration alone decides, with the contract's validation.
func (r *monitorResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m monitorModel
	if !getKnown(ctx, req.Config, req.Config.Raw, &m, &resp.Diagnostics) {
		return
	}
	apiBase := m.APIBase.ValueString()
	hooks := m.secretWebhooks()
	cfg, keys, ok, diags := m.monitorConfig(ctx, monitorPlaceholderAccount, apiBase, namesOf(hooks))
	resp.Diagnostics.Append(diags...)
	if ok {
		addMonitorProblems(cfg, keys, &resp.Diagnostics)
	}
	hasAlerts := !m.Alerts.IsNull() && !m.Alerts.IsUnknown() && len(m.Alerts.Elements()) > 0
	if hasAlerts && m.AnalyticsToken.IsNull() && !m.AnalyticsToken.IsUnknown() {
		resp.Diagnostics.AddAttributeError(path.Root("analytics_token_wo"), "Missing analytics token",
			"alerts read Workers analytics, which needs analytics_token_wo: an API token with Account Analytics Read (and set analytics_token_wo_version)")
	}
	for _, t := range []struct {
		token   types.String
		version types.Int64
		name    string
	}{{m.AnalyticsToken, m.AnalyticsTokenVersion, "analytics_token_wo"}, {m.StatusToken, m.StatusTokenVersion, "status_token_wo"}} {
		if !t.token.IsNull() && t.version.IsNull() && !t.version.IsUnknown() {
			resp.Diagnostics.AddAttributeError(path.Root(t.name+"_version"), "Missing token version",
				fmt.Sprintf("%s is write-only, so Terraform cannot see when it changes: set %s_version (any number) and bump it to send a new value", t.name, t.name))
		}
	}
	if len(hooks) > 0 && m.WebhookURLsVersion.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("webhook_urls_wo_version"), "Missing webhook URLs version",
			"webhook_url_wo is write-only, so Terraform cannot see when it changes: set webhook_urls_wo_version (any number) and bump it to send changed URLs")
	}
}

// ModifyPlan checks what needs the account (each service and alerted Worker must exist or be
// planned, the account id must suit the analytics API) and computes the configuration.
func (r *monitorResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	var plan, state, config monitorModel
	if !getKnown(ctx, req.Plan, req.Plan.Raw, &plan, &resp.Diagnostics) || !getKnown(ctx, req.Config, req.Config.Raw, &config, &resp.Diagnostics) {
		return
	}
	hasState := !req.State.Raw.IsNull()
	if hasState {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	cfg, keys, ok, diags := plan.monitorConfig(ctx, r.data.client.AccountID(), r.apiBase(plan), namesOf(config.secretWebhooks()))
	resp.Diagnostics.Append(diags...)
	if ok {
		addMonitorProblems(cfg, keys, &resp.Diagnostics)
		r.checkServices(ctx, cfg, keys, &resp.Diagnostics)
		if monitorNeedsRegistry(cfg) {
			if _, err := r.data.registryID(plan.RegistryID); err != nil {
				resp.Diagnostics.AddAttributeError(path.Root("registry_id"), "No registry",
					"services list registry entries, so the monitor needs the registry's KV namespace: set registry_id, or the provider's registry_namespace_id")
			}
		}
		if resp.Diagnostics.HasError() {
			return
		}
		raw, sum, err := monitorConfigJSON(cfg)
		if err != nil {
			resp.Diagnostics.AddError("Cannot encode the monitor configuration", err.Error())
			return
		}
		plan.Config, plan.ConfigSHA256 = types.StringValue(raw), types.StringValue(sum)
	} else {
		plan.Config, plan.ConfigSHA256 = types.StringUnknown(), types.StringUnknown()
	}
	plan.ID, plan.Cron = plan.Name, types.StringValue(workers.MonitorCron)
	if hasState && !monitorNeedsDeploy(plan, state) {
		plan.URL, plan.DeployedVersionID = state.URL, state.DeployedVersionID
	} else {
		plan.DeployedVersionID, plan.URL = types.StringUnknown(), types.StringUnknown()
		if !plan.WorkersDev.IsUnknown() && !plan.WorkersDev.ValueBool() {
			plan.URL = types.StringValue("")
		}
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// monitorNeedsDeploy reports whether the plan changes the Worker (its code, bindings, secrets
// or trigger), rather than nothing.
func monitorNeedsDeploy(plan, state monitorModel) bool {
	return plan.ConfigSHA256 != state.ConfigSHA256 || plan.WorkersDev != state.WorkersDev || plan.RegistryID != state.RegistryID ||
		plan.AnalyticsTokenVersion != state.AnalyticsTokenVersion || plan.StatusTokenVersion != state.StatusTokenVersion ||
		!plan.WebhookURLsVersion.Equal(state.WebhookURLsVersion) ||
		state.Cron.ValueString() != workers.MonitorCron
}

func (r *monitorResource) apiBase(m monitorModel) string {
	if s := strings.TrimSpace(m.APIBase.ValueString()); s != "" {
		return strings.TrimSuffix(s, "/")
	}
	return r.data.apiBase
}

func monitorNeedsRegistry(cfg workers.MonitorConfig) bool {
	return slices.ContainsFunc(cfg.Services, func(s workers.MonitorService) bool { return len(s.Registry) > 0 })
}

// checkServices reports each probed or alerted Worker that neither exists nor is planned.
func (r *monitorResource) checkServices(ctx context.Context, cfg workers.MonitorConfig, keys monitorKeys, diags interface {
	AddAttributeError(path.Path, string, string)
	AddAttributeWarning(path.Path, string, string)
},
) {
	check := func(at path.Path, text, name string) {
		ok, err := r.data.scriptExists(ctx, name)
		switch {
		case err != nil:
			diags.AddAttributeWarning(at, "Cannot check the service", err.Error())
		case !ok:
			diags.AddAttributeError(at, "Unknown service", fmt.Sprintf("%s: %q is not a Worker of this account nor a servicesdo_service of this configuration: "+
				"deploy it, or name an existing Worker (e.g. servicesdo_service.<name>.name)", text, name))
		}
	}
	for _, s := range cfg.Services {
		check(path.Root("services").AtMapKey(s.Name), fmt.Sprintf("services[%q]", s.Name), s.Name)
	}
	for i, a := range cfg.Alerts {
		if !slices.ContainsFunc(cfg.Services, func(s workers.MonitorService) bool { return s.Name == a.Service }) {
			check(path.Root("alerts").AtMapKey(keys.alerts[i]).AtName("service"), fmt.Sprintf("alerts[%q].service", keys.alerts[i]), a.Service)
		}
	}
}

// upload deploys the monitor's Worker with plan's configuration. Secrets are sent when given
// and otherwise kept as they are.
func (r *monitorResource) upload(ctx context.Context, plan *monitorModel, secrets map[string]string, first bool) error {
	name := plan.Name.ValueString()
	cfg, err := workers.ParseMonitorConfig([]byte(plan.Config.ValueString()))
	if err != nil {
		return err
	}
	bindings := []cloudflare.Binding{
		{Type: cloudflare.BindingJSON, Name: workers.MonitorConfigBinding, JSON: []byte(plan.Config.ValueString())},
		{Type: cloudflare.BindingDurableObject, Name: workers.MonitorStateBinding, ClassName: workers.MonitorStateClass},
	}
	if monitorNeedsRegistry(cfg) {
		id, err := r.data.registryID(plan.RegistryID)
		if err != nil {
			return err
		}
		bindings = append(bindings, cloudflare.Binding{Type: cloudflare.BindingKVNamespace, Name: workers.MonitorRegistryBinding, NamespaceID: id})
	}
	for _, s := range cfg.Services {
		bindings = append(bindings, cloudflare.Binding{Type: cloudflare.BindingService, Name: s.Binding, Service: s.Name})
	}
	for _, n := range sortedKeys(secrets) {
		bindings = append(bindings, cloudflare.Binding{Type: cloudflare.BindingSecretText, Name: n, Text: secrets[n]})
	}
	upload := cloudflare.ScriptUpload{
		Name: name, MainModule: workers.MonitorMainModule, CompatibilityDate: monitorCompatibilityDate,
		Modules:      []cloudflare.Module{{Name: workers.MonitorMainModule, ContentType: "application/javascript+module", Content: []byte(workers.MonitorModule)}},
		Bindings:     bindings,
		KeepBindings: []string{cloudflare.BindingSecretText}, // the tokens not sent stay as they are
	}
	if first {
		upload.Migration = &cloudflare.Migration{NewTag: monitorMigrationTag, NewSqliteClasses: []string{workers.MonitorStateClass}}
	}
	_, err = r.data.client.UploadScript(ctx, upload)
	r.data.cache.invalidate()
	if err != nil {
		return fmt.Errorf("uploading the monitor's Worker: %s", explainUploadError(name, err))
	}
	return nil
}

// deploy uploads the Worker, removes the tokens the configuration dropped, sets the cron
// trigger and workers.dev, and fills the computed attributes.
func (r *monitorResource) deploy(ctx context.Context, plan *monitorModel, secrets map[string]string, drop []string, first bool) error {
	name := plan.Name.ValueString()
	if err := r.upload(ctx, plan, secrets, first); err != nil {
		return err
	}
	for _, s := range drop {
		if err := r.data.client.DeleteSecret(ctx, name, s); err != nil && !cloudflare.IsNotFound(err) {
			return fmt.Errorf("removing the secret %s: %w", s, err)
		}
	}
	if _, err := r.data.client.SetSchedules(ctx, name, []string{workers.MonitorCron}); err != nil {
		return fmt.Errorf("setting the monitor's cron trigger: %w", err)
	}
	want := plan.WorkersDev.ValueBool()
	if _, err := r.data.client.SetScriptSubdomain(ctx, name, want, want); err != nil {
		return err
	}
	plan.Cron = types.StringValue(workers.MonitorCron)
	return r.fill(ctx, plan)
}

// fill sets the deployment's computed attributes from the platform.
func (r *monitorResource) fill(ctx context.Context, m *monitorModel) error {
	name := m.Name.ValueString()
	m.ID = types.StringValue(name)
	var err error
	if m.DeployedVersionID, err = r.data.deployedVersionID(ctx, name); err != nil {
		return err
	}
	m.URL = types.StringValue("")
	if m.WorkersDev.ValueBool() {
		sub, err := r.data.accountSubdomain(ctx)
		if err != nil {
			return err
		}
		m.URL = types.StringValue(serviceURL(name, sub, true, nil, nil))
	}
	return nil
}

// monitorSecrets returns the tokens to send (those whose version changed, or all on create)
// and the ones to remove (dropped from the configuration).
func monitorSecrets(plan, state, cfg monitorModel, create bool) (send map[string]string, drop []string) {
	send = map[string]string{}
	for _, t := range []struct {
		binding        string
		value          types.String
		version, prior types.Int64
	}{
		{workers.MonitorAnalyticsTokenBinding, cfg.AnalyticsToken, plan.AnalyticsTokenVersion, state.AnalyticsTokenVersion},
		{workers.MonitorTokenBinding, cfg.StatusToken, plan.StatusTokenVersion, state.StatusTokenVersion},
	} {
		switch {
		case t.value.ValueString() != "" && (create || t.version != t.prior):
			send[t.binding] = t.value.ValueString()
		case !create && t.value.IsNull() && t.version.IsNull() && !t.prior.IsNull():
			drop = append(drop, t.binding)
		}
	}
	// Write-only webhook URLs: each on create, all when their version changes, a new alert's
	// always; the secrets of alerts that no longer have one are removed.
	deployed := map[string]bool{}
	if !create {
		deployed = secretWebhookBindings(state.Config.ValueString())
	}
	kept := map[string]bool{}
	for name, url := range cfg.secretWebhooks() {
		binding := workers.MonitorAlertWebhookBinding(name)
		kept[binding] = true
		if url != "" && (create || !deployed[binding] || !plan.WebhookURLsVersion.Equal(state.WebhookURLsVersion)) {
			send[binding] = url
		}
	}
	for _, binding := range sortedKeys(deployed) {
		if !kept[binding] {
			drop = append(drop, binding)
		}
	}
	return send, drop
}

func (r *monitorResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, cfg monitorModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := plan.Name.ValueString()
	if !r.data.claim("monitor/" + name) {
		resp.Diagnostics.AddError("Duplicate monitor", fmt.Sprintf("two servicesdo_monitor resources are named %q: rename one", name))
		return
	}
	if exists, err := r.data.scriptExists(ctx, name); err == nil && exists {
		resp.Diagnostics.AddError("Worker already exists", fmt.Sprintf("a Worker named %q exists already: import the monitor (terraform import servicesdo_monitor.<name> %s) or choose another name", name, name))
		return
	}
	send, _ := monitorSecrets(plan, monitorModel{}, cfg, true)
	if err := r.deploy(ctx, &plan, send, nil, true); err != nil {
		resp.Diagnostics.AddError("Cannot create monitor", err.Error())
		// The Worker may exist: keep what was made so that nothing needs importing.
		for _, v := range []*types.String{&plan.DeployedVersionID, &plan.URL} {
			if v.IsUnknown() {
				*v = types.StringValue("")
			}
		}
		if _, err := r.data.client.GetScript(ctx, name); err == nil {
			resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		}
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *monitorResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	readWorkerResource(ctx, req, resp, "monitor", r.read)
}

var errNotAMonitor = errors.New("it is not a monitor's Worker")

// read refreshes m from the platform: the deployed configuration, the cron trigger and
// workers.dev. gone is true when the Worker is missing; imported rebuilds the configuration
// attributes from the deployed configuration.
func (r *monitorResource) read(ctx context.Context, m *monitorModel, imported bool) (gone bool, err error) {
	name := m.Name.ValueString()
	settings, err := r.data.client.GetScriptSettings(ctx, name)
	if cloudflare.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	var raw []byte
	registryID := ""
	for _, b := range settings.Bindings {
		switch {
		case b.Name == workers.MonitorConfigBinding && b.Type == cloudflare.BindingJSON:
			raw = b.JSON
		case b.Name == workers.MonitorRegistryBinding && b.Type == cloudflare.BindingKVNamespace:
			registryID = b.NamespaceID
		}
	}
	if raw == nil {
		return false, fmt.Errorf("worker %q has no %s binding: %w", name, workers.MonitorConfigBinding, errNotAMonitor)
	}
	cfg, err := workers.ParseMonitorConfig(raw)
	if err != nil {
		return false, fmt.Errorf("worker %q: %w", name, err)
	}
	text, sum, err := monitorConfigJSON(cfg)
	if err != nil {
		return false, err
	}
	m.Config, m.ConfigSHA256 = types.StringValue(text), types.StringValue(sum)
	crons, err := r.data.client.GetSchedules(ctx, name)
	if err != nil {
		return false, err
	}
	m.Cron = types.StringValue("")
	if slices.Contains(crons, workers.MonitorCron) {
		m.Cron = types.StringValue(workers.MonitorCron)
	}
	sub, err := r.data.client.GetScriptSubdomain(ctx, name)
	if err != nil {
		return false, err
	}
	m.WorkersDev = types.BoolValue(sub.Enabled)
	if imported {
		if d := monitorModelFromConfig(cfg, m); d.HasError() {
			return false, fmt.Errorf("worker %q: cannot rebuild its configuration", name)
		}
		m.APIBase = types.StringNull()
		if cfg.APIBase != "" && cfg.APIBase != r.data.apiBase {
			m.APIBase = types.StringValue(cfg.APIBase)
		}
		m.RegistryID = types.StringNull()
		if registryID != "" && registryID != r.data.registryNamespaceID {
			m.RegistryID = types.StringValue(registryID)
		}
	}
	return false, r.fill(ctx, m)
}

func (r *monitorResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state, cfg monitorModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !monitorNeedsDeploy(plan, state) {
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		return
	}
	send, drop := monitorSecrets(plan, state, cfg, false)
	if err := r.deploy(ctx, &plan, send, drop, false); err != nil {
		resp.Diagnostics.AddError("Cannot update monitor", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *monitorResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state monitorModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := r.data.client.DeleteScript(ctx, state.Name.ValueString(), true)
	r.data.cache.invalidate()
	if err != nil && !cloudflare.IsNotFound(err) {
		resp.Diagnostics.AddError("Cannot delete monitor", err.Error())
	}
}

func (r *monitorResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	name := strings.TrimSpace(req.ID)
	m := monitorModel{
		Name: types.StringValue(name), AnalyticsToken: types.StringNull(), AnalyticsTokenVersion: types.Int64Null(),
		StatusToken: types.StringNull(), StatusTokenVersion: types.Int64Null(),
	}
	gone, err := r.read(ctx, &m, true)
	if gone {
		resp.Diagnostics.AddError("Cannot import monitor", fmt.Sprintf("no Worker named %q", name))
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot import monitor", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
