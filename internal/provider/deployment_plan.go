package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/lazyregexp"
	"github.com/dot-do/terraform-provider-servicesdo/internal/rollout"
)

var probeURLPattern = lazyregexp.New(`^https?://[^/?#\s]+(/[^?#\s]*)?$`)

// ModifyPlan validates the rollout and plans it: planned_path, traffic, phase, step and the
// versions are known in the plan, so a reviewer reads exactly what the apply will do.
func (r *deploymentResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		var state deploymentModel
		if diags := req.State.Get(ctx, &state); !diags.HasError() {
			resp.Diagnostics.AddWarning("Destroying leaves traffic as it is", destroyDetail(state))
		}
		return
	}
	var plan, config deploymentModel
	if !getKnown(ctx, req.Plan, req.Plan.Raw, &plan, &resp.Diagnostics) || !getKnown(ctx, req.Config, req.Config.Raw, &config, &resp.Diagnostics) {
		return
	}
	var state *deploymentModel
	if !req.State.Raw.IsNull() {
		state = &deploymentModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	}
	if resp.Diagnostics.HasError() || r.data == nil {
		return
	}
	timeout, diags := plan.applyTimeout(ctx, state == nil)
	resp.Diagnostics.Append(diags...)
	s, known, diags := plan.settings(ctx, timeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	// Where the rollout stands: the status Read saved, or, on create, the live deployment.
	var cur rollout.Status
	haveCur := false
	if state != nil {
		cur, diags = loadStatus(ctx, req.Private)
		resp.Diagnostics.Append(diags...)
		haveCur = cur.DeploymentID != ""
	} else if known {
		live, found, err := r.active(ctx, s.service)
		switch {
		case err == nil && found:
			if cur, err = rollout.Observe(live, rollout.Status{}); err == nil {
				haveCur = true
			}
		case err != nil && !cloudflare.IsNotFound(err):
			resp.Diagnostics.AddAttributeError(path.Root("service"), "Cannot read the service's deployment", err.Error())
			return
		}
	}

	problems := rollout.Validate(rollout.ValidationInput{
		Config: s.cfg, Service: s.service, ServiceRollout: r.data.lookups.serviceRollout(s.service),
		WebhookURL: s.webhook, Versions: []string{cur.Stable, s.cfg.Target, s.keep},
		Migration: r.migration(ctx, s, cur, config.VersionID),
	})
	if s.keep != "" && s.keep != cur.Stable && s.keep != s.cfg.Target && haveCur {
		if _, err := r.data.client.GetVersion(ctx, s.service, s.keep); cloudflare.IsNotFound(err) {
			resp.Diagnostics.AddAttributeError(path.Root("keep_version_id"), "Unknown version",
				fmt.Sprintf("keep_version_id = %q is not a version of service %q: set it to one of its versions (e.g. the stable version, %s), or remove it.", s.keep, s.service, cur.Stable))
		}
	}
	for _, p := range problems {
		if p.Warning {
			resp.Diagnostics.AddAttributeWarning(problemPath(p.Path), p.Summary, p.Detail)
		} else {
			resp.Diagnostics.AddAttributeError(problemPath(p.Path), p.Summary, p.Detail)
		}
	}
	if resp.Diagnostics.HasError() {
		return
	}
	plan.ID = types.StringValue(s.service)
	if !known || !haveCur {
		plan.unknownStatus()
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}

	now := time.Now().UTC()
	cfg := s.cfg
	cfg.MaxApplyDuration = s.budget
	p := rollout.PlanApply(cfg, cur, now)
	for _, w := range p.Warnings {
		resp.Diagnostics.AddAttributeWarning(path.Root("version_id"), "Rollout", w)
	}
	if state == nil && p.Kind == rollout.KindResume {
		// A create that takes over a rollout in flight: the rest of its hold depends on when
		// the apply starts, and a create has no planned private state to plan with the same
		// clock. The apply plans it again.
		plan.unknownStatus()
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	want, pin := keptSplit(p.Expect, s.keep)
	if p.Kind == rollout.KindNoChange && state != nil && !pin {
		plan.keepStatus(state)
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	plan.setStatus(p.Expect)
	plan.PlannedPath = pathList(p)
	if pin {
		plan.PlannedPath = appendString(plan.PlannedPath, keepStep(want))
		plan.Traffic, plan.DeploymentID = trafficList(want), types.StringUnknown()
	}
	if config.VersionID.IsUnknown() && s.keep != "" {
		plan.PlannedPath = types.ListUnknown(types.StringType)
	}
	if len(p.Path) > 0 {
		// Filled in by the apply: the checks' numbers and the deployment it writes.
		plan.LastAnalysis = types.StringUnknown()
		plan.DeploymentID = types.StringUnknown()
	}
	if config.VersionID.IsUnknown() {
		// The new version's id is known only once it is uploaded; the plan's steps are not.
		plan.Traffic, plan.Reason, plan.CandidateVersionID = types.ListUnknown(trafficElemType), types.StringUnknown(), types.StringUnknown()
		if p.Expect.Stable == "" || p.Expect.Phase == rollout.PhasePromoted {
			plan.StableVersionID = types.StringUnknown()
		}
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
	// The update plans again with this clock (a create gets no planned private state, and
	// reads the deployment again instead).
	resp.Diagnostics.Append(savePlannedAt(ctx, resp.Private, now)...)
}

// keepStatus carries the state's computed values into a plan that changes nothing.
func (m *deploymentModel) keepStatus(state *deploymentModel) {
	m.Phase, m.PauseReason, m.Reason, m.Step = state.Phase, state.PauseReason, state.Reason, state.Step
	m.StableVersionID, m.CandidateVersionID, m.Traffic = state.StableVersionID, state.CandidateVersionID, state.Traffic
	m.PlannedPath, m.LastAnalysis, m.DeploymentID = state.PlannedPath, state.LastAnalysis, state.DeploymentID
}

// unknownStatus marks every computed value as known only after apply.
func (m *deploymentModel) unknownStatus() {
	for _, v := range []*types.String{&m.Phase, &m.PauseReason, &m.Reason, &m.StableVersionID, &m.CandidateVersionID, &m.LastAnalysis, &m.DeploymentID} {
		*v = types.StringUnknown()
	}
	m.Step = types.Int64Unknown()
	m.Traffic = types.ListUnknown(trafficElemType)
	m.PlannedPath = types.ListUnknown(types.StringType)
}

// migration says whether the target needs a Durable Object migration that the stable version
// has not had: their migration tags differ. Such versions cannot share traffic.
func (r *deploymentResource) migration(ctx context.Context, s settings, cur rollout.Status, target types.String) string {
	if target.IsUnknown() || s.cfg.Target == "" || cur.Stable == "" || s.cfg.Target == cur.Stable || s.cfg.Strategy == rollout.StrategyImmediate {
		return ""
	}
	tv, err := r.data.client.GetVersion(ctx, s.service, s.cfg.Target)
	if err != nil {
		return ""
	}
	sv, err := r.data.client.GetVersion(ctx, s.service, cur.Stable)
	if err != nil || tv.MigrationTag == sv.MigrationTag {
		return ""
	}
	was := "none"
	if sv.MigrationTag != "" {
		was = sv.MigrationTag
	}
	return fmt.Sprintf("its migration tag is %s; the stable version %s has %s", tagOrNone(tv.MigrationTag), sv.ID, was)
}

func tagOrNone(tag string) string {
	if tag == "" {
		return "none"
	}
	return tag
}

// serviceRollout is the rollout attribute of the servicesdo_service named service when this
// command plans it ("" when it does not, or the value is unknown): unset means immediate.
func (l *planLookups) serviceRollout(service string) string {
	l.mu.Lock()
	claims := l.services[service]
	l.mu.Unlock()
	if len(claims) == 0 {
		return ""
	}
	var attrs map[string]tftypes.Value
	if err := claims[len(claims)-1].config.As(&attrs); err != nil {
		return ""
	}
	v, ok := attrs["rollout"]
	switch {
	case !ok || !v.IsKnown():
		return ""
	case v.IsNull():
		return "immediate"
	}
	var mode string
	if v.As(&mode) != nil {
		return ""
	}
	return mode
}

// addOutcome reports a run's outcome as a diagnostic of its severity.
func addOutcome(diags *diag.Diagnostics, o rollout.Outcome, detail string) {
	switch o.Severity {
	case rollout.SeverityError:
		diags.AddError(o.Summary, detail)
	case rollout.SeverityWarning:
		diags.AddWarning(o.Summary, detail)
	}
}

func appendString(l types.List, s string) types.List {
	elems := append(l.Elements(), types.StringValue(s))
	return types.ListValueMust(types.StringType, elems)
}
