package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/rollout"
	"github.com/dot-do/terraform-provider-servicesdo/internal/validation"
)

var (
	_ resource.Resource                = (*deploymentResource)(nil)
	_ resource.ResourceWithConfigure   = (*deploymentResource)(nil)
	_ resource.ResourceWithImportState = (*deploymentResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*deploymentResource)(nil)
)

// NewDeploymentResource is the servicesdo_deployment constructor.
func NewDeploymentResource() resource.Resource { return &deploymentResource{} }

// deploymentResource moves a service's traffic to a version through the steps of a rollout.
// The state machine is internal/rollout's; this resource reads and writes the platform for it.
type deploymentResource struct{ data *providerData }

func (r *deploymentResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_deployment"
}

func (r *deploymentResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureClient(req.ProviderData, &resp.Diagnostics)
}

func duration0(desc string) schema.StringAttribute {
	return schema.StringAttribute{MarkdownDescription: desc, Optional: true, Validators: []validator.String{nonNegativeDuration{}}}
}

func metricAttribute(desc, maxDesc string) schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: desc,
		Optional:            true,
		Attributes: map[string]schema.Attribute{
			"max": schema.Float64Attribute{MarkdownDescription: maxDesc, Required: true},
			"min_requests": schema.Int64Attribute{
				MarkdownDescription: "How many requests of the new version a check needs before it decides; with fewer, the check is inconclusive (see `inconclusive`). Default `100`.",
				Optional:            true, Computed: true, Default: int64default.StaticInt64(100),
			},
		},
	}
}

func (r *deploymentResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	strategies := make([]string, len(rollout.Strategies))
	for i, s := range rollout.Strategies {
		strategies[i] = string(s)
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A progressive rollout of a service's version: `immediate`, `rolling`, `canary` or `blue_green`, over Workers " +
			"gradual deployments. The plan shows every split the apply will walk (`planned_path`) and the traffic after it; the apply sets " +
			"each split, holds while it checks the new version (probes through the `Cloudflare-Workers-Version-Overrides` header, error " +
			"rate and p99 latency from Workers analytics) and moves on, rolls back and fails when the checks fail, and pauses at manual " +
			"gates and at `max_apply_duration`. The active deployment is the source of truth: each split carries a marker in its message, " +
			"so an interrupted apply resumes and a change made outside Terraform shows as drift. The service needs `rollout = \"managed\"`.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The service name.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"service": schema.StringAttribute{
				MarkdownDescription: "The service (Worker script) whose traffic this resource moves, e.g. `servicesdo_service.orders.name`. Changing it replaces the resource.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{checkValidator{"Invalid service name", validation.CheckScriptName}},
			},
			"version_id": schema.StringAttribute{
				MarkdownDescription: "The version to roll out, usually `servicesdo_service.<name>.latest_version_id`. Setting it back to the stable version " +
					"rolls back at once (no steps); a new version mid-rollout replaces the one in flight and starts again at the first step.",
				Required: true,
			},
			"keep_version_id": schema.StringAttribute{
				MarkdownDescription: "A version to keep in the deployment at 0 % once the rollout has settled, reachable only with the " +
					"`Cloudflare-Workers-Version-Overrides` header (a gateway route pinned to it, say): the seed's `service.route({ v1, v2, latest })`. " +
					"A deployment holds two versions, so while a rollout is in flight it must be the stable or the new version; usually it is the " +
					"version before, kept for the clients pinned to it.",
				Optional: true,
			},
			"strategy": schema.StringAttribute{
				MarkdownDescription: "How the version reaches all traffic: `immediate` (one step to 100 %, the only way to ship a Durable Object migration), " +
					"`rolling` (equal batches, `rolling`), `canary` (the `steps`, then 100 %) or `blue_green` (a preview at 0 % reachable only with " +
					"the version-override header, then a switch: `blue_green`).",
				Required:   true,
				Validators: []validator.String{stringvalidator.OneOf(strategies...)},
			},
			"steps": schema.ListNestedAttribute{
				MarkdownDescription: "The canary's steps, in order; the move to 100 % follows the last one. Percentages rise strictly, each 1–99.",
				Optional:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"percent": schema.Int64Attribute{MarkdownDescription: "The new version's share of traffic during the step, 1–99.", Required: true},
					"hold": duration0("How long the step lasts, checking the new version, before the next one (e.g. `5m`; default `0s`). " +
						"At least `analysis.interval` when there is an analysis."),
					"gate": schema.StringAttribute{
						MarkdownDescription: "`manual`: entering the step waits for approval, given by `approved_through_step` ≥ the step's number (1 for the first).",
						Optional:            true,
					},
				}},
			},
			"rolling": schema.SingleNestedAttribute{
				MarkdownDescription: "The rolling strategy's batches: `batch_percent = 25` moves 25, 50 and 75 %, then 100 %.",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"batch_percent": schema.Int64Attribute{MarkdownDescription: "The share each batch adds, 1–99.", Required: true},
					"hold":          duration0("How long each batch lasts before the next (default `0s`)."),
				},
			},
			"blue_green": schema.SingleNestedAttribute{
				MarkdownDescription: "The blue/green strategy's switch. Without `auto_promote_after` the switch is a manual gate: `approved_through_step = 1` switches.",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"auto_promote_after": duration0("Switch all traffic once the preview has held this long with its checks passing (e.g. `10m`)."),
				},
			},
			"analysis": schema.SingleNestedAttribute{
				MarkdownDescription: "Checks of the new version during every hold: at each `interval` and when the hold ends. A failed check counts towards " +
					"`failure_limit`; reaching it rolls back (see `on_failure`) and fails the apply.",
				Optional: true,
				Attributes: map[string]schema.Attribute{
					"interval": schema.StringAttribute{
						MarkdownDescription: "Time between checks during a hold. Default `1m`.",
						Optional:            true, Computed: true, Default: stringdefault.StaticString("1m"),
						Validators: []validator.String{durationValidator{}},
					},
					"failure_limit": schema.Int64Attribute{
						MarkdownDescription: "How many failed checks (over the whole rollout attempt; a passing check does not reset the count) abort it. Default `1`.",
						Optional:            true, Computed: true, Default: int64default.StaticInt64(1),
					},
					"inconclusive": schema.StringAttribute{
						MarkdownDescription: "What a hold that ends without enough data does: `pause` (traffic stays; the apply fails with the state saved and the next apply checks again), " +
							"`fail` (treated as a failed check) or `pass` (move on). Default `pause`.",
						Optional: true, Computed: true, Default: stringdefault.StaticString(string(rollout.InconclusivePause)),
					},
					"delay": schema.StringAttribute{
						MarkdownDescription: "How far Workers analytics lag behind real time: a check at time t reads the window ending at t − delay. " +
							"Default `1m` (Cloudflare's aggregation delay); the local edge's analytics have none, so `0s` there.",
						Optional: true, Computed: true, Default: stringdefault.StaticString("1m"),
						Validators: []validator.String{nonNegativeDuration{}},
					},
					"probe": schema.SingleNestedAttribute{
						MarkdownDescription: "A request sent at every check to the new version alone, through the `Cloudflare-Workers-Version-Overrides` header; " +
							"any other status than `expect_status` fails the check. The one check that sees HTTP statuses: Workers analytics count exceptions, " +
							"not the 5xx a Worker returns. Set it from the service's `health` block.",
						Optional: true,
						Attributes: map[string]schema.Attribute{
							"url": schema.StringAttribute{
								MarkdownDescription: "Where the service answers, e.g. `servicesdo_service.<name>.url`; on the local edge `http://<service>.localhost:8787` " +
									"(`*.localhost` names reach loopback).",
								Required:   true,
								Validators: []validator.String{stringvalidator.RegexMatches(probeURLPattern.Regexp(), "must be an absolute http(s) URL without a query")},
							},
							"path": schema.StringAttribute{
								MarkdownDescription: "The path probed, e.g. the service's `health.path`. Default `/`.",
								Optional:            true, Computed: true, Default: stringdefault.StaticString("/"),
							},
							"expect_status": schema.Int64Attribute{
								MarkdownDescription: "The status a healthy version answers. Default `200`.",
								Optional:            true, Computed: true, Default: int64default.StaticInt64(200),
							},
							"timeout": schema.StringAttribute{
								MarkdownDescription: "How long one probe may take. Default `5s`.",
								Optional:            true, Computed: true, Default: stringdefault.StaticString("5s"),
								Validators: []validator.String{durationValidator{}},
							},
							"count": schema.Int64Attribute{
								MarkdownDescription: fmt.Sprintf("Probes per check (1–%d), all of which must answer `expect_status`: more probes catch a version that fails only some requests. Default `1`.", maxProbesPerCheck),
								Optional:            true, Computed: true, Default: int64default.StaticInt64(1),
								Validators: []validator.Int64{int64validator.Between(1, maxProbesPerCheck)},
							},
						},
					},
					"metric": schema.SingleNestedAttribute{
						MarkdownDescription: "Thresholds on the new version's Workers analytics over the hold so far (the `workersInvocationsAdaptive` dataset, per version).",
						Optional:            true,
						Attributes: map[string]schema.Attribute{
							"error_rate": metricAttribute("Errors per request as Cloudflare counts them: uncaught exceptions, exceeded limits and internal errors (not the 5xx a Worker returns; see `probe`).",
								"The largest passing error rate, a fraction (0.01 is 1 %)."),
							"p99_latency_ms": metricAttribute("The 99th percentile of wall time, in milliseconds.", "The largest passing p99 wall time in milliseconds."),
						},
					},
				},
			},
			"approved_through_step": schema.Int64Attribute{
				MarkdownDescription: "Approves the manual gates of steps 1 to this number (a blue/green switch is step 1). Default `0`: no gate is approved.",
				Optional:            true, Computed: true, Default: int64default.StaticInt64(0),
			},
			"retry_token": schema.StringAttribute{
				MarkdownDescription: "Change it to retry a rollout that failed (it then starts again at the first step).",
				Optional:            true,
			},
			"max_apply_duration": duration0("How long one apply may hold; a rollout longer than that pauses (a warning) and the next apply continues. " +
				"Bounded by the `timeouts` less a minute; default that bound (59m)."),
			"on_failure": schema.StringAttribute{
				MarkdownDescription: "What failed checks do: `rollback` (all traffic back to the stable version at once) or `pause` (leave the traffic for someone to look). " +
					"Either way the apply fails. Default `rollback`.",
				Optional: true, Computed: true, Default: stringdefault.StaticString(string(rollout.OnFailureRollback)),
			},
			"notify": schema.SingleNestedAttribute{
				MarkdownDescription: "Rollout events (`started`, `progress`, `completed`, `rolled_back`, `paused`) POSTed as JSON to a webhook, in order.",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"webhook_url": schema.StringAttribute{MarkdownDescription: "The webhook; `https://` (plain `http://` only to loopback, for testing).", Required: true},
					"secret": schema.StringAttribute{
						MarkdownDescription: "Signs each event: the `X-Servicesdo-Signature-256` header is `sha256=` and the hex HMAC-SHA256 of the body with this secret. " +
							"Write-only (Terraform 1.11 or later): never stored in state.",
						Optional: true, Sensitive: true, WriteOnly: true,
					},
				},
			},
			"phase": schema.StringAttribute{
				MarkdownDescription: "Where the rollout stands: `stable` (one version, not reached by a rollout), `promoted` (a rollout finished), `paused` " +
					"(between steps, see `pause_reason`) or `aborted` (checks failed; all traffic on the stable version). Known at plan time.",
				Computed: true,
			},
			"pause_reason": schema.StringAttribute{
				MarkdownDescription: "Why a paused rollout stopped: `gate`, `budget`, `inconclusive`, `interrupted`, `external_change` or `failed`; empty otherwise.",
				Computed:            true,
			},
			"reason": schema.StringAttribute{MarkdownDescription: "The phase in a sentence, with what to do next.", Computed: true},
			"step": schema.Int64Attribute{
				MarkdownDescription: "The step whose split is live: 0 is the blue/green preview, 1..N the steps or batches, N+1 the promotion.",
				Computed:            true,
			},
			"stable_version_id":    schema.StringAttribute{MarkdownDescription: "The version that had all the traffic before the rollout (after promotion, the new one).", Computed: true},
			"candidate_version_id": schema.StringAttribute{MarkdownDescription: "The version being rolled out (or the failed one, when aborted); empty when settled.", Computed: true},
			"traffic": schema.ListNestedAttribute{
				MarkdownDescription: "The active deployment's split, stable version first. In a plan: the split after the apply.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"version_id": schema.StringAttribute{MarkdownDescription: "The version.", Computed: true},
					"percent":    schema.Float64Attribute{MarkdownDescription: "Its share of the traffic, 0–100.", Computed: true},
				}},
			},
			"planned_path": schema.ListAttribute{
				MarkdownDescription: "Every split the apply walks, with holds, approved gates and checks, e.g. `step 2: 25 %, hold 5m, checked`; after the apply, the path it walked.",
				Computed:            true,
				ElementType:         types.StringType,
			},
			"last_analysis": schema.StringAttribute{
				MarkdownDescription: "The last check and the numbers it used, e.g. `error_rate 0.002 over 412 requests (max 0.01, stable 0.001)`.",
				Computed:            true,
			},
			"deployment_id": schema.StringAttribute{MarkdownDescription: "The active deployment this state was built from.", Computed: true},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, deploymentTimeouts),
		},
	}
}

func (r *deploymentResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state deploymentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	prior, diags := loadStatus(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	service := state.Service.ValueString()
	live, found, err := r.active(ctx, service)
	if cloudflare.IsNotFound(err) || (err == nil && !found) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the deployment", err.Error())
		return
	}
	st, err := rollout.Observe(live, prior)
	if err != nil {
		resp.Diagnostics.AddError("Unexpected active deployment", fmt.Sprintf("Service %q: %v.", service, err))
		return
	}
	state.ID = types.StringValue(service)
	if state.VersionID.IsNull() || state.VersionID.ValueString() == "" { // import
		state.VersionID = types.StringValue(st.Stable)
		if st.Candidate != "" && len(st.Traffic) == 2 {
			state.VersionID = types.StringValue(st.Candidate)
		}
	}
	state.setStatus(st)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	resp.Diagnostics.Append(saveStatus(ctx, resp.Private, st)...)
}

// active reads the service's active deployment; found is false when the script has none.
func (r *deploymentResource) active(ctx context.Context, service string) (rollout.Deployment, bool, error) {
	d, found, err := r.data.client.ActiveDeployment(ctx, service)
	if err != nil || !found {
		return rollout.Deployment{}, found, err
	}
	return liveDeployment(d), true, nil
}

func (r *deploymentResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state deploymentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.AddWarning("Traffic left as it is", destroyDetail(state))
}

func destroyDetail(state deploymentModel) string {
	traffic := "its current split"
	var shares []trafficShare
	if !state.Traffic.IsNull() && !state.Traffic.IsUnknown() && state.Traffic.ElementsAs(context.Background(), &shares, false) == nil && len(shares) > 0 {
		parts := make([]string, len(shares))
		for i, s := range shares {
			parts[i] = fmt.Sprintf("%s %% %s", trimFloat(s.Percent.ValueFloat64()), s.VersionID.ValueString())
		}
		traffic = strings.Join(parts, ", ")
	}
	return fmt.Sprintf("Removing servicesdo_deployment for service %q leaves its traffic as it is (%s): Cloudflare cannot delete a Worker's active deployment, "+
		"and this resource never guesses where traffic should go. A rollout in flight stays where it is; manage the service's traffic again with a "+
		"servicesdo_deployment (it takes the rollout over), `wrangler versions deploy`, or by deleting the service.", state.Service.ValueString(), traffic)
}

func trimFloat(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.4f", f), "0"), ".")
}

func (r *deploymentResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if err := validation.CheckScriptName(req.ID); err != nil {
		resp.Diagnostics.AddError("Invalid import id", "Import a deployment by its service's name: "+err.Error()+".")
		return
	}
	for name, v := range map[string]any{
		"id": req.ID, "service": req.ID, "approved_through_step": int64(0), "on_failure": string(rollout.OnFailureRollback),
	} {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(name), v)...)
	}
}
