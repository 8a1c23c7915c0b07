package rollout

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Path names the attribute a Problem blames: Root, then an optional list Index, then an
// optional Child ("steps[1].hold" is {Root: "steps", Index: 1, Child: "hold"}).
type Path struct {
	Root string
	// Index is a list index, or -1 for none.
	Index int
	Child string
}

func attr(root string) Path             { return Path{Root: root, Index: -1} }
func attrChild(root, child string) Path { return Path{Root: root, Index: -1, Child: child} }
func stepAttr(i int, child string) Path { return Path{Root: "steps", Index: i, Child: child} }

// String renders the path as a user writes it in HCL.
func (p Path) String() string {
	s := p.Root
	if p.Index >= 0 {
		s += "[" + strconv.Itoa(p.Index) + "]"
	}
	if p.Child != "" {
		s += "." + p.Child
	}
	return s
}

// Problem is one plan-time error (or warning) in a configuration: the attribute to blame, a
// short summary, and a detail that names the attribute, the rule and the fix.
type Problem struct {
	Path    Path
	Summary string
	Detail  string
	Warning bool
}

func (p Problem) Error() string { return p.Summary + ": " + p.Detail }

// ValidationInput is a configuration and the facts about its surroundings that a resource
// knows at plan time.
type ValidationInput struct {
	Config Config
	// ServiceRollout is the service's rollout attribute ("immediate" or "managed"; "" when
	// unknown or not checked).
	ServiceRollout string
	// Service names the service for messages.
	Service string
	// Migration, when not empty, says that the target version needs a Durable Object migration
	// and what it is ("new Counter; rename A → B"), as workerscript.Migration.Summary gives it.
	Migration string
	// WebhookURL is notify.webhook_url ("" when not set).
	WebhookURL string
	// Versions are all the versions the configuration needs in one deployment (the stable
	// version, the target, and any other the resource lets users keep reachable); "" entries
	// are ignored. A rollout itself never needs more than two: a new target replaces the
	// in-flight candidate.
	Versions []string
}

// Validate returns every problem of the configuration, in attribute order. A resource calls it
// from ValidateConfig or ModifyPlan (skipping unknown values) and shows each problem with
// AddAttributeError (or AddAttributeWarning when Warning).
func Validate(in ValidationInput) []Problem {
	c := in.Config
	v := &validator{}
	v.strategy(c)
	v.steps(c)
	v.rolling(c)
	v.blueGreen(c)
	v.analysis(c)
	v.holds(c)
	v.approval(c)
	v.durations(c)
	v.migration(c, in.Migration)
	v.service(in)
	v.webhook(in.WebhookURL)
	v.versions(in.Versions)
	return v.problems
}

type validator struct{ problems []Problem }

func (v *validator) add(p Path, summary, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: p, Summary: summary, Detail: fmt.Sprintf(format, args...)})
}

func (v *validator) strategy(c Config) {
	valid := false
	for _, s := range Strategies {
		valid = valid || c.Strategy == s
	}
	if !valid {
		v.add(attr("strategy"), "Invalid rollout strategy",
			"strategy = %q is not a strategy: use one of %s.", c.Strategy, joinQuoted(Strategies))
		return
	}
	switch {
	case c.Strategy == StrategyCanary && len(c.Steps) == 0:
		v.add(attr("steps"), "Canary without steps",
			"strategy = \"canary\" needs steps: list at least one, e.g. steps = [{ percent = 10, hold = \"5m\" }]; the move to 100 %% follows the last step.")
	case c.Strategy != StrategyCanary && len(c.Steps) > 0:
		v.add(attr("steps"), "Steps without a canary",
			"steps apply only to strategy = \"canary\", and strategy is %q: remove steps, or set strategy = \"canary\".%s", c.Strategy, strategyHint(c.Strategy))
	}
	switch {
	case c.Strategy == StrategyRolling && c.Rolling == nil:
		v.add(attr("rolling"), "Rolling without batches",
			"strategy = \"rolling\" needs a rolling block: rolling { batch_percent = 25, hold = \"5m\" } moves 25 %% at a time.")
	case c.Strategy != StrategyRolling && c.Rolling != nil:
		v.add(attr("rolling"), "Rolling block without a rolling strategy",
			"the rolling block applies only to strategy = \"rolling\", and strategy is %q: remove it, or set strategy = \"rolling\".", c.Strategy)
	}
	if c.Strategy != StrategyBlueGreen && c.BlueGreen != nil {
		v.add(attr("blue_green"), "Blue/green block without a blue/green strategy",
			"the blue_green block applies only to strategy = \"blue_green\", and strategy is %q: remove it, or set strategy = \"blue_green\".", c.Strategy)
	}
}

func strategyHint(s Strategy) string {
	switch s {
	case StrategyRolling:
		return " Rolling batches come from rolling { batch_percent, hold }."
	case StrategyBlueGreen:
		return " Blue/green has no steps: the candidate previews at 0 %, then takes all traffic."
	}
	return ""
}

func (v *validator) steps(c Config) {
	for i, s := range c.Steps {
		if s.Percent < 1 || s.Percent > 99 {
			v.add(stepAttr(i, "percent"), "Step percentage out of range",
				"steps[%d].percent = %d is outside 1–99: a step sends part of the traffic to the new version, and the move to 100 %% follows the last step by itself. "+
					"Use a percentage from 1 to 99, or remove the step.", i, s.Percent)
			continue
		}
		if i > 0 && s.Percent <= c.Steps[i-1].Percent {
			v.add(stepAttr(i, "percent"), "Step percentages must rise",
				"steps[%d].percent = %d is not greater than steps[%d].percent = %d: each step must send strictly more traffic to the new version than the one before. "+
					"Order the steps by percentage and remove duplicates.", i, s.Percent, i-1, c.Steps[i-1].Percent)
		}
		if s.Gate != "" && s.Gate != GateManual {
			v.add(stepAttr(i, "gate"), "Invalid gate",
				"steps[%d].gate = %q is not a gate: the only gate is \"manual\" (entering the step waits until approved_through_step ≥ %d); remove gate for a step that needs no approval.",
				i, s.Gate, i+1)
		}
		if s.Hold < 0 {
			v.add(stepAttr(i, "hold"), "Negative hold", "steps[%d].hold is negative: a hold is a duration such as \"5m\".", i)
		}
	}
}

func (v *validator) rolling(c Config) {
	if c.Rolling == nil {
		return
	}
	if b := c.Rolling.BatchPercent; b < 1 || b > 99 {
		v.add(attrChild("rolling", "batch_percent"), "Batch percentage out of range",
			"rolling.batch_percent = %d is outside 1–99: each batch moves that share of the traffic (25 gives 25, 50 and 75 %%, then 100 %%). "+
				"For a single move to 100 %%, use strategy = \"immediate\".", b)
	}
	if c.Rolling.Hold < 0 {
		v.add(attrChild("rolling", "hold"), "Negative hold", "rolling.hold is negative: a hold is a duration such as \"5m\".")
	}
}

func (v *validator) blueGreen(c Config) {
	if bg := c.BlueGreen; bg != nil && bg.AutoPromote && bg.AutoPromoteAfter < 0 {
		v.add(attrChild("blue_green", "auto_promote_after"), "Negative auto_promote_after",
			"blue_green.auto_promote_after is negative: it is how long the preview holds before the switch, such as \"10m\".")
	}
}

func (v *validator) analysis(c Config) {
	a := c.Analysis
	if a == nil {
		return
	}
	if a.Interval < 0 {
		v.add(attrChild("analysis", "interval"), "Negative analysis interval", "analysis.interval is negative: it is the time between checks, such as \"1m\".")
	}
	if a.FailureLimit < 0 {
		v.add(attrChild("analysis", "failure_limit"), "Invalid failure_limit",
			"analysis.failure_limit = %d: it is how many failed checks abort the rollout, 1 or more.", a.FailureLimit)
	}
	switch a.Inconclusive {
	case "", InconclusivePause, InconclusiveFail, InconclusivePass:
	default:
		v.add(attrChild("analysis", "inconclusive"), "Invalid inconclusive policy",
			"analysis.inconclusive = %q: use \"pause\" (keep traffic and check again on the next apply), \"fail\" (treat as failed) or \"pass\" (move on).", a.Inconclusive)
	}
	if m := a.ErrorRate; m != nil {
		if m.Max < 0 || m.Max > 1 {
			v.add(attrChild("analysis", "metric.error_rate.max"), "Error rate out of range",
				"metric \"error_rate\" max = %s is outside 0–1: the error rate is a fraction of requests (0.01 is 1 %%).", formatRate(m.Max))
		}
		v.minRequests("error_rate", m.MinRequests)
	}
	if m := a.P99LatencyMs; m != nil {
		if m.Max <= 0 {
			v.add(attrChild("analysis", "metric.p99_latency_ms.max"), "Invalid latency threshold",
				"metric \"p99_latency_ms\" max = %s: it is the largest passing 99th-percentile wall time in milliseconds, above 0.", formatRate(m.Max))
		}
		v.minRequests("p99_latency_ms", m.MinRequests)
	}
	if p := a.Probe; p != nil {
		if !strings.HasPrefix(p.Path, "/") {
			v.add(attrChild("analysis", "probe.path"), "Invalid probe path", "analysis.probe.path = %q must start with /.", p.Path)
		}
		if p.ExpectStatus != 0 && (p.ExpectStatus < 100 || p.ExpectStatus > 599) {
			v.add(attrChild("analysis", "probe.expect_status"), "Invalid probe status", "analysis.probe.expect_status = %d is not an HTTP status (100–599).", p.ExpectStatus)
		}
	}
}

func (v *validator) minRequests(metric string, n int64) {
	if n < 0 {
		v.add(attrChild("analysis", "metric."+metric+".min_requests"), "Invalid min_requests",
			"metric %q min_requests = %d: it is how many requests of the new version a check needs before it decides, 0 or more.", metric, n)
	}
}

// holds checks that each hold gives the analysis at least one interval.
func (v *validator) holds(c Config) {
	a := c.Analysis
	if a == nil || c.Strategy == StrategyImmediate {
		return
	}
	interval := a.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	short := func(p Path, hold time.Duration) {
		if hold >= 0 && hold < interval {
			v.add(p, "Hold shorter than the analysis interval",
				"%s = %s is shorter than analysis.interval = %s: the step would end before one interval of analytics, and be judged on less data than a single check reads. "+
					"Make the hold at least %s, or shorten analysis.interval.", p, formatDuration(hold), formatDuration(interval), formatDuration(interval))
		}
	}
	switch c.Strategy {
	case StrategyCanary:
		for i, s := range c.Steps {
			short(stepAttr(i, "hold"), s.Hold)
		}
	case StrategyRolling:
		if c.Rolling != nil {
			short(attrChild("rolling", "hold"), c.Rolling.Hold)
		}
	case StrategyBlueGreen:
		if bg := c.BlueGreen; bg != nil && bg.AutoPromote && (a.Probe != nil) {
			short(attrChild("blue_green", "auto_promote_after"), bg.AutoPromoteAfter)
		}
	}
}

func (v *validator) approval(c Config) {
	n := c.ApprovedThroughStep
	if n < 0 {
		v.add(attr("approved_through_step"), "Invalid approved_through_step",
			"approved_through_step = %d is negative: it is the highest step whose manual gate is approved (0 approves none).", n)
		return
	}
	limit := GateableSteps(c)
	if n <= limit {
		return
	}
	switch c.Strategy {
	case StrategyBlueGreen:
		v.add(attr("approved_through_step"), "approved_through_step beyond the steps",
			"approved_through_step = %d, but a blue/green rollout has one gate, the switch (step 1): set approved_through_step = 1 to switch traffic, or 0 to keep previewing.", n)
	case StrategyImmediate:
		v.add(attr("approved_through_step"), "approved_through_step beyond the steps",
			"approved_through_step = %d, but strategy = \"immediate\" has no gates: remove approved_through_step (or set it to 0).", n)
	default:
		v.add(attr("approved_through_step"), "approved_through_step beyond the steps",
			"approved_through_step = %d, but there are only %d steps: it can approve at most step %d. Set it to the step whose gate you approve.", n, limit, limit)
	}
}

func (v *validator) durations(c Config) {
	if c.MaxApplyDuration < 0 {
		v.add(attr("max_apply_duration"), "Negative max_apply_duration",
			"max_apply_duration is negative: it is how long one apply may hold, such as \"30m\"; the next apply continues where it stopped.")
	}
	switch c.OnFailure {
	case "", OnFailureRollback, OnFailurePause:
	default:
		v.add(attr("on_failure"), "Invalid on_failure",
			"on_failure = %q: use \"rollback\" (all traffic back to the stable version) or \"pause\" (leave traffic where it is for someone to look).", c.OnFailure)
	}
}

func (v *validator) migration(c Config, migration string) {
	if migration == "" || c.Strategy == StrategyImmediate {
		return
	}
	v.add(attr("strategy"), "Durable Object migration needs an immediate rollout",
		"version_id needs a Durable Object migration (%s), and strategy is %q. Cloudflare applies migrations to every object at once, so a version with a migration "+
			"cannot share traffic with the version before it. Ship this version with strategy = \"immediate\" (one step to 100 %%), "+
			"then set the strategy back for the next change; keep migrations in changes of their own.", migration, c.Strategy)
}

func (v *validator) service(in ValidationInput) {
	if in.ServiceRollout != "immediate" {
		return
	}
	name := "the service"
	if in.Service != "" {
		name = fmt.Sprintf("service %q", in.Service)
	}
	v.add(attr("service"), "Service deploys its own versions",
		"%s has rollout = \"immediate\": every code change it applies already deploys at 100 %%, so this deployment has no version to roll out and would fight the service over traffic. "+
			"Set rollout = \"managed\" on the servicesdo_service: it then uploads each new version (latest_version_id) without moving traffic, and this resource moves the traffic.", name)
}

func (v *validator) webhook(raw string) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		v.add(attrChild("notify", "webhook_url"), "Invalid webhook URL",
			"notify.webhook_url = %q is not an absolute http(s) URL: use https://host/path.", raw)
		return
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		v.add(attrChild("notify", "webhook_url"), "Webhook URL must use https",
			"notify.webhook_url = %q uses http: rollout events (and their signature) would cross the network in clear text. "+
				"Use an https:// URL; plain http is allowed only for loopback (localhost, 127.0.0.1, [::1]) for local testing.", raw)
	}
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (v *validator) versions(versions []string) {
	seen := map[string]bool{}
	var distinct []string
	for _, id := range versions {
		if id != "" && !seen[id] {
			seen[id] = true
			distinct = append(distinct, id)
		}
	}
	if len(distinct) > MaxVersions {
		v.add(attr("version_id"), "Too many versions for one deployment",
			"this configuration needs %d versions in one deployment (%s), and a Workers deployment holds at most %d. "+
				"Let the rollout in flight finish, or set version_id to the stable version to roll back, before adding another version.",
			len(distinct), strings.Join(distinct, ", "), MaxVersions)
	}
}
