package provider

import (
	"context"
	"fmt"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
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

	"github.com/dot-do/terraform-provider-servicesdo/internal/lazyregexp"
	"github.com/dot-do/terraform-provider-servicesdo/internal/validation"
)

var (
	_ resource.Resource                   = (*serviceResource)(nil)
	_ resource.ResourceWithConfigure      = (*serviceResource)(nil)
	_ resource.ResourceWithImportState    = (*serviceResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*serviceResource)(nil)
	_ resource.ResourceWithValidateConfig = (*serviceResource)(nil)
	_ resource.ResourceWithUpgradeState   = (*serviceResource)(nil)
)

// NewServiceResource is the servicesdo_service constructor.
func NewServiceResource() resource.Resource { return &serviceResource{} }

type serviceResource struct{ data *providerData }

// Platform limits the schema enforces at plan time.
const (
	workersMemoryMB = 128
	minCPUMs        = 10
	maxCPUMs        = 300000
)

var semver = lazyregexp.New(`^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

func (r *serviceResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_service"
}

func bindingMapValidators() []validator.Map {
	return []validator.Map{mapvalidator.KeysAre(bindingNameValidator{})}
}

func (r *serviceResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	stable := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		Version: serviceSchemaVersion,
		MarkdownDescription: "A service: a Cloudflare Worker with its code, bindings, secrets, Durable Object classes, " +
			"routes, custom domains, workers.dev address and cron triggers. Code is read and checked at plan time and only its " +
			"hashes are kept in state; secrets are write-only, and nothing derived from their values is stored; Durable Object " +
			"migrations are generated from the change in declared classes; binding order never makes a diff.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The script name.",
				Computed:            true,
				PlanModifiers:       stable,
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Script name: " + validation.ScriptNameRule + ". Changing it replaces the service.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{checkValidator{"Invalid service name", validation.CheckScriptName}},
			},
			"description": schema.StringAttribute{
				MarkdownDescription: "What the service does. Sent as the `workers/message` annotation of each version this provider uploads.",
				Optional:            true,
			},
			"version": schema.StringAttribute{
				MarkdownDescription: "Semantic version label of the code (e.g. `1.4.0`), sent as the `workers/tag` annotation of each version this provider uploads.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(semver.Regexp(), "must be a semantic version such as 1.4.0 or 2.0.0-rc.1")},
			},
			"domain": schema.StringAttribute{
				MarkdownDescription: "Business domain the service belongs to (e.g. `commerce`), kept as the script tag `domain:<value>`.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`), "must be 1–63 lower-case letters, digits, _ and -")},
			},
			"tags": schema.SetAttribute{
				MarkdownDescription: "Script tags (besides the `domain:` tag).",
				Optional:            true,
				ElementType:         types.StringType,
			},
			"main_module": schema.StringAttribute{
				MarkdownDescription: "The entry module: one of the modules' names (e.g. `index.js`).",
				Required:            true,
			},
			"source_dir": schema.StringAttribute{
				MarkdownDescription: "A directory whose module files (" + moduleExtensionsList() + ") become modules named by their relative paths. Hidden files and `node_modules` are skipped. " +
					"`modules` may add or replace single files; `inline_modules` cannot be used with it.",
				Optional: true,
			},
			"modules": schema.MapAttribute{
				MarkdownDescription: "Modules by name → path of the file to read at plan time. Only the files' hashes are stored.",
				Optional:            true,
				ElementType:         types.StringType,
			},
			"inline_modules": schema.MapAttribute{
				MarkdownDescription: "Modules by name → content. Write-only: never stored in state (needs Terraform 1.11 or later). Conflicts with `source_dir`.",
				Optional:            true,
				WriteOnly:           true,
				ElementType:         types.StringType,
			},
			"module_hashes": schema.MapAttribute{
				MarkdownDescription: "SHA-256 of each module, computed at plan time: a code change shows here.",
				Computed:            true,
				ElementType:         types.StringType,
			},
			"compatibility_date": schema.StringAttribute{
				MarkdownDescription: "Workers runtime compatibility date, `YYYY-MM-DD`, not in the future.",
				Required:            true,
			},
			"compatibility_flags": schema.SetAttribute{
				MarkdownDescription: "Workers runtime compatibility flags (e.g. `nodejs_compat`). A flag the runtime does not know is a plan-time warning that names the closest known ones.",
				Optional:            true,
				ElementType:         types.StringType,
			},
			"usage_model": schema.StringAttribute{
				MarkdownDescription: "Usage model; `standard` is the only one Cloudflare offers today.",
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString("standard"),
				Validators:          []validator.String{stringvalidator.OneOf("standard", "bundled", "unbound")},
			},
			"limits": schema.SingleNestedAttribute{
				MarkdownDescription: "Resource limits per request.",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"cpu_ms": schema.Int64Attribute{
						MarkdownDescription: fmt.Sprintf("CPU time limit in milliseconds (%d–%d).", minCPUMs, maxCPUMs),
						Optional:            true,
						Validators:          []validator.Int64{int64validator.Between(minCPUMs, maxCPUMs)},
					},
					"memory_mb": schema.Int64Attribute{
						MarkdownDescription: fmt.Sprintf("Memory the service needs. Workers memory is fixed at %d MB: larger values are rejected at plan time instead of being silently ignored.", workersMemoryMB),
						Optional:            true,
						Validators:          []validator.Int64{memoryValidator{}},
					},
				},
			},
			"vars": schema.MapAttribute{
				MarkdownDescription: "Plain-text variables by binding name.",
				Optional:            true,
				ElementType:         types.StringType,
				Validators:          bindingMapValidators(),
			},
			"json_vars": schema.MapAttribute{
				MarkdownDescription: "JSON variables by binding name (use `jsonencode`). Compared semantically: formatting never makes a diff.",
				Optional:            true,
				ElementType:         types.StringType,
				Validators:          append(bindingMapValidators(), mapvalidator.ValueStringsAre(jsonValidator{})),
			},
			"secrets": schema.MapAttribute{
				MarkdownDescription: "Secrets by binding name. Write-only (Terraform 1.11 or later): values never reach state, plans or logs, " +
					"and nothing derived from them is stored. Terraform cannot see a changed value, so bump `secrets_version` to write the " +
					"values again; adding or removing a secret plans a change by itself (`secret_names`).",
				Optional:    true,
				Sensitive:   true,
				WriteOnly:   true,
				ElementType: types.StringType,
				Validators:  bindingMapValidators(),
			},
			"secrets_version": schema.Int64Attribute{
				MarkdownDescription: "Bump to write every secret's value again (rotation): the values are write-only, so a changed value alone plans nothing. " +
					"Any change of this number rewrites all secrets.",
				Optional: true,
			},
			"secret_names": schema.SetAttribute{
				MarkdownDescription: "The names of the service's secrets (never their values), from the configuration and, on refresh, the platform: " +
					"adding or removing a secret, or one set or deleted outside Terraform, shows here.",
				Computed:    true,
				ElementType: types.StringType,
			},
			"kv_namespaces": schema.MapAttribute{
				MarkdownDescription: "Workers KV namespaces by binding name → namespace id.",
				Optional:            true,
				ElementType:         types.StringType,
				Validators:          bindingMapValidators(),
			},
			"r2_buckets": schema.MapNestedAttribute{
				MarkdownDescription: "R2 buckets by binding name.",
				Optional:            true,
				Validators:          bindingMapValidators(),
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"bucket_name": schema.StringAttribute{MarkdownDescription: "Bucket name.", Required: true},
					"jurisdiction": schema.StringAttribute{
						MarkdownDescription: "The bucket's jurisdiction when not the default: `eu` or `fedramp`.",
						Optional:            true,
						Validators:          []validator.String{stringvalidator.OneOf("eu", "fedramp")},
					},
				}},
			},
			"durable_objects": schema.MapNestedAttribute{
				MarkdownDescription: "Durable Object namespaces by binding name. A class without `script_name` is implemented by this service: " +
					"adding, renaming (`renamed_from`) and removing such classes generates the migration.",
				Optional:   true,
				Validators: bindingMapValidators(),
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"class_name": schema.StringAttribute{
						MarkdownDescription: "The exported class.",
						Required:            true,
						Validators:          []validator.String{checkValidator{"Invalid class name", validation.CheckBindingName}},
					},
					"script_name": schema.StringAttribute{MarkdownDescription: "The service implementing the class, when it is another one.", Optional: true},
					"sqlite": schema.BoolAttribute{
						MarkdownDescription: "New classes use SQLite storage (default `true`); `false` asks for the legacy key-value backend.",
						Optional:            true,
					},
					"renamed_from": schema.StringAttribute{MarkdownDescription: "The class's previous name: renames it, keeping its objects and data.", Optional: true},
				}},
			},
			"allow_delete": schema.BoolAttribute{
				MarkdownDescription: "Allow a migration that deletes a Durable Object class no longer declared. Deleting a class deletes the data of all its objects. Default `false`.",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(false),
			},
			"queue_producers": queueProducersAttribute(),
			"queue_consumers": queueConsumersAttribute(),
			"services": schema.MapNestedAttribute{
				MarkdownDescription: "Service bindings to other services by binding name.",
				Optional:            true,
				Validators:          bindingMapValidators(),
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"service":    schema.StringAttribute{MarkdownDescription: "The target service's name.", Required: true},
					"entrypoint": schema.StringAttribute{MarkdownDescription: "A named entrypoint (`WorkerEntrypoint` class) of the target.", Optional: true},
				}},
			},
			"registry": schema.SingleNestedAttribute{
				MarkdownDescription: "Binds the service registry (a Workers KV namespace) so the service can discover others at run time.",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"binding": schema.StringAttribute{
						MarkdownDescription: "Binding name, e.g. `REGISTRY`.",
						Required:            true,
						Validators:          []validator.String{checkValidator{"Invalid binding name", validation.CheckBindingName}},
					},
					"namespace_id": schema.StringAttribute{MarkdownDescription: "The registry namespace; defaults to the provider's `registry_namespace_id`.", Optional: true},
				},
			},
			"routes":         routesSchema("service"),
			"custom_domains": customDomainsSchema("service"),
			"workers_dev": schema.BoolAttribute{
				MarkdownDescription: "Serve the service on its workers.dev address. Default `false`.",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(false),
			},
			"crons": schema.SetAttribute{
				MarkdownDescription: "Cron triggers (five fields, UTC).",
				Optional:            true,
				ElementType:         types.StringType,
				Validators:          []validator.Set{setvalidator.ValueStringsAre(checkValidator{"Invalid cron expression", validation.CheckCron})},
			},
			"health": schema.SingleNestedAttribute{
				MarkdownDescription: "The health endpoint deployments probe and the registry documents.",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"path": schema.StringAttribute{
						MarkdownDescription: "Path, starting with `/`.",
						Required:            true,
						Validators:          []validator.String{stringvalidator.RegexMatches(regexp.MustCompile(`^/`), "must start with /")},
					},
					"expect_status": schema.Int64Attribute{
						MarkdownDescription: "Expected HTTP status (default 200).",
						Optional:            true,
						Validators:          []validator.Int64{int64validator.Between(100, 599)},
					},
					"timeout": schema.StringAttribute{
						MarkdownDescription: "Probe timeout as a duration (default `5s`).",
						Optional:            true,
						Validators:          []validator.String{durationValidator{}},
					},
				},
			},
			"observability": schema.SingleNestedAttribute{
				MarkdownDescription: "Workers Logs.",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"enabled": schema.BoolAttribute{MarkdownDescription: "Collect logs.", Required: true},
					"head_sampling_rate": schema.Float64Attribute{
						MarkdownDescription: "Share of requests logged, 0–1 (default 1).",
						Optional:            true,
						Validators:          []validator.Float64{float64validator.Between(0, 1)},
					},
				},
			},
			"rollout": schema.StringAttribute{
				MarkdownDescription: "`immediate` (default): each change deploys at 100 %. `managed`: a code or binding change uploads a new version " +
					"(`latest_version_id`) without moving traffic, for a `servicesdo_deployment` to roll out. The first creation always deploys.",
				Optional:   true,
				Computed:   true,
				Default:    stringdefault.StaticString("immediate"),
				Validators: []validator.String{stringvalidator.OneOf("immediate", "managed")},
			},
			"migration_tag": schema.StringAttribute{
				MarkdownDescription: "The script's Durable Object migration tag, as the platform reports it.",
				Computed:            true,
			},
			"durable_object_classes": schema.MapAttribute{
				MarkdownDescription: "Durable Object classes the platform has for this script (class → uses SQLite). Known at plan time, " +
					"except in a plan that renames a class, where `durable_object_migration` shows the rename.",
				Computed:    true,
				ElementType: types.BoolType,
			},
			"durable_object_migration": schema.StringAttribute{
				MarkdownDescription: "The Durable Object migration this service's plan makes, or the last one it made, known at plan time: " +
					"e.g. `v2: rename Ledger → Book (objects and data kept)`, `v1: new Counter`, `v3: delete Old`.",
				Computed: true,
			},
			"etag":                schema.StringAttribute{MarkdownDescription: "The script's etag (a hash of its serving code): unknown in a plan only when the code changes.", Computed: true},
			"latest_version_id":   schema.StringAttribute{MarkdownDescription: "The newest version: unknown in a plan only when it makes a version (an upload, or a secret written or removed).", Computed: true},
			"deployed_version_id": schema.StringAttribute{MarkdownDescription: "The version serving (most of) the traffic: unknown in a plan only when it deploys.", Computed: true},
			"url": schema.StringAttribute{
				MarkdownDescription: "Where the service answers: its workers.dev address, else its first custom domain, else its first route. " +
					"Unknown in a plan only when one of those changes.",
				Computed: true,
			},
			"created_on":  schema.StringAttribute{MarkdownDescription: "When the script was created.", Computed: true, PlanModifiers: stable},
			"modified_on": schema.StringAttribute{MarkdownDescription: "When the script was last changed, at the platform's full precision (a route, domain, workers.dev or cron change leaves it).", Computed: true},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, serviceTimeouts),
		},
	}
}

func (r *serviceResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureClient(req.ProviderData, &resp.Diagnostics)
}

func (r *serviceResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if err := validation.CheckScriptName(req.ID); err != nil {
		resp.Diagnostics.AddError("Invalid import id", "Import a service by its script name: "+err.Error()+".")
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), req.ID)...)
}
