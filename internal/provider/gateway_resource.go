package provider

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/float64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/lazyregexp"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workers"
)

var (
	_ resource.Resource                   = (*gatewayResource)(nil)
	_ resource.ResourceWithConfigure      = (*gatewayResource)(nil)
	_ resource.ResourceWithImportState    = (*gatewayResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*gatewayResource)(nil)
	_ resource.ResourceWithValidateConfig = (*gatewayResource)(nil)
)

// NewGatewayResource is the servicesdo_gateway constructor.
func NewGatewayResource() resource.Resource { return &gatewayResource{} }

// gatewayResource deploys the embedded gateway program (workers.GatewayModule) as a Worker
// configured by a JSON binding built from the resource's attributes.
type gatewayResource struct{ data *providerData }

const (
	gatewayDefaultCompatibilityDate = "2025-01-01"
	gatewayMigrationTag             = "gateway-v1"
)

var compatibilityDatePattern = lazyregexp.New(`^\d{4}-\d{2}-\d{2}$`)

func (r *gatewayResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_gateway"
}

func stringList(description string) schema.ListAttribute {
	return schema.ListAttribute{ElementType: types.StringType, Optional: true, MarkdownDescription: description}
}

func (r *gatewayResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "An API gateway in front of services: one Worker running the provider's fixed, tested gateway program, configured by a JSON binding " +
			"built from these attributes, with one service binding per target service. Middleware runs in a fixed order: request id → logging → path " +
			"normalisation → CORS → auth → rate limit → route → upstream. See the gateway guide.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The gateway's name.", PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the gateway's Worker: 1–63 of `a-z`, `0-9`, `-`. Changing it replaces the gateway.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{stringvalidator.RegexMatches(sagaScriptName.Regexp(), "must be 1 to 63 lowercase letters, digits or '-', starting with a letter or digit")},
			},
			"routes": schema.ListNestedAttribute{
				Required: true,
				MarkdownDescription: "Path patterns and the services they go to. The most specific pattern wins (literal segment > `:param` > end of pattern > `*`), " +
					"so the order does not decide; two patterns matching the same requests are refused.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"path": schema.StringAttribute{Required: true, MarkdownDescription: "Pattern: `/` then literal segments, `:name` (one segment) and a final `*` (the rest, including nothing), e.g. `/users/*`, `/orders/:id`."},
					"service": schema.StringAttribute{
						Required:            true,
						MarkdownDescription: "The target Worker (e.g. `servicesdo_service.users.name`); the gateway reaches it through a service binding named `SERVICE_<NAME>`.",
					},
					"methods":      stringList("HTTP methods the route accepts (upper case); unset: all. `GET` implies `HEAD`. Others get 405 with `Allow`."),
					"strip_prefix": schema.StringAttribute{Optional: true, MarkdownDescription: "Leading literal segments of `path` removed before forwarding, e.g. `/users`."},
					"timeout":      schema.StringAttribute{Optional: true, Validators: []validator.String{durationValidator{}}, MarkdownDescription: "Time to the upstream's response headers per attempt, e.g. `10s` (at most `10m`). Default `30s`; then 504."},
					"retries":      schema.Int64Attribute{Optional: true, MarkdownDescription: "0–5 immediate retries of a failed or timed-out attempt, only for idempotent methods and requests without a body."},
					"version_id": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: "Pin the route to one version of the target (`Cloudflare-Workers-Version-Overrides`). Cloudflare honours it only for a version " +
							"in the target's current deployment (possibly at 0 %); otherwise requests follow the deployment's split. The plan warns when it cannot hold.",
					},
				}},
			},
			"cors": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: "CORS policy; preflights are answered by the gateway. Unset: no CORS handling.",
				Attributes: map[string]schema.Attribute{
					"allowed_origins": schema.ListAttribute{ElementType: types.StringType, Required: true, MarkdownDescription: "Exact origins (`scheme://host[:port]`), or `[\"*\"]`."},
					"allowed_methods": stringList("Methods allowed cross-origin. Default `GET HEAD PUT POST DELETE PATCH`."),
					"allowed_headers": stringList("Request headers allowed cross-origin. Default `Authorization`, `Content-Type`, `X-API-Key` and the request id header."),
					"expose_headers":  stringList("Response headers browsers may read."),
					"allow_credentials": schema.BoolAttribute{
						Optional: true, MarkdownDescription: "Allow cookies and credentials; only with an explicit origin list.",
					},
					"max_age": schema.Int64Attribute{Optional: true, MarkdownDescription: "Seconds (0–86400) browsers may cache a preflight."},
				},
			},
			"auth": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: "Authentication: API keys and/or JWTs. Unset: mode `none`.",
				Attributes: map[string]schema.Attribute{
					"mode": schema.StringAttribute{
						Required: true, Validators: []validator.String{stringvalidator.OneOf("none", "optional", "required")},
						MarkdownDescription: "`none`, `optional` (credentials checked when sent) or `required` (401 without).",
					},
					"api_keys_wo": schema.MapAttribute{
						ElementType: types.StringType, Optional: true, Sensitive: true, WriteOnly: true,
						MarkdownDescription: "API keys by client id (write-only, Terraform 1.11+), sent as `Authorization: Bearer <key>` or `X-API-Key`. The Worker gets " +
							"only salted HMAC-SHA256 hashes in a secret binding; neither keys nor hashes are kept in state. Bump `secrets_version` to rotate.",
					},
					"secrets_version": schema.Int64Attribute{
						Optional:            true,
						MarkdownDescription: "Any number; changing it makes an apply that sends `api_keys_wo` and `jwt.hs256_secret_wo` again (write-only values are never compared).",
					},
					"jwt": schema.SingleNestedAttribute{
						Optional:            true,
						MarkdownDescription: "JWT bearer tokens: RS256 with keys from `jwks_url`, or HS256 with `hs256_secret_wo`.",
						Attributes: map[string]schema.Attribute{
							"issuer":    schema.StringAttribute{Optional: true, MarkdownDescription: "Required `iss`, when set."},
							"audiences": stringList("The token's `aud` must contain one of these, when set; a valid token for another audience gets 403."),
							"jwks_url":  schema.StringAttribute{Optional: true, MarkdownDescription: "https URL of the identity provider's JWKS (RS256)."},
							"hs256_secret_wo": schema.StringAttribute{
								Optional: true, Sensitive: true, WriteOnly: true,
								MarkdownDescription: "HS256 key, at least 32 bytes (write-only, Terraform 1.11+), in a secret binding; never in state.",
							},
							"clock_skew": schema.Int64Attribute{Optional: true, MarkdownDescription: "Seconds (0–300) of tolerance on `exp` and `nbf`."},
						},
					},
					"public_paths":        stringList("Patterns that need no credentials, e.g. `/health`."),
					"forward_credentials": schema.BoolAttribute{Optional: true, MarkdownDescription: "Pass `Authorization` / `X-API-Key` on to the services. Default false."},
				},
			},
			"rate_limit": schema.SingleNestedAttribute{
				Optional: true,
				MarkdownDescription: "At most `requests` per `period` seconds per key; then 429 with `Retry-After`. Periods of 10 and 60 s use the Workers rate-limit " +
					"binding; any other period a SQLite-backed Durable Object sliding window in the gateway's Worker.",
				Attributes: map[string]schema.Attribute{
					"requests": schema.Int64Attribute{Required: true, MarkdownDescription: "Requests allowed per period (1–1000000)."},
					"period":   schema.Int64Attribute{Required: true, MarkdownDescription: "Seconds (1–86400)."},
					"key":      schema.StringAttribute{Optional: true, MarkdownDescription: "`ip` (default, `CF-Connecting-IP`), `api_key` (the client id or JWT subject) or `header:<name>`."},
				},
			},
			"logging": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: "One JSON line per sampled request (request id, route, service, status, duration, client id — never a key or token).",
				Attributes: map[string]schema.Attribute{
					"enabled": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(true), MarkdownDescription: "Default true."},
					"sample_rate": schema.Float64Attribute{
						Optional: true, Computed: true, Default: float64default.StaticFloat64(1),
						Validators:          []validator.Float64{float64validator.Between(0, 1)},
						MarkdownDescription: "Fraction of requests logged, 0–1. Default 1.",
					},
					"redact_headers": stringList("Headers logged as `[redacted]` besides Authorization, Proxy-Authorization, X-API-Key and Cookie."),
				},
			},
			"request_id_header": schema.StringAttribute{Optional: true, MarkdownDescription: "Header carrying the request id (kept when valid, else generated). Default `X-Request-Id`."},
			"zone_routes":       routesSchema("gateway"),
			"custom_domains":    customDomainsSchema("gateway"),
			"workers_dev": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Serve the gateway on its workers.dev address. Default `false`.",
			},
			"compatibility_date": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString(gatewayDefaultCompatibilityDate),
				MarkdownDescription: "Workers compatibility date of the gateway's Worker, at least `" + workers.GatewayMinCompatibilityDate + "`. Default `" + gatewayDefaultCompatibilityDate + "`.",
			},
			"config":              schema.StringAttribute{Computed: true, MarkdownDescription: "The JSON configuration the gateway's Worker runs (no secrets)."},
			"config_sha256":       schema.StringAttribute{Computed: true, MarkdownDescription: "SHA-256 of `config`; a change made outside Terraform shows as a change of it."},
			"url":                 schema.StringAttribute{Computed: true, MarkdownDescription: "Where the gateway answers: workers.dev, else its first custom domain, else its first zone route; empty when none."},
			"deployed_version_id": schema.StringAttribute{Computed: true, MarkdownDescription: "The Worker version serving the gateway."},
		},
	}
}

func (r *gatewayResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureClient(req.ProviderData, &resp.Diagnostics)
}

// knownApartFromSecrets reports whether every value of the configuration is known, write-only
// values aside (they may come from ephemeral resources, unknown until apply).
func knownApartFromSecrets(raw tftypes.Value) bool {
	stripped, err := tftypes.Transform(raw, func(p *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		steps := p.Steps()
		if len(steps) > 0 {
			if name, ok := steps[len(steps)-1].(tftypes.AttributeName); ok && (name == "api_keys_wo" || name == "hs256_secret_wo") {
				return tftypes.NewValue(v.Type(), nil), nil
			}
		}
		return v, nil
	})
	return err == nil && stripped.IsFullyKnown()
}

// ValidateConfig checks everything the configuration alone decides, with the rules of the
// gateway program (workers.ValidateGatewayConfig), once every value is known.
func (r *gatewayResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	if !knownApartFromSecrets(req.Config.Raw) {
		return
	}
	var cfg gatewayModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	for _, p := range workers.ValidateGatewayConfig(cfg.gatewayConfig(cfg.hasAPIKeys(), cfg.hasHS256())) {
		resp.Diagnostics.AddAttributeError(gatewayAttributePath(p.Path), "Invalid gateway configuration", p.Error())
	}
	secrets := cfg.secrets()
	if cfg.hasAPIKeys() && fullyKnown(cfg.Auth.APIKeys) {
		for _, p := range workers.ValidateGatewayAPIKeys(secrets.apiKeys) {
			resp.Diagnostics.AddAttributeError(gatewayAttributePath(p.Path), "Invalid API key", p.Error())
		}
	}
	if cfg.hasHS256() && !cfg.Auth.JWT.HS256Secret.IsUnknown() {
		if err := workers.ValidateGatewayJWTSecret(secrets.hs256); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("auth").AtName("jwt").AtName("hs256_secret_wo"), "Invalid HS256 secret", err.Error())
		}
	}
	if d := cfg.CompatibilityDate.ValueString(); !cfg.CompatibilityDate.IsNull() && (!compatibilityDatePattern.MatchString(d) || d < workers.GatewayMinCompatibilityDate) {
		resp.Diagnostics.AddAttributeError(path.Root("compatibility_date"), "Invalid compatibility date",
			fmt.Sprintf("compatibility_date: %q must be a date (YYYY-MM-DD) no earlier than %s: the gateway calls its rate-limit Durable Object over RPC", d, workers.GatewayMinCompatibilityDate))
	}
}

// ModifyPlan checks what needs the account (each target service exists; a pinned version is
// deployed) and computes the configuration and its hash.
func (r *gatewayResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	var plan, state, cfg gatewayModel
	if !getKnown(ctx, req.Plan, req.Plan.Raw, &plan, &resp.Diagnostics) || !getKnown(ctx, req.Config, req.Config.Raw, &cfg, &resp.Diagnostics) {
		return
	}
	hasState := !req.State.Raw.IsNull()
	if hasState {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	r.checkTargets(ctx, &plan, resp)
	plan.ID = plan.Name
	if knownApartFromSecrets(req.Config.Raw) {
		if text, sum, err := canonicalGatewayConfig(plan.gatewayConfig(cfg.hasAPIKeys(), cfg.hasHS256())); err == nil {
			plan.Config, plan.ConfigSHA256 = types.StringValue(text), types.StringValue(sum)
		}
	} else {
		plan.Config, plan.ConfigSHA256 = types.StringUnknown(), types.StringUnknown()
	}
	secretsVersion := func(m *gatewayModel) types.Int64 {
		if m.Auth == nil {
			return types.Int64Null()
		}
		return m.Auth.SecretsVersion
	}
	upload := !hasState || plan.ConfigSHA256 != state.ConfigSHA256 || plan.CompatibilityDate != state.CompatibilityDate || !secretsVersion(&plan).Equal(secretsVersion(&state))
	reach := !hasState || !plan.WorkersDev.Equal(state.WorkersDev) || !plan.ZoneRoutes.Equal(state.ZoneRoutes) || !plan.CustomDomains.Equal(state.CustomDomains)
	plan.DeployedVersionID, plan.URL = state.DeployedVersionID, state.URL
	if upload {
		plan.DeployedVersionID = types.StringUnknown()
	}
	if reach {
		plan.URL = types.StringUnknown()
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// checkTargets refuses routes to services that are neither Workers of the account nor planned
// in this command, and warns about pinned versions the target's deployment does not hold.
func (r *gatewayResource) checkTargets(ctx context.Context, plan *gatewayModel, resp *resource.ModifyPlanResponse) {
	checked := map[string]bool{}
	for i, route := range plan.Routes {
		at := path.Root("routes").AtListIndex(i)
		service := route.Service.ValueString()
		if route.Service.IsUnknown() || service == "" {
			continue
		}
		if !checked[service] {
			checked[service] = true
			ok, err := r.data.scriptExists(ctx, service)
			switch {
			case err != nil:
				resp.Diagnostics.AddAttributeWarning(at.AtName("service"), "Cannot check the service", err.Error())
			case !ok:
				resp.Diagnostics.AddAttributeError(at.AtName("service"), "Unknown service",
					fmt.Sprintf("routes[%d].service: %q is not a Worker of this account nor a servicesdo_service of this configuration: deploy it, or name an existing Worker (e.g. servicesdo_service.<name>.name)", i, service))
				continue
			}
		}
		version := route.VersionID.ValueString()
		if version == "" || route.VersionID.IsUnknown() || r.data.lookups.servicePlanned(service) {
			continue // a service planned in this command may deploy anything: not knowable now
		}
		dep, ok, err := r.data.client.ActiveDeployment(ctx, service)
		if err != nil || !ok {
			continue
		}
		deployed := false
		var ids []string
		for _, v := range dep.Versions {
			ids = append(ids, v.VersionID)
			deployed = deployed || v.VersionID == version
		}
		if !deployed {
			resp.Diagnostics.AddAttributeWarning(at.AtName("version_id"), "Pinned version is not deployed",
				fmt.Sprintf("routes[%d].version_id: version %q is not in the current deployment of %q (%s), and Cloudflare honours a version override only for a deployed version: "+
					"until it is deployed (at 0 %% is enough, e.g. servicesdo_deployment keep_version_id), requests to %s follow the deployment's split", i, version, service, strings.Join(ids, ", "), route.Path.ValueString()))
		}
	}
}

// upload sends the gateway's Worker: the program, its configuration and secrets. first
// declares the rate-limit counter class (a Worker's Durable Object classes come from
// migrations, so it is declared once, whether or not the configuration uses it yet).
func (r *gatewayResource) upload(ctx context.Context, plan, cfg *gatewayModel, first bool) error {
	name := plan.Name.ValueString()
	config := plan.gatewayConfig(cfg.hasAPIKeys(), cfg.hasHS256())
	configJSON, _, err := canonicalGatewayConfig(config)
	if err != nil {
		return err
	}
	values := cfg.secrets()
	secrets := map[string]string{}
	if cfg.hasAPIKeys() {
		if secrets[workers.GatewayAPIKeysBinding], err = workers.NewGatewayAPIKeysSecret(values.apiKeys, rand.Reader); err != nil {
			return err
		}
	}
	if cfg.hasHS256() {
		secrets[workers.GatewayJWTSecretBinding] = values.hs256
	}
	upload := cloudflare.ScriptUpload{
		Name: name, MainModule: workers.GatewayMainModule, CompatibilityDate: plan.CompatibilityDate.ValueString(),
		Modules:  []cloudflare.Module{{Name: workers.GatewayMainModule, ContentType: "application/javascript+module", Content: []byte(workers.GatewayModule)}},
		Bindings: gatewayBindings(config, configJSON, secrets),
	}
	if first {
		upload.Migration = &cloudflare.Migration{NewTag: gatewayMigrationTag, NewSqliteClasses: []string{workers.GatewayRateCounterClass}}
	}
	_, err = r.data.client.UploadScript(ctx, upload)
	r.data.cache.invalidate()
	if err != nil {
		return fmt.Errorf("uploading the gateway's Worker: %s", explainUploadError(name, err))
	}
	return nil
}

// reconcileReachability makes workers.dev, zone routes and custom domains match the plan.
func (r *gatewayResource) reconcileReachability(ctx context.Context, plan, prior *gatewayModel) error {
	name := plan.Name.ValueString()
	want, err := routesOf(ctx, plan.ZoneRoutes)
	if err != nil {
		return err
	}
	var had []routeModel
	if prior != nil {
		if had, err = routesOf(ctx, prior.ZoneRoutes); err != nil {
			return err
		}
	}
	on := plan.WorkersDev.ValueBool()
	_, subErr := r.data.client.SetScriptSubdomain(ctx, name, on, on)
	return errors.Join(subErr, r.data.reconcileRoutes(ctx, name, want, had), r.data.reconcileDomains(ctx, name, stringSet(plan.CustomDomains)))
}

func (r *gatewayResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, cfg gatewayModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := plan.Name.ValueString()
	if !r.data.claim("gateway/" + name) {
		resp.Diagnostics.AddError("Duplicate gateway", fmt.Sprintf("two servicesdo_gateway resources are named %q: rename one", name))
		return
	}
	if exists, err := r.data.scriptExists(ctx, name); err == nil && exists && !r.data.lookups.servicePlanned(name) {
		resp.Diagnostics.AddError("Worker already exists", fmt.Sprintf("a Worker named %q exists already: import it (terraform import servicesdo_gateway.<name> %s) or choose another name", name, name))
		return
	}
	if err := r.upload(ctx, &plan, &cfg, true); err != nil {
		resp.Diagnostics.AddError("Cannot create gateway", err.Error())
		return
	}
	// The Worker exists from here on: whatever fails next, it is saved in state, so nothing
	// needs importing and the next apply finishes the job.
	err := errors.Join(r.reconcileReachability(ctx, &plan, nil), r.fill(ctx, &plan))
	if err != nil {
		resp.Diagnostics.AddError("Gateway created, but not finished", err.Error()+": apply again to finish")
		if plan.URL.IsUnknown() {
			plan.URL = types.StringValue("")
		}
		if plan.DeployedVersionID.IsUnknown() {
			plan.DeployedVersionID = types.StringValue("")
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// fill sets the computed attributes that the platform decides.
func (r *gatewayResource) fill(ctx context.Context, m *gatewayModel) error {
	name := m.Name.ValueString()
	m.ID = types.StringValue(name)
	var err error
	if m.DeployedVersionID, err = r.data.deployedVersionID(ctx, name); err != nil {
		return err
	}
	script, err := r.data.client.GetScript(ctx, name)
	if err != nil {
		return err
	}
	reach, err := r.data.readReachability(ctx, name, script.Routes, m.ZoneRoutes, m.CustomDomains)
	if err != nil {
		return err
	}
	account := ""
	if m.WorkersDev.ValueBool() {
		if account, err = r.data.accountSubdomain(ctx); err != nil {
			return err
		}
	}
	m.URL = types.StringValue(serviceURL(name, account, m.WorkersDev.ValueBool(), reach.hosts, reach.patterns))
	return nil
}

func (r *gatewayResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	readWorkerResource(ctx, req, resp, "gateway", r.read)
}

// read refreshes m from the platform: the deployed configuration (its hash shows drift),
// reachability and the serving version. imported rebuilds the attributes from the
// configuration.
func (r *gatewayResource) read(ctx context.Context, m *gatewayModel, imported bool) (gone bool, err error) {
	name := m.Name.ValueString()
	settings, err := r.data.client.GetScriptSettings(ctx, name)
	if cloudflare.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	var deployed *workers.GatewayConfig
	for _, b := range settings.Bindings {
		if b.Name == workers.GatewayConfigBinding && b.Type == cloudflare.BindingJSON {
			deployed = &workers.GatewayConfig{}
			if err := json.Unmarshal(b.JSON, deployed); err != nil {
				return false, fmt.Errorf("worker %q: its %s binding is not a gateway configuration: %w", name, workers.GatewayConfigBinding, err)
			}
		}
	}
	if deployed == nil {
		return false, fmt.Errorf("worker %q has no %s binding: it is not a gateway's Worker", name, workers.GatewayConfigBinding)
	}
	text, sum, err := canonicalGatewayConfig(*deployed)
	if err != nil {
		return false, err
	}
	m.Config, m.ConfigSHA256 = types.StringValue(text), types.StringValue(sum)
	if !gatewayBindingsMatch(*deployed, settings.Bindings) {
		// A binding the configuration needs was changed or removed outside Terraform: no
		// configuration's hash is empty, so the next plan uploads the gateway again.
		m.ConfigSHA256 = types.StringValue("")
	}
	m.CompatibilityDate = types.StringValue(settings.CompatibilityDate)
	if imported {
		m.fromGatewayConfig(*deployed)
	}
	sub, err := r.data.client.GetScriptSubdomain(ctx, name)
	if err != nil {
		return false, err
	}
	m.WorkersDev = types.BoolValue(sub.Enabled)
	script, err := r.data.client.GetScript(ctx, name)
	if err != nil {
		return false, err
	}
	reach, err := r.data.readReachability(ctx, name, script.Routes, m.ZoneRoutes, m.CustomDomains)
	if err != nil {
		return false, err
	}
	m.ZoneRoutes, m.CustomDomains = reach.routes, reach.domains
	return false, r.fill(ctx, m)
}

// gatewayBindingsMatch reports whether the Worker has every binding its configuration needs,
// as the provider makes them (secrets by name and type: their values cannot be read).
func gatewayBindingsMatch(cfg workers.GatewayConfig, have []cloudflare.Binding) bool {
	byName := map[string]cloudflare.Binding{}
	for _, b := range have {
		byName[b.Name] = b
	}
	secrets := map[string]string{}
	if cfg.Auth != nil && cfg.Auth.APIKeys {
		secrets[workers.GatewayAPIKeysBinding] = ""
	}
	if cfg.Auth != nil && cfg.Auth.JWT != nil && cfg.Auth.JWT.HS256 {
		secrets[workers.GatewayJWTSecretBinding] = ""
	}
	for _, want := range gatewayBindings(cfg, "", secrets) {
		got, ok := byName[want.Name]
		switch {
		case !ok || got.Type != want.Type:
			return false
		case want.Type == cloudflare.BindingService && got.Service != want.Service,
			want.Type == cloudflare.BindingDurableObject && (got.ClassName != want.ClassName || (got.ScriptName != "" && got.ScriptName != cfg.Name)),
			want.Type == cloudflare.BindingRateLimit && (got.Simple == nil || *got.Simple != *want.Simple):
			return false
		}
	}
	return true
}

func (r *gatewayResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state, cfg gatewayModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.DeployedVersionID.IsUnknown() {
		if err := r.upload(ctx, &plan, &cfg, false); err != nil {
			resp.Diagnostics.AddError("Cannot update gateway", err.Error())
			return
		}
	}
	if err := errors.Join(r.reconcileReachability(ctx, &plan, &state), r.fill(ctx, &plan)); err != nil {
		resp.Diagnostics.AddError("Cannot update gateway", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *gatewayResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state gatewayModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.Name.ValueString()
	prior, err := routesOf(ctx, state.ZoneRoutes)
	if err == nil {
		err = errors.Join(r.data.reconcileRoutes(ctx, name, nil, prior), r.data.reconcileDomains(ctx, name, nil))
	}
	if err != nil && !cloudflare.IsNotFound(err) {
		resp.Diagnostics.AddError("Cannot delete gateway", err.Error())
		return
	}
	if err := r.data.client.DeleteScript(ctx, name, true); err != nil && !cloudflare.IsNotFound(err) {
		resp.Diagnostics.AddError("Cannot delete gateway", err.Error())
	}
	r.data.cache.invalidate()
}

func (r *gatewayResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	name := strings.TrimSpace(req.ID)
	m := gatewayModel{Name: types.StringValue(name), ZoneRoutes: types.SetNull(routeType), CustomDomains: types.SetNull(types.StringType)}
	gone, err := r.read(ctx, &m, true)
	if gone {
		resp.Diagnostics.AddError("Cannot import gateway", fmt.Sprintf("no Worker named %q", name))
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot import gateway", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
