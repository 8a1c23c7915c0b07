package provider

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/lazyregexp"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workers"
)

var (
	_ resource.Resource                   = (*sagaResource)(nil)
	_ resource.ResourceWithConfigure      = (*sagaResource)(nil)
	_ resource.ResourceWithImportState    = (*sagaResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*sagaResource)(nil)
	_ resource.ResourceWithValidateConfig = (*sagaResource)(nil)
)

// NewSagaResource is the servicesdo_saga constructor.
func NewSagaResource() resource.Resource { return &sagaResource{} }

type sagaResource struct{ data *providerData }

// The saga's Worker, its Workflow and the API's access modes.
const (
	sagaCompatibilityDate = "2025-01-01"
	sagaMigrationTag      = "saga-v1"
	sagaAccessAPIKey      = "api_key"
	sagaAccessBinding     = "service_binding"
	sagaBlockIfRunning    = "block_if_running"
	sagaAbandon           = "abandon"
)

var sagaScriptName = lazyregexp.New(`^[a-z0-9][a-z0-9-]{0,62}$`)

type sagaModel struct {
	ID                types.String    `tfsdk:"id"`
	Name              types.String    `tfsdk:"name"`
	Steps             []sagaStepModel `tfsdk:"steps"`
	PivotStep         types.String    `tfsdk:"pivot_step"`
	Retention         types.String    `tfsdk:"retention"`
	OnDestroy         types.String    `tfsdk:"on_destroy"`
	WorkersDev        types.Bool      `tfsdk:"workers_dev"`
	Routes            types.Set       `tfsdk:"routes"`
	CustomDomains     types.Set       `tfsdk:"custom_domains"`
	Access            types.String    `tfsdk:"access"`
	APIKey            types.String    `tfsdk:"api_key_wo"`
	APIKeyVersion     types.String    `tfsdk:"api_key_wo_version"`
	DefinitionSHA256  types.String    `tfsdk:"definition_sha256"`
	Definition        types.String    `tfsdk:"definition"`
	WorkflowName      types.String    `tfsdk:"workflow_name"`
	URL               types.String    `tfsdk:"url"`
	DeployedVersionID types.String    `tfsdk:"deployed_version_id"`
}

type sagaStepModel struct {
	Name       types.String           `tfsdk:"name"`
	Service    types.String           `tfsdk:"service"`
	Action     *sagaRequestModel      `tfsdk:"action"`
	Compensate *sagaCompensationModel `tfsdk:"compensate"`
	Timeout    types.String           `tfsdk:"timeout"`
	Retry      *sagaRetryModel        `tfsdk:"retry"`
}

type sagaRequestModel struct {
	Method types.String `tfsdk:"method"`
	Path   types.String `tfsdk:"path"`
	Body   types.String `tfsdk:"body"`
}

type sagaCompensationModel struct {
	Method  types.String    `tfsdk:"method"`
	Path    types.String    `tfsdk:"path"`
	Body    types.String    `tfsdk:"body"`
	Timeout types.String    `tfsdk:"timeout"`
	Retry   *sagaRetryModel `tfsdk:"retry"`
}

func (c *sagaCompensationModel) request() *sagaRequestModel {
	if c == nil {
		return nil
	}
	return &sagaRequestModel{Method: c.Method, Path: c.Path, Body: c.Body}
}

func (c *sagaCompensationModel) retry() *sagaRetryModel {
	if c == nil {
		return nil
	}
	return c.Retry
}

type sagaRetryModel struct {
	Attempts             types.Int64   `tfsdk:"attempts"`
	Backoff              types.String  `tfsdk:"backoff"`
	Delay                types.String  `tfsdk:"delay"`
	MaxDelay             types.String  `tfsdk:"max_delay"`
	Jitter               types.Float64 `tfsdk:"jitter"`
	NonRetryableStatuses types.List    `tfsdk:"non_retryable_statuses"`
}

func (r *sagaResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_saga"
}

func retryAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"attempts": schema.Int64Attribute{Optional: true, MarkdownDescription: "Calls in all, counting the first (at least 1). Default 3."},
		"backoff": schema.StringAttribute{
			Optional: true, MarkdownDescription: "How the delay grows: `constant`, `linear` (× n) or `exponential` (× 2^(n−1)). Default `exponential`.",
			Validators: []validator.String{stringvalidator.OneOf("constant", "linear", "exponential")},
		},
		"delay":     schema.StringAttribute{Optional: true, MarkdownDescription: "The first delay, e.g. `1s`, `500ms`. Default `1s`."},
		"max_delay": schema.StringAttribute{Optional: true, MarkdownDescription: "Caps the delay (at least `delay`)."},
		"jitter":    schema.Float64Attribute{Optional: true, MarkdownDescription: "0–1: each delay is shortened at random by up to this fraction. Default 0."},
		"non_retryable_statuses": schema.ListAttribute{
			ElementType: types.Int64Type, Optional: true,
			MarkdownDescription: "HTTP statuses (400–599) that end the call at once. Default: every 4xx except 408, 425 and 429.",
		},
	}
}

func requestAttributes(what string) map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"method": schema.StringAttribute{Required: true, MarkdownDescription: "HTTP method of the " + what + ": `GET`, `POST`, `PUT`, `PATCH` or `DELETE`."},
		"path": schema.StringAttribute{
			Required:            true,
			MarkdownDescription: "Path (from `/`) on the participant; a template: `{{input.<field>}}`, `{{steps.<step>.output.<field>}}`, `{{execution.id}}`.",
		},
		"body": schema.StringAttribute{
			Optional:            true,
			MarkdownDescription: "JSON body (use `jsonencode`); every string in it is a template, and a string that is exactly one template becomes the value it references.",
		},
	}
}

func (r *sagaResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	compensation := requestAttributes("compensation")
	compensation["timeout"] = schema.StringAttribute{Optional: true, MarkdownDescription: "Per-attempt timeout of the compensation; default the step's."}
	compensation["retry"] = schema.SingleNestedAttribute{Optional: true, Attributes: retryAttributes(), MarkdownDescription: "Retry policy of the compensation; each field defaults to the step's."}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A saga: ordered steps across services, run on Cloudflare Workflows by a generated Worker, " +
			"that compensates the completed steps in reverse order when one fails. See the sagas guide for the semantics and the runtime API.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The saga's name.", PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the saga, of its Worker and of its Workflow: 1–63 of `a-z`, `0-9`, `-`. Changing it replaces the saga.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{stringvalidator.RegexMatches(sagaScriptName.Regexp(), "must be 1 to 63 lowercase letters, digits or '-', starting with a letter or digit")},
			},
			"steps": schema.ListNestedAttribute{
				Required:            true,
				MarkdownDescription: "The steps, run in order.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":    schema.StringAttribute{Required: true, MarkdownDescription: "Unique step name (`A-Z a-z 0-9 _ -`, starting with a letter or `_`); templates refer to it."},
					"service": schema.StringAttribute{Required: true, MarkdownDescription: "The participant: the Worker (e.g. `servicesdo_service.orders.name`) the saga calls through a service binding."},
					"action":  schema.SingleNestedAttribute{Required: true, Attributes: requestAttributes("action"), MarkdownDescription: "The request that performs the step."},
					"compensate": schema.SingleNestedAttribute{
						Optional: true, Attributes: compensation,
						MarkdownDescription: "The request that undoes the step; not allowed after the pivot step. It must be idempotent and cope with an action that never happened.",
					},
					"timeout": schema.StringAttribute{Optional: true, MarkdownDescription: "Per-attempt timeout of the action, e.g. `5s`. Default `30s`."},
					"retry":   schema.SingleNestedAttribute{Optional: true, Attributes: retryAttributes(), MarkdownDescription: "Retry policy of the action."},
				}},
			},
			"pivot_step": schema.StringAttribute{Optional: true, MarkdownDescription: "The step after which failures retry forward instead of compensating. Default the last step."},
			"retention":  schema.StringAttribute{Optional: true, MarkdownDescription: "How long the saga's index keeps a finished execution, e.g. `7d` (the default)."},
			"on_destroy": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString(sagaBlockIfRunning),
				MarkdownDescription: "`block_if_running` (default): destroying fails while executions run (queued, running, paused or waiting). `abandon`: destroy anyway; running executions stop.",
				Validators:          []validator.String{stringvalidator.OneOf(sagaBlockIfRunning, sagaAbandon)},
			},
			"workers_dev": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Serve the saga's API on its workers.dev address. Needs `access = \"api_key\"`.",
			},
			"routes":         routesSchema("saga's API"),
			"custom_domains": customDomainsSchema("saga's API"),
			"access": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString(sagaAccessAPIKey),
				MarkdownDescription: "Who may call the runtime API: `api_key` (default; requests send `api_key_wo` as a bearer token or `X-API-Key`) or `service_binding` " +
					"(no key; only Workers bound to the saga reach it, so `workers_dev` must be off).",
				Validators: []validator.String{stringvalidator.OneOf(sagaAccessAPIKey, sagaAccessBinding)},
			},
			"api_key_wo": schema.StringAttribute{
				Optional: true, Sensitive: true, WriteOnly: true,
				MarkdownDescription: "The API key (write-only, Terraform 1.11+): the Worker gets a salted SHA-256 of it; neither is kept in state. Required with `access = \"api_key\"`; " +
					"change `api_key_wo_version` to rotate it.",
			},
			"api_key_wo_version": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Any value; changing it sends `api_key_wo` again (a write-only value is never compared).",
			},
			"definition_sha256":   schema.StringAttribute{Computed: true, MarkdownDescription: "SHA-256 of the normalized definition: what each execution records as the definition it runs."},
			"definition":          schema.StringAttribute{Computed: true, MarkdownDescription: "The normalized definition (JSON) the Worker runs, every default written out."},
			"workflow_name":       schema.StringAttribute{Computed: true, MarkdownDescription: "The Cloudflare Workflow that runs the executions (its instances are the executions).", PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"url":                 schema.StringAttribute{Computed: true, MarkdownDescription: "The runtime API's URL: workers.dev, else its first custom domain, else its first route; empty when none."},
			"deployed_version_id": schema.StringAttribute{Computed: true, MarkdownDescription: "The Worker version serving the saga."},
		},
	}
}

func (r *sagaResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureClient(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig checks what the configuration alone decides: the definition's rules and the
// access mode.
func (r *sagaResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg sagaModel
	if !getKnown(ctx, req.Config, req.Config.Raw, &cfg, &resp.Diagnostics) {
		return
	}
	if cfg.sagaKnown() {
		def, err := cfg.definition()
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("steps"), "Invalid saga definition", err.Error())
			return
		}
		validateDefinition(def, &resp.Diagnostics)
	}
	if cfg.Access.ValueString() == sagaAccessBinding && cfg.WorkersDev.ValueBool() {
		resp.Diagnostics.AddAttributeError(path.Root("workers_dev"), "Saga API would be open",
			`access = "service_binding" opens the API without a key, so the saga must not be reachable from the internet: set workers_dev = false, or use access = "api_key" with api_key_wo`)
	}
	if cfg.Access.ValueString() == sagaAccessBinding && (len(cfg.Routes.Elements()) > 0 || len(cfg.CustomDomains.Elements()) > 0) {
		resp.Diagnostics.AddAttributeError(path.Root("access"), "Saga API would be open",
			`access = "service_binding" opens the API without a key, so the saga must not be reachable from the internet: remove routes and custom_domains, or use access = "api_key" with api_key_wo`)
	}
	if (cfg.Access.IsNull() || cfg.Access.ValueString() == sagaAccessAPIKey) && cfg.APIKey.IsNull() && !cfg.APIKey.IsUnknown() {
		resp.Diagnostics.AddAttributeError(path.Root("api_key_wo"), "Missing API key",
			`access = "api_key" (the default) needs api_key_wo, the key that callers of the saga's API send: set it (e.g. from an ephemeral random_password), or use access = "service_binding"`)
	}
	if !cfg.APIKey.IsNull() && cfg.Access.ValueString() == sagaAccessBinding {
		resp.Diagnostics.AddAttributeError(path.Root("api_key_wo"), "API key unused", `access = "service_binding" takes no key: remove api_key_wo, or use access = "api_key"`)
	}
}

// ModifyPlan checks what needs the account (each step's service must be a Worker of the
// account or of this configuration), and computes the definition and its hash.
func (r *sagaResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	var plan, state sagaModel
	if !getKnown(ctx, req.Plan, req.Plan.Raw, &plan, &resp.Diagnostics) {
		return
	}
	hasState := !req.State.Raw.IsNull()
	if hasState {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	checked := map[string]bool{}
	for i, s := range plan.Steps {
		if s.Service.IsUnknown() || checked[s.Service.ValueString()] {
			continue
		}
		checked[s.Service.ValueString()] = true
		ok, err := r.data.scriptExists(ctx, s.Service.ValueString())
		if err != nil {
			resp.Diagnostics.AddAttributeWarning(path.Root("steps").AtListIndex(i).AtName("service"), "Cannot check the service", err.Error())
			continue
		}
		if !ok {
			resp.Diagnostics.AddAttributeError(path.Root("steps").AtListIndex(i).AtName("service"), "Unknown service",
				fmt.Sprintf("steps[%d].service: %q is not a Worker of this account nor a servicesdo_service of this configuration: deploy it, or name an existing Worker (e.g. servicesdo_service.<name>.name)", i, s.Service.ValueString()))
		}
	}
	plan.ID, plan.WorkflowName = plan.Name, plan.Name
	if !plan.sagaKnown() {
		plan.DefinitionSHA256, plan.Definition = types.StringUnknown(), types.StringUnknown()
	} else if def, err := plan.definition(); err == nil {
		canonical, err1 := def.Normalize().CanonicalJSON()
		sum, err2 := def.SHA256()
		if err1 == nil && err2 == nil {
			plan.DefinitionSHA256, plan.Definition = types.StringValue(sum), types.StringValue(canonical)
		}
	}
	changed := !hasState || plan.sagaUploadChanged(&state)
	reach := changed || !plan.Routes.Equal(state.Routes) || !plan.CustomDomains.Equal(state.CustomDomains)
	plan.URL, plan.DeployedVersionID = state.URL, state.DeployedVersionID
	if changed {
		plan.DeployedVersionID = types.StringUnknown()
	}
	if reach {
		plan.URL = types.StringUnknown()
		if !plan.WorkersDev.IsUnknown() && !plan.WorkersDev.ValueBool() && plan.Routes.IsNull() && plan.CustomDomains.IsNull() {
			plan.URL = types.StringValue("")
		}
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// sagaUploadChanged reports whether the plan needs a new upload of the saga's Worker.
func (m *sagaModel) sagaUploadChanged(state *sagaModel) bool {
	return m.DefinitionSHA256 != state.DefinitionSHA256 || m.WorkersDev != state.WorkersDev || m.Access != state.Access || m.APIKeyVersion != state.APIKeyVersion
}

// reconcileReachability makes the saga's routes and custom domains match m.
func (r *sagaResource) reconcileReachability(ctx context.Context, m, prior *sagaModel) error {
	want, err := routesOf(ctx, m.Routes)
	if err != nil {
		return err
	}
	var had []routeModel
	if prior != nil {
		if had, err = routesOf(ctx, prior.Routes); err != nil {
			return err
		}
	}
	name := m.Name.ValueString()
	return errors.Join(r.data.reconcileRoutes(ctx, name, want, had), r.data.reconcileDomains(ctx, name, stringSet(m.CustomDomains)))
}

// upload deploys the saga's Worker with the configuration's definition.
func (r *sagaResource) upload(ctx context.Context, plan *sagaModel, apiKey string, first bool) (cloudflare.Script, error) {
	name := plan.Name.ValueString()
	bindings := []cloudflare.Binding{
		{Type: cloudflare.BindingJSON, Name: workers.SagaDefinitionBinding, JSON: []byte(plan.Definition.ValueString())},
		{Type: cloudflare.BindingWorkflow, Name: workers.SagaWorkflowBinding, WorkflowName: name, ClassName: workers.SagaWorkflowClass},
		{Type: cloudflare.BindingDurableObject, Name: workers.SagaIndexBinding, ClassName: workers.SagaIndexClass},
	}
	services := map[string]bool{}
	for _, s := range plan.Steps {
		services[s.Service.ValueString()] = true
	}
	scripts := make([]string, 0, len(services))
	for s := range services {
		scripts = append(scripts, s)
	}
	sort.Strings(scripts)
	for _, s := range scripts {
		bindings = append(bindings, cloudflare.Binding{Type: cloudflare.BindingService, Name: sagaBindingName(s), Service: s})
	}
	var keep []string
	switch {
	case plan.Access.ValueString() == sagaAccessBinding:
		bindings = append(bindings, cloudflare.Binding{Type: cloudflare.BindingPlainText, Name: workers.SagaAPIAccessBinding, Text: workers.SagaAPIAccessServiceBinding})
	case apiKey != "":
		salt := make([]byte, 16)
		if _, err := rand.Read(salt); err != nil {
			return cloudflare.Script{}, err
		}
		hash, err := workers.SagaAPIKeyHash(apiKey, salt)
		if err != nil {
			return cloudflare.Script{}, err
		}
		bindings = append(bindings, cloudflare.Binding{Type: cloudflare.BindingSecretText, Name: workers.SagaAPIKeyHashBinding, Text: hash})
	default:
		keep = []string{cloudflare.BindingSecretText} // the key's hash stays as it is
	}
	upload := cloudflare.ScriptUpload{
		Name: name, MainModule: workers.SagaWorkerModule, CompatibilityDate: sagaCompatibilityDate,
		Modules:  []cloudflare.Module{{Name: workers.SagaWorkerModule, ContentType: "application/javascript+module", Content: []byte(workers.SagaWorker)}},
		Bindings: bindings, KeepBindings: keep,
	}
	if first {
		upload.Migration = &cloudflare.Migration{NewTag: sagaMigrationTag, NewSqliteClasses: []string{workers.SagaIndexClass}}
	}
	script, err := r.data.client.UploadScript(ctx, upload)
	r.data.cache.invalidate()
	return script, err
}

// deploy uploads the Worker, puts the Workflow and sets workers.dev; it fills the computed
// attributes.
func (r *sagaResource) deploy(ctx context.Context, plan, prior *sagaModel, apiKey string, first bool) error {
	name := plan.Name.ValueString()
	if _, err := r.upload(ctx, plan, apiKey, first); err != nil {
		return fmt.Errorf("uploading the saga's Worker: %s", explainUploadError(name, err))
	}
	if _, err := r.data.client.PutWorkflow(ctx, name, workers.SagaWorkflowClass, name); err != nil {
		return err
	}
	want := plan.WorkersDev.ValueBool()
	if _, err := r.data.client.SetScriptSubdomain(ctx, name, want, want); err != nil {
		return err
	}
	if err := r.reconcileReachability(ctx, plan, prior); err != nil {
		return err
	}
	return r.fill(ctx, plan)
}

// fill sets the computed attributes from the platform.
func (r *sagaResource) fill(ctx context.Context, m *sagaModel) error {
	name := m.Name.ValueString()
	m.ID, m.WorkflowName = types.StringValue(name), types.StringValue(name)
	var err error
	if m.DeployedVersionID, err = r.data.deployedVersionID(ctx, name); err != nil {
		return err
	}
	script, err := r.data.client.GetScript(ctx, name)
	if err != nil {
		return err
	}
	reach, err := r.data.readReachability(ctx, name, script.Routes, m.Routes, m.CustomDomains)
	if err != nil {
		return err
	}
	m.Routes, m.CustomDomains = reach.routes, reach.domains
	sub := ""
	if m.WorkersDev.ValueBool() {
		if sub, err = r.data.accountSubdomain(ctx); err != nil {
			return err
		}
	}
	m.URL = types.StringValue(serviceURL(name, sub, m.WorkersDev.ValueBool(), reach.hosts, reach.patterns))
	return nil
}

func (r *sagaResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, cfg sagaModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := plan.Name.ValueString()
	if !r.data.claim("saga/" + name) {
		resp.Diagnostics.AddError("Duplicate saga", fmt.Sprintf("two servicesdo_saga resources are named %q: rename one", name))
		return
	}
	if exists, err := r.data.scriptExists(ctx, name); err == nil && exists && !r.data.lookups.servicePlanned(name) {
		if _, err := r.data.client.GetWorkflow(ctx, name); err == nil {
			resp.Diagnostics.AddError("Saga already exists", fmt.Sprintf("a Worker and a Workflow named %q exist already: import it (terraform import servicesdo_saga.<name> %s) or choose another name", name, name))
			return
		}
	}
	if err := r.deploy(ctx, &plan, nil, cfg.APIKey.ValueString(), true); err != nil {
		resp.Diagnostics.AddError("Cannot create saga", err.Error())
		// The Worker may exist: keep what was made so that nothing needs importing.
		if plan.DeployedVersionID.IsUnknown() {
			plan.DeployedVersionID = types.StringValue("")
		}
		if plan.URL.IsUnknown() {
			plan.URL = types.StringValue("")
		}
		if _, err := r.data.client.GetScript(ctx, name); err == nil {
			resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		}
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *sagaResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	readWorkerResource(ctx, req, resp, "saga", r.read)
}

// read refreshes m from the platform; gone is true when the Worker or the Workflow is missing.
// imported rebuilds the steps from the deployed definition.
func (r *sagaResource) read(ctx context.Context, m *sagaModel, imported bool) (gone bool, err error) {
	name := m.Name.ValueString()
	settings, err := r.data.client.GetScriptSettings(ctx, name)
	if cloudflare.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := r.data.client.GetWorkflow(ctx, name); cloudflare.IsNotFound(err) {
		return true, nil
	} else if err != nil {
		return false, err
	}
	def, services, ok, err := definitionFromBindings(settings.Bindings)
	if err != nil {
		return false, err
	}
	if !ok {
		return false, fmt.Errorf("worker %q has no %s binding: it is not a saga's Worker", name, workers.SagaDefinitionBinding)
	}
	sum, err := def.SHA256()
	if err != nil {
		return false, err
	}
	canonical, _ := def.Normalize().CanonicalJSON()
	m.DefinitionSHA256, m.Definition = types.StringValue(sum), types.StringValue(canonical)
	access := sagaAccessAPIKey
	for _, b := range settings.Bindings {
		if b.Name == workers.SagaAPIAccessBinding && b.Text == workers.SagaAPIAccessServiceBinding {
			access = sagaAccessBinding
		}
	}
	m.Access = types.StringValue(access)
	sub, err := r.data.client.GetScriptSubdomain(ctx, name)
	if err != nil {
		return false, err
	}
	m.WorkersDev = types.BoolValue(sub.Enabled)
	if imported {
		if m.Steps, m.PivotStep, m.Retention, err = fromDefinition(ctx, def, services); err != nil {
			return false, err
		}
		if m.OnDestroy.IsNull() {
			m.OnDestroy = types.StringValue(sagaBlockIfRunning)
		}
		m.APIKeyVersion = types.StringNull()
	}
	return false, r.fill(ctx, m)
}

func (r *sagaResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state, cfg sagaModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !plan.sagaUploadChanged(&state) {
		// on_destroy, routes or custom domains only
		if err := errors.Join(r.reconcileReachability(ctx, &plan, &state), r.fill(ctx, &plan)); err != nil {
			resp.Diagnostics.AddError("Cannot update saga", err.Error())
			return
		}
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		return
	}
	key := ""
	if plan.APIKeyVersion != state.APIKeyVersion || plan.Access != state.Access {
		key = cfg.APIKey.ValueString()
	}
	if err := r.deploy(ctx, &plan, &state, key, false); err != nil {
		resp.Diagnostics.AddError("Cannot update saga", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// runningStatuses are the instance statuses of an execution that has not finished.
var runningStatuses = []string{"queued", "running", "paused", "waiting", "waitingForPause", "rollingBack"}

func (r *sagaResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state sagaModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.Name.ValueString()
	if state.OnDestroy.ValueString() != sagaAbandon {
		instances, err := r.data.client.ListWorkflowInstances(ctx, name, "")
		if err != nil && !cloudflare.IsNotFound(err) {
			resp.Diagnostics.AddError("Cannot destroy saga", fmt.Sprintf("on_destroy = %q needs the saga's executions, which could not be listed; nothing was deleted: %v", sagaBlockIfRunning, err))
			return
		}
		running := 0
		for _, i := range instances {
			if slices.Contains(runningStatuses, i.Status) {
				running++
			}
		}
		if running > 0 {
			resp.Diagnostics.AddError("Saga has running executions",
				fmt.Sprintf("saga %q has %d execution(s) still running (queued, running, paused or waiting for an operator); nothing was deleted. "+
					"Let them finish, settle parked ones through the saga's API (retry, skip, resolve or terminate), or set on_destroy = %q and apply first.", name, running, sagaAbandon))
			return
		}
	}
	var errs []error
	empty := sagaModel{Name: state.Name, Routes: types.SetNull(routeType), CustomDomains: types.SetNull(types.StringType)}
	if err := r.reconcileReachability(ctx, &empty, &state); err != nil {
		resp.Diagnostics.AddError("Cannot delete saga", fmt.Sprintf("removing its routes and custom domains failed; nothing else was deleted: %v", err))
		return
	}
	if err := r.data.client.DeleteWorkflow(ctx, name); err != nil && !cloudflare.IsNotFound(err) {
		errs = append(errs, err)
	}
	if err := r.data.client.DeleteScript(ctx, name, true); err != nil && !cloudflare.IsNotFound(err) {
		errs = append(errs, err)
	}
	r.data.cache.invalidate()
	if err := errors.Join(errs...); err != nil {
		resp.Diagnostics.AddError("Cannot delete saga", err.Error())
	}
}

func (r *sagaResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	name := strings.TrimSpace(req.ID)
	m := sagaModel{
		Name: types.StringValue(name), OnDestroy: types.StringValue(sagaBlockIfRunning), APIKey: types.StringNull(), APIKeyVersion: types.StringNull(),
		Routes: types.SetNull(routeType), CustomDomains: types.SetNull(types.StringType),
	}
	gone, err := r.read(ctx, &m, true)
	if gone {
		resp.Diagnostics.AddError("Cannot import saga", fmt.Sprintf("no saga named %q: its Worker or its Workflow does not exist", name))
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot import saga", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
