package provider

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/rollout"
)

func (r *deploymentResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config deploymentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.apply(ctx, &plan, &config, resp.Private, &resp.State, &resp.Diagnostics, true)
}

func (r *deploymentResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, config deploymentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.apply(ctx, &plan, &config, resp.Private, &resp.State, &resp.Diagnostics, false)
}

// private is the private state of an apply: the planned one to read, the new one to write.
type private interface {
	privateGetter
	privateSetter
}

// apply plans the rollout again with the plan's clock (which gives the plan the reviewer saw)
// and walks it, saving whatever status it ends in, error or not.
func (r *deploymentResource) apply(ctx context.Context, plan, config *deploymentModel, priv private, state *tfsdk.State, diags *diag.Diagnostics, creating bool) {
	timeout, d := plan.applyTimeout(ctx, creating)
	diags.Append(d...)
	s, _, d := plan.settings(ctx, timeout)
	diags.Append(d...)
	if diags.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ctx = tflog.SetField(ctx, "service", s.service)

	cur, d := loadStatus(ctx, priv)
	diags.Append(d...)
	if creating || cur.DeploymentID == "" {
		live, found, err := r.active(ctx, s.service)
		if err == nil && !found {
			err = fmt.Errorf("service %q has no deployment yet: deploy it once (servicesdo_service deploys on creation)", s.service)
		}
		if err != nil {
			diags.AddError("Cannot read the service's deployment", err.Error())
			return
		}
		if cur, err = rollout.Observe(live, rollout.Status{}); err != nil {
			diags.AddError("Unexpected active deployment", err.Error())
			return
		}
	}
	now := loadPlannedAt(ctx, priv)
	if now.IsZero() {
		now = time.Now().UTC()
	}
	cfg := s.cfg
	cfg.MaxApplyDuration = s.budget
	p := rollout.PlanApply(cfg, cur, now)

	run := &deploymentRun{r: r, s: s, notify: newNotifier(s.webhook, config)}
	final := run.walk(ctx, p)
	if want, pin := keptSplit(final.Status, s.keep); pin && final.Outcome.AsPlanned {
		final = run.keep(ctx, final, want)
	}

	plan.ID = plan.Service
	keepPath := plan.PlannedPath
	plan.setStatus(final.Status)
	if !keepPath.IsUnknown() && !keepPath.IsNull() {
		plan.PlannedPath = keepPath
	} else {
		plan.PlannedPath = pathList(p)
	}
	diags.Append(state.Set(ctx, plan)...)
	diags.Append(saveStatus(ctx, priv, final.Status)...)
	addOutcome(diags, final.Outcome, run.report(final))
	for _, w := range run.notify.failures {
		diags.AddWarning("Rollout notification not delivered", w)
	}
}

// deploymentRun performs one apply's decisions against the platform.
type deploymentRun struct {
	r      *deploymentResource
	s      settings
	notify *notifier
	logs   []string
	probes *http.Client
}

// walk ticks the run until it finishes and returns the finishing decision.
func (x *deploymentRun) walk(ctx context.Context, p rollout.Plan) rollout.Decision {
	run := rollout.Begin(p, time.Now())
	in := rollout.Input{Now: time.Now()}
	for {
		var d rollout.Decision
		run, d = run.Tick(in)
		for _, line := range d.Logs {
			tflog.Info(ctx, x.s.service+": "+line)
			if d.Kind != rollout.Finish { // the outcome is the diagnostic itself
				x.logs = append(x.logs, line)
			}
		}
		for _, e := range d.Events {
			x.notify.send(ctx, x.s.service, e)
		}
		in = rollout.Input{}
		switch d.Kind {
		case rollout.ReadLive:
			// Read with a context of its own: after a write that failed, or once the apply is
			// cancelled, the run still needs to see the platform to decide.
			live, err := x.readLive(ctx)
			if err != nil {
				return x.abandon(d, err)
			}
			in.Live, in.Cancelled = &live, ctx.Err() != nil
		case rollout.Write:
			// A write the run asks for after a cancellation is a rollback: it is finished.
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deploymentWriteTimeout)
			dep, err := x.r.data.client.CreateDeployment(wctx, x.s.service, deploymentVersions(d.Split), d.Message, false)
			cancel()
			if err == nil {
				live := liveDeployment(dep)
				in.Live = &live
				break
			}
			tflog.Warn(ctx, x.s.service+": writing the deployment failed", map[string]any{"error": err.Error()})
			live, rerr := x.readLive(ctx)
			if rerr != nil {
				return x.abandon(d, fmt.Errorf("%w; then reading the active deployment failed too: %v", err, rerr))
			}
			in.Live, in.Err = &live, err
		case rollout.Wait:
			in.Cancelled = !sleepUntil(ctx, d.Until)
		case rollout.Analyse:
			ev, err := x.gather(ctx, d)
			switch {
			case ctx.Err() != nil:
				in.Cancelled = true
			case err != nil:
				in.Err = err
			default:
				in.Evidence = ev
			}
		case rollout.Finish:
			return d
		}
		in.Now = time.Now()
	}
}

// keep writes the settled split with keep_version_id at 0 %, after the rollout, checking
// first that the deployment is still the one the rollout left.
func (x *deploymentRun) keep(ctx context.Context, final rollout.Decision, want rollout.Split) rollout.Decision {
	fail := func(err error) rollout.Decision {
		final.Outcome = rollout.Outcome{Severity: rollout.SeverityError, Summary: "Cannot keep the version reachable",
			Detail: fmt.Sprintf("The rollout finished (%s), then deploying %s failed: %v. The state records the deployment as it is; apply again to keep the version.", final.Status.Traffic.Short(), want.Short(), err)}
		return final
	}
	live, err := x.readLive(ctx)
	if err != nil {
		return fail(err)
	}
	if live.ID != final.Status.DeploymentID {
		return fail(fmt.Errorf("the active deployment changed meanwhile (it is %s, %s)", live.ID, live.Versions.Short()))
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deploymentWriteTimeout)
	defer cancel()
	note := "servicesdo: " + rollout.ShortID(want[0].VersionID) + " at 100 %"
	if len(want) == 2 {
		note += ", " + rollout.ShortID(want[1].VersionID) + " kept at 0 %"
	}
	dep, err := x.r.data.client.CreateDeployment(wctx, x.s.service, deploymentVersions(want), note, false)
	if err != nil {
		return fail(err)
	}
	line := keepStep(want)
	x.logs = append(x.logs, line)
	tflog.Info(ctx, x.s.service+": "+line)
	final.Status.Traffic, final.Status.DeploymentID, final.Status.StepStartedAt = want, dep.ID, dep.CreatedOn
	return final
}

// readLive reads the active deployment with a short context of its own.
func (x *deploymentRun) readLive(ctx context.Context) (rollout.Deployment, error) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deploymentWriteTimeout)
	defer cancel()
	live, found, err := x.r.active(rctx, x.s.service)
	if err == nil && !found {
		err = fmt.Errorf("service %q has no active deployment", x.s.service)
	}
	return live, err
}

// abandon ends a run that cannot see the platform: the status so far is saved, and the next
// plan (after Read) continues from what the platform holds.
func (x *deploymentRun) abandon(d rollout.Decision, err error) rollout.Decision {
	st := d.Status
	if st.Phase == rollout.PhaseProgressing || st.Phase == rollout.PhasePreviewing {
		st.Phase, st.Reason = rollout.PhasePaused, rollout.ReasonInterrupted
	}
	st.Detail = "the apply could not read the active deployment and stopped; the next plan reads it again and continues: " + err.Error()
	return rollout.Decision{Kind: rollout.Finish, Status: st, Outcome: rollout.Outcome{
		Severity: rollout.SeverityError, Summary: "Rollout interrupted",
		Detail: fmt.Sprintf("Reading the active deployment of %q failed: %v. The state records the rollout as far as it got; run terraform plan to see where it stands.", x.s.service, err),
	}}
}

// report is the outcome's detail with the path this apply took: Terraform shows diagnostics,
// not the apply log (which needs TF_LOG=info).
func (x *deploymentRun) report(d rollout.Decision) string {
	detail := d.Outcome.Detail
	if d.Status.LastAnalysis != "" && !strings.Contains(detail, d.Status.LastAnalysis) {
		detail += "\n\nLast check: " + d.Status.LastAnalysis
	}
	if len(x.logs) > 0 {
		lines := x.logs
		const keep = 40
		if len(lines) > keep {
			lines = append([]string{fmt.Sprintf("… (%d earlier lines)", len(lines)-keep)}, lines[len(lines)-keep:]...)
		}
		detail += "\n\nThis apply:\n  " + strings.Join(lines, "\n  ")
	}
	return detail
}

// sleepUntil waits until t; false when the context ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// gather collects the evidence of one check: the versions' analytics over the window (when
// the candidate serves traffic and a metric is configured) and the probes.
func (x *deploymentRun) gather(ctx context.Context, d rollout.Decision) (*rollout.Evidence, error) {
	ev := &rollout.Evidence{}
	a := x.s.cfg.Analysis
	if a != nil && (a.ErrorRate != nil || a.P99LatencyMs != nil) && d.CandidatePercent > 0 && !d.Window.Empty() {
		versions := []string{d.Candidate}
		if d.Stable != "" {
			versions = append(versions, d.Stable)
		}
		stats, err := x.r.data.client.VersionStats(ctx, cloudflare.VersionStatsQuery{Script: x.s.service, Versions: versions, From: d.Window.From, To: d.Window.To})
		if err != nil {
			return nil, err
		}
		ev.Candidate, ev.Stable = sample(stats[d.Candidate]), sample(stats[d.Stable])
	}
	if d.Probe && x.s.probe != nil {
		ev.Probes = x.probe(ctx, d.Candidate)
	}
	return ev, nil
}

func sample(s cloudflare.VersionStats) rollout.Sample {
	return rollout.Sample{Requests: s.Requests, Errors: s.Errors, P99Ms: float64(s.WallTimeP99) / float64(time.Millisecond)}
}

// probe sends the check's probes to the candidate alone, through the version-override header.
func (x *deploymentRun) probe(ctx context.Context, candidate string) []rollout.ProbeResult {
	p := x.s.probe
	if x.probes == nil {
		x.probes = probeClient()
	}
	out := make([]rollout.ProbeResult, 0, p.count)
	for i := 0; i < p.count && ctx.Err() == nil; i++ {
		res := rollout.ProbeResult{Path: p.path}
		pctx, cancel := context.WithTimeout(ctx, p.timeout)
		req, err := http.NewRequestWithContext(pctx, http.MethodGet, p.url+p.path, nil)
		if err == nil {
			req.Header.Set("Cloudflare-Workers-Version-Overrides", fmt.Sprintf("%s=%q", x.s.service, candidate))
			req.Header.Set("User-Agent", "terraform-provider-servicesdo (deployment probe)")
			start := time.Now()
			var resp *http.Response
			if resp, err = x.probes.Do(req); err == nil {
				res.Status, res.Latency = resp.StatusCode, time.Since(start)
				_ = resp.Body.Close()
			}
		}
		cancel()
		if err != nil {
			res.Err = err.Error()
		}
		out = append(out, res)
		if res.Err != "" || res.Status != p.status {
			break // one failure decides the check
		}
	}
	return out
}

// probeClient does not follow redirects (a redirect is the answer) and sends *.localhost
// names to loopback, as browsers do (RFC 6761), so that the local edge's workers.dev
// addresses (http://<service>.localhost:8787) work without a hosts file.
func probeClient() *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	transport := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if host, port, err := net.SplitHostPort(addr); err == nil && strings.HasSuffix(strings.ToLower(host), ".localhost") {
				addr = net.JoinHostPort("127.0.0.1", port)
			}
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}
	return &http.Client{Transport: transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
