package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/rollout"
)

// deploymentModel is servicesdo_deployment's schema, one field per attribute.
type deploymentModel struct {
	ID                  types.String    `tfsdk:"id"`
	Service             types.String    `tfsdk:"service"`
	VersionID           types.String    `tfsdk:"version_id"`
	KeepVersionID       types.String    `tfsdk:"keep_version_id"`
	Strategy            types.String    `tfsdk:"strategy"`
	Steps               types.List      `tfsdk:"steps"`
	Rolling             *rollingModel   `tfsdk:"rolling"`
	BlueGreen           *blueGreenModel `tfsdk:"blue_green"`
	Analysis            *analysisModel  `tfsdk:"analysis"`
	ApprovedThroughStep types.Int64     `tfsdk:"approved_through_step"`
	RetryToken          types.String    `tfsdk:"retry_token"`
	MaxApplyDuration    types.String    `tfsdk:"max_apply_duration"`
	OnFailure           types.String    `tfsdk:"on_failure"`
	Notify              *notifyModel    `tfsdk:"notify"`
	Timeouts            timeouts.Value  `tfsdk:"timeouts"`

	Phase              types.String `tfsdk:"phase"`
	PauseReason        types.String `tfsdk:"pause_reason"`
	Reason             types.String `tfsdk:"reason"`
	Step               types.Int64  `tfsdk:"step"`
	StableVersionID    types.String `tfsdk:"stable_version_id"`
	CandidateVersionID types.String `tfsdk:"candidate_version_id"`
	Traffic            types.List   `tfsdk:"traffic"`
	PlannedPath        types.List   `tfsdk:"planned_path"`
	LastAnalysis       types.String `tfsdk:"last_analysis"`
	DeploymentID       types.String `tfsdk:"deployment_id"`
}

type stepModel struct {
	Percent types.Int64  `tfsdk:"percent"`
	Hold    types.String `tfsdk:"hold"`
	Gate    types.String `tfsdk:"gate"`
}

type rollingModel struct {
	BatchPercent types.Int64  `tfsdk:"batch_percent"`
	Hold         types.String `tfsdk:"hold"`
}

type blueGreenModel struct {
	AutoPromoteAfter types.String `tfsdk:"auto_promote_after"`
}

type analysisModel struct {
	Interval     types.String  `tfsdk:"interval"`
	FailureLimit types.Int64   `tfsdk:"failure_limit"`
	Inconclusive types.String  `tfsdk:"inconclusive"`
	Delay        types.String  `tfsdk:"delay"`
	Probe        *probeModel   `tfsdk:"probe"`
	Metric       *metricsModel `tfsdk:"metric"`
}

type probeModel struct {
	URL          types.String `tfsdk:"url"`
	Path         types.String `tfsdk:"path"`
	ExpectStatus types.Int64  `tfsdk:"expect_status"`
	Timeout      types.String `tfsdk:"timeout"`
	Count        types.Int64  `tfsdk:"count"`
}

type metricsModel struct {
	ErrorRate    *metricModel `tfsdk:"error_rate"`
	P99LatencyMs *metricModel `tfsdk:"p99_latency_ms"`
}

type metricModel struct {
	Max         types.Float64 `tfsdk:"max"`
	MinRequests types.Int64   `tfsdk:"min_requests"`
}

type notifyModel struct {
	WebhookURL types.String `tfsdk:"webhook_url"`
	Secret     types.String `tfsdk:"secret"`
}

// trafficShare is one element of the traffic attribute.
type trafficShare struct {
	VersionID types.String  `tfsdk:"version_id"`
	Percent   types.Float64 `tfsdk:"percent"`
}

func (trafficShare) attrTypes() map[string]attr.Type {
	return map[string]attr.Type{"version_id": types.StringType, "percent": types.Float64Type}
}

var trafficElemType = types.ObjectType{AttrTypes: trafficShare{}.attrTypes()}

// Defaults of the deployment's optional settings.
const (
	defaultProbeTimeout    = 5 * time.Second
	defaultAnalyticsDelay  = time.Minute
	defaultDeployTimeout   = 60 * time.Minute
	applyTimeoutMargin     = time.Minute
	maxProbesPerCheck      = 100
	deploymentWriteTimeout = time.Minute
)

// deploymentTimeouts are the operations the timeouts block configures.
var deploymentTimeouts = timeouts.Opts{Create: true, Update: true}

// settings is a configuration in the rollout package's terms, with what the resource adds:
// where probes go and how long one apply may run.
type settings struct {
	cfg     rollout.Config
	service string
	probe   *probeSettings
	webhook string
	// keep is keep_version_id: a version kept in a settled deployment at 0 %.
	keep string
	// budget is the effective max_apply_duration: the configured one, bounded by the apply's
	// timeout (less a margin), so that an apply pauses on its own before Terraform's timeout.
	budget time.Duration
}

type probeSettings struct {
	url     string
	path    string
	status  int
	timeout time.Duration
	count   int
}

// settings converts the model; known is false when a value the plan depends on is unknown
// (the target version_id may be: it is then "" for the rollout package).
func (m *deploymentModel) settings(ctx context.Context, timeout time.Duration) (s settings, known bool, diags diag.Diagnostics) {
	known = true
	unknown := func(vs ...attr.Value) {
		for _, v := range vs {
			if v.IsUnknown() {
				known = false
			}
		}
	}
	unknown(m.Service, m.Strategy, m.Steps, m.ApprovedThroughStep, m.RetryToken, m.MaxApplyDuration, m.OnFailure, m.KeepVersionID)
	s.service = m.Service.ValueString()
	s.keep = m.KeepVersionID.ValueString()
	c := &s.cfg
	c.Target = m.VersionID.ValueString()
	c.Strategy = rollout.Strategy(m.Strategy.ValueString())
	c.ApprovedThroughStep = int(m.ApprovedThroughStep.ValueInt64())
	c.RetryToken = m.RetryToken.ValueString()
	c.OnFailure = rollout.OnFailure(m.OnFailure.ValueString())
	c.MaxApplyDuration = duration(m.MaxApplyDuration)
	if !m.Steps.IsNull() && !m.Steps.IsUnknown() {
		var steps []stepModel
		diags.Append(m.Steps.ElementsAs(ctx, &steps, false)...)
		for _, st := range steps {
			unknown(st.Percent, st.Hold, st.Gate)
			c.Steps = append(c.Steps, rollout.Step{Percent: int(st.Percent.ValueInt64()), Hold: duration(st.Hold), Gate: st.Gate.ValueString()})
		}
	}
	if r := m.Rolling; r != nil {
		unknown(r.BatchPercent, r.Hold)
		c.Rolling = &rollout.Rolling{BatchPercent: int(r.BatchPercent.ValueInt64()), Hold: duration(r.Hold)}
	}
	if bg := m.BlueGreen; bg != nil {
		unknown(bg.AutoPromoteAfter)
		c.BlueGreen = &rollout.BlueGreen{AutoPromote: !bg.AutoPromoteAfter.IsNull(), AutoPromoteAfter: duration(bg.AutoPromoteAfter)}
	}
	if a := m.Analysis; a != nil {
		unknown(a.Interval, a.FailureLimit, a.Inconclusive, a.Delay)
		an := &rollout.Analysis{
			Interval: duration(a.Interval), FailureLimit: int(a.FailureLimit.ValueInt64()),
			Inconclusive: rollout.InconclusivePolicy(a.Inconclusive.ValueString()), Delay: duration(a.Delay),
		}
		if a.Delay.IsNull() {
			an.Delay = defaultAnalyticsDelay
		}
		if mt := a.Metric; mt != nil {
			an.ErrorRate = mt.ErrorRate.metric(unknown)
			an.P99LatencyMs = mt.P99LatencyMs.metric(unknown)
		}
		if p := a.Probe; p != nil {
			unknown(p.URL, p.Path, p.ExpectStatus, p.Timeout, p.Count)
			an.Probe = &rollout.Probe{Path: p.Path.ValueString(), ExpectStatus: int(p.ExpectStatus.ValueInt64()), Timeout: duration(p.Timeout)}
			s.probe = &probeSettings{
				url: strings.TrimSuffix(p.URL.ValueString(), "/"), path: p.Path.ValueString(), status: int(p.ExpectStatus.ValueInt64()),
				timeout: duration(p.Timeout), count: int(p.Count.ValueInt64()),
			}
			if s.probe.path == "" {
				s.probe.path, an.Probe.Path = "/", "/"
			}
			if s.probe.status == 0 {
				s.probe.status = 200
			}
			if s.probe.timeout <= 0 {
				s.probe.timeout = defaultProbeTimeout
			}
			s.probe.count = min(max(s.probe.count, 1), maxProbesPerCheck)
		}
		c.Analysis = an
	}
	if n := m.Notify; n != nil {
		unknown(n.WebhookURL)
		s.webhook = n.WebhookURL.ValueString()
	}
	s.budget = effectiveBudget(c.MaxApplyDuration, timeout)
	return s, known, diags
}

func (m *metricModel) metric(unknown func(...attr.Value)) *rollout.Metric {
	if m == nil {
		return nil
	}
	unknown(m.Max, m.MinRequests)
	return &rollout.Metric{Max: m.Max.ValueFloat64(), MinRequests: m.MinRequests.ValueInt64()}
}

// effectiveBudget bounds max_apply_duration by the apply's timeout less a margin (for the
// writes and checks after the last hold).
func effectiveBudget(configured, timeout time.Duration) time.Duration {
	limit := max(timeout-applyTimeoutMargin, timeout/2)
	if configured <= 0 || configured > limit {
		return limit
	}
	return configured
}

// applyTimeout is the configured create or update timeout (default 60m).
func (m *deploymentModel) applyTimeout(ctx context.Context, creating bool) (time.Duration, diag.Diagnostics) {
	if m.Timeouts.IsNull() || m.Timeouts.IsUnknown() {
		return defaultDeployTimeout, nil
	}
	if creating {
		return m.Timeouts.Create(ctx, defaultDeployTimeout)
	}
	return m.Timeouts.Update(ctx, defaultDeployTimeout)
}

// duration parses a validated duration attribute; null, unknown and invalid are 0.
func duration(v types.String) time.Duration {
	if v.IsNull() || v.IsUnknown() {
		return 0
	}
	d, _ := time.ParseDuration(v.ValueString())
	return d
}

// setStatus records a rollout status in the computed attributes.
func (m *deploymentModel) setStatus(st rollout.Status) {
	m.Phase = types.StringValue(string(st.Phase))
	m.PauseReason = types.StringValue(string(st.Reason))
	m.Reason = types.StringValue(st.Detail)
	m.Step = types.Int64Value(int64(st.Step))
	m.StableVersionID = types.StringValue(st.Stable)
	m.CandidateVersionID = types.StringValue(st.Candidate)
	m.Traffic = trafficList(st.Traffic)
	m.LastAnalysis = types.StringValue(st.LastAnalysis)
	m.DeploymentID = types.StringValue(st.DeploymentID)
	if m.PlannedPath.IsNull() || m.PlannedPath.IsUnknown() {
		m.PlannedPath = types.ListValueMust(types.StringType, []attr.Value{})
	}
}

func trafficList(split rollout.Split) types.List {
	elems := make([]attr.Value, 0, len(split))
	for _, sh := range split {
		elems = append(elems, types.ObjectValueMust(trafficShare{}.attrTypes(), map[string]attr.Value{
			"version_id": types.StringValue(sh.VersionID), "percent": types.Float64Value(sh.Percent),
		}))
	}
	return types.ListValueMust(trafficElemType, elems)
}

func pathList(p rollout.Plan) types.List {
	elems := make([]attr.Value, 0, len(p.Path))
	for _, s := range p.Path {
		elems = append(elems, types.StringValue(s.String()))
	}
	return types.ListValueMust(types.StringType, elems)
}

// liveDeployment is the platform's deployment in the rollout package's terms.
func liveDeployment(d cloudflare.Deployment) rollout.Deployment {
	out := rollout.Deployment{ID: d.ID, Message: d.Message, CreatedOn: d.CreatedOn}
	for _, v := range d.Versions {
		out.Versions = append(out.Versions, rollout.Share{VersionID: v.VersionID, Percent: v.Percentage})
	}
	return out
}

func deploymentVersions(split rollout.Split) []cloudflare.DeploymentVersion {
	out := make([]cloudflare.DeploymentVersion, 0, len(split))
	for _, sh := range split {
		out = append(out, cloudflare.DeploymentVersion{VersionID: sh.VersionID, Percentage: sh.Percent})
	}
	return out
}

// Private state: the rollout status (what Observe compares the next deployment with) and the
// plan's clock (the apply plans again with it and gets the same plan).
const (
	privateStatus  = "rollout_status"
	privatePlanned = "rollout_planned_at"
)

type privateGetter interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
}

type privateSetter interface {
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

func loadStatus(ctx context.Context, p privateGetter) (rollout.Status, diag.Diagnostics) {
	var st rollout.Status
	if p == nil {
		return st, nil
	}
	raw, diags := p.GetKey(ctx, privateStatus)
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &st); err != nil {
			diags.AddWarning("Rollout status in private state unreadable", "It is rebuilt from the active deployment: "+err.Error())
			return rollout.Status{}, diags
		}
	}
	return st, diags
}

func saveStatus(ctx context.Context, p privateSetter, st rollout.Status) diag.Diagnostics {
	raw, err := json.Marshal(st)
	if err != nil {
		var d diag.Diagnostics
		d.AddError("Cannot save the rollout status", err.Error())
		return d
	}
	return p.SetKey(ctx, privateStatus, raw)
}

func loadPlannedAt(ctx context.Context, p privateGetter) time.Time {
	raw, _ := p.GetKey(ctx, privatePlanned)
	var t time.Time
	if len(raw) == 0 || json.Unmarshal(raw, &t) != nil {
		return time.Time{}
	}
	return t
}

func savePlannedAt(ctx context.Context, p privateSetter, t time.Time) diag.Diagnostics {
	raw, _ := json.Marshal(t)
	return p.SetKey(ctx, privatePlanned, raw)
}

// problemPath turns a rollout.Problem's path ("steps[1].hold", "analysis.metric.error_rate.max")
// into the attribute path it blames.
func problemPath(p rollout.Path) path.Path {
	out := path.Root(p.Root)
	if p.Index >= 0 {
		out = out.AtListIndex(p.Index)
	}
	if p.Child != "" {
		for _, name := range strings.Split(p.Child, ".") {
			out = out.AtName(name)
		}
	}
	return out
}

// nonNegativeDuration accepts Go durations of zero or more ("0s", "90s", "5m").
type nonNegativeDuration struct{}

func (nonNegativeDuration) Description(context.Context) string { return "a duration such as 30s or 5m" }
func (v nonNegativeDuration) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (nonNegativeDuration) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if d, err := time.ParseDuration(req.ConfigValue.ValueString()); err != nil || d < 0 {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration",
			fmt.Sprintf("%s must be a duration such as \"30s\", \"5m\" or \"1h30m\", got %q.", req.Path, req.ConfigValue.ValueString()))
	}
}

// keptSplit is the split a settled rollout rests at: the stable version alone, or with the
// kept version at 0 % (reachable only with the version-override header). write is set when st
// is settled and its traffic is not that split yet.
func keptSplit(st rollout.Status, keep string) (want rollout.Split, write bool) {
	if (st.Phase != rollout.PhaseStable && st.Phase != rollout.PhasePromoted) || st.Stable == "" {
		return nil, false
	}
	want = rollout.Only(st.Stable)
	if keep != "" && keep != st.Stable {
		want = rollout.TwoWay(st.Stable, keep, 0)
	}
	return want, !st.Traffic.Equal(want)
}

// keepStep is the planned_path entry of the write that makes a settled split want.
func keepStep(want rollout.Split) string {
	if len(want) == 2 {
		return fmt.Sprintf("keep %s at 0 %% (version-override header only)", rollout.ShortID(want[1].VersionID))
	}
	return "no version kept at 0 %"
}
