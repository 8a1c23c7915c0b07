package workers

import (
	"crypto/sha256"
	_ "embed" // the monitor Worker bundle
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/lazyregexp"
	"github.com/dot-do/terraform-provider-servicesdo/internal/registry"
)

// MonitorModule is the monitor program (monitor/src, bundled by build.mjs): one ES module with a
// scheduled handler, GET /status and POST /__run, exporting the Durable Object class
// MonitorStateClass. monitor/README.md documents the configuration, the bindings, the health
// status rules, the registry writes and the webhook payloads.
//
//go:embed monitor/dist/worker.js
var MonitorModule string

// Names the monitor program and the provider agree on.
const (
	MonitorMainModule = "worker.js"
	// MonitorConfigVersion is the configuration version the embedded program reads.
	MonitorConfigVersion = 1

	// MonitorConfigBinding is the JSON binding holding MonitorConfig.
	MonitorConfigBinding = "MONITOR_CONFIG"
	// MonitorStateBinding binds MonitorStateClass, a SQLite-backed Durable Object class of the
	// monitor script itself (a new_sqlite_classes migration).
	MonitorStateBinding = "MONITOR_STATE"
	MonitorStateClass   = "MonitorState"
	// MonitorRegistryBinding is the registry KV namespace, needed when a service lists registry
	// entries.
	MonitorRegistryBinding = "REGISTRY"
	// MonitorAnalyticsTokenBinding is the secret holding an API token with Account Analytics
	// Read, needed when there are alerts.
	MonitorAnalyticsTokenBinding = "ANALYTICS_TOKEN"
	// MonitorTokenBinding is the optional secret guarding GET /status and enabling POST /__run.
	MonitorTokenBinding = "MONITOR_TOKEN"

	// MonitorCron is the monitor's cron trigger: every minute; each service's interval picks
	// the ticks that probe it.
	MonitorCron = "* * * * *"
	// MonitorMinCompatibilityDate is the oldest compatibility date the program runs on (it
	// calls its Durable Object over RPC).
	MonitorMinCompatibilityDate = "2024-04-03"
)

// Defaults the program applies to fields left out.
const (
	MonitorDefaultInterval       = "1m"
	MonitorDefaultHeartbeat      = "10m"
	MonitorDefaultAPIBase        = "https://api.cloudflare.com/client/v4"
	MonitorDefaultPath           = "/health"
	MonitorDefaultTimeout        = "5s"
	MonitorDefaultChecks         = 3
	MonitorDefaultRecoveryChecks = 1
	MonitorDefaultMinRequests    = 1
)

// Limits shared with the program (monitor/src/config.js).
const (
	MonitorMaxServices        = 100
	MonitorMaxAlerts          = 100
	MonitorMaxRegistryEntries = 10
	MonitorMaxChecks          = 10
	monitorMinTimeout         = 100 * time.Millisecond
	monitorMaxTimeout         = 30 * time.Second
	monitorMinInterval        = time.Minute
	monitorMaxInterval        = 24 * time.Hour
	monitorMaxPath            = 1024
	monitorMaxMinRequests     = 1_000_000_000
)

// MonitorConfig is the JSON configuration of one monitor (MonitorConfigBinding). Durations are
// strings in the servicesdo grammar (ParseMonitorDuration).
type MonitorConfig struct {
	Version   int              `json:"version"`
	Name      string           `json:"name"`
	Interval  string           `json:"interval,omitempty"`
	Heartbeat string           `json:"heartbeat,omitempty"`
	AccountID string           `json:"account_id,omitempty"`
	APIBase   string           `json:"api_base,omitempty"`
	Services  []MonitorService `json:"services,omitempty"`
	Alerts    []MonitorAlert   `json:"alerts,omitempty"`
}

// MonitorService is one probed service. Nil pointers and empty strings take the defaults.
type MonitorService struct {
	Name            string                 `json:"name"`
	Binding         string                 `json:"binding"`
	Path            string                 `json:"path,omitempty"`
	ExpectStatus    int                    `json:"expect_status,omitempty"`
	Timeout         string                 `json:"timeout,omitempty"`
	DegradedLatency string                 `json:"degraded_latency,omitempty"`
	Interval        string                 `json:"interval,omitempty"`
	Checks          *int                   `json:"checks,omitempty"`
	RecoveryChecks  *int                   `json:"recovery_checks,omitempty"`
	Registry        []MonitorRegistryEntry `json:"registry,omitempty"`
}

// MonitorRegistryEntry names a registry entry that records the service's health.
type MonitorRegistryEntry struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// MonitorAlert is one alert rule over the analytics of Service.
type MonitorAlert struct {
	Name          string `json:"name"`
	Service       string `json:"service"`
	Condition     string `json:"condition"`
	For           string `json:"for"`
	MinRequests   *int   `json:"min_requests,omitempty"`
	WebhookURL    string `json:"webhook_url,omitempty"`
	WebhookSecret string `json:"webhook_secret,omitempty"`
}

// ParseMonitorConfig decodes configuration JSON, refusing unknown fields.
func ParseMonitorConfig(data []byte) (MonitorConfig, error) {
	return decodeConfigStrict[MonitorConfig](data, "monitor configuration")
}

// MonitorServiceBinding is the service binding name the provider gives a probed service:
// "users-api" → "SERVICE_USERS_API".
func MonitorServiceBinding(service string) string {
	return "SERVICE_" + strings.ToUpper(strings.ReplaceAll(service, "-", "_"))
}

// MonitorAlertWebhookBinding is the secret binding that holds the webhook URL of an alert whose
// URL is secret: "ALERT_WEBHOOK_" and the first 12 hex digits of the SHA-256 of the alert's name
// (alert names may hold "." and "-", which binding names cannot, and must not collide).
func MonitorAlertWebhookBinding(alert string) string {
	sum := sha256.Sum256([]byte(alert))
	return "ALERT_WEBHOOK_" + strings.ToUpper(hex.EncodeToString(sum[:6]))
}

// Durations: one or more <whole number><unit> terms, units ms, s, m, h and d.

var (
	monitorDurationWhole = lazyregexp.New(`^(?:[0-9]{1,12}(?:ms|s|m|h|d))+$`)
	monitorDurationTerm  = lazyregexp.New(`([0-9]{1,12})(ms|s|m|h|d)`)
	monitorUnit          = map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}
)

// ParseMonitorDuration parses a configuration duration ("500ms", "30s", "5m", "1h30m") as the
// program does (monitor/src/duration.js).
func ParseMonitorDuration(text string) (time.Duration, error) {
	if !monitorDurationWhole.MatchString(text) {
		return 0, errors.New(quoteJSON(text) + ` is not a duration: write whole numbers with units ms, s, m, h or d, e.g. "30s", "5m" or "1h30m"`)
	}
	var total time.Duration
	for _, m := range monitorDurationTerm.FindAllStringSubmatch(text, -1) {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		total += time.Duration(n) * monitorUnit[m[2]]
	}
	return total, nil
}

// Alert conditions.

// Alert condition metrics and operators.
var (
	AlertMetrics   = []string{"error_rate", "p99_latency_ms", "requests"}
	AlertOperators = []string{">", ">=", "<", "<="}
)

// AlertCondition is a parsed condition: Metric Operator Threshold.
type AlertCondition struct {
	Metric    string
	Operator  string
	Threshold float64
}

// Holds reports whether a metric value satisfies the condition.
func (c AlertCondition) Holds(value float64) bool {
	switch c.Operator {
	case ">":
		return value > c.Threshold
	case ">=":
		return value >= c.Threshold
	case "<":
		return value < c.Threshold
	case "<=":
		return value <= c.Threshold
	}
	return false
}

// ConditionError is a refused condition: Column (1-based, in characters) points at the problem.
// Its Error is the program's message, the condition and a caret under the column.
type ConditionError struct {
	Text   string
	Column int
	Reason string
}

func (e *ConditionError) Error() string {
	return fmt.Sprintf("condition %s, column %d: %s\n  %s\n  %s^", quoteJSON(e.Text), e.Column, e.Reason, e.Text, strings.Repeat(" ", e.Column-1))
}

const (
	alertMetricList   = "error_rate, p99_latency_ms or requests"
	alertOperatorList = ">, >=, < or <="
)

func isConditionSpace(c rune) bool { return c == ' ' || c == '\t' }
func isConditionDigit(c rune) bool { return c >= '0' && c <= '9' }
func isConditionNameStart(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

// alertPercentAsFraction rewrites a number written as a percentage as a fraction, on the digits
// as the program does: "5" → "0.05", "7.5" → "0.075".
func alertPercentAsFraction(number string) string {
	intPart, frac, _ := strings.Cut(number, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		digits = "0"
	}
	point := len(digits) - len(frac) - 2
	var whole, fraction string
	if point <= 0 {
		whole = "0"
		fraction = strings.TrimRight(strings.Repeat("0", -point)+digits, "0")
	} else {
		whole = strings.TrimLeft(digits[:point], "0")
		if whole == "" {
			whole = "0"
		}
		fraction = strings.TrimRight(digits[point:], "0")
	}
	if fraction == "" {
		return whole
	}
	return whole + "." + fraction
}

// ParseAlertCondition parses "<metric> <operator> <number>" as the program does
// (monitor/src/condition.js), refusing conditions that can never hold or always hold.
func ParseAlertCondition(text string) (AlertCondition, error) {
	c := []rune(text)
	i := 0
	fail := func(at int, format string, args ...any) (AlertCondition, error) {
		return AlertCondition{}, &ConditionError{Text: text, Column: at + 1, Reason: fmt.Sprintf(format, args...)}
	}
	at := func(k int) rune {
		if k < len(c) {
			return c[k]
		}
		return 0
	}
	describe := func(r []rune) string { return quoteJSON(string(r)) }
	skip := func() {
		for i < len(c) && isConditionSpace(c[i]) {
			i++
		}
	}

	skip()
	if i == len(c) {
		return fail(i, `the condition is empty: write <metric> <operator> <number>, e.g. "error_rate > 0.05"`)
	}
	if !isConditionNameStart(c[i]) {
		return fail(i, "expected a metric (%s), found %s", alertMetricList, describe(c[i:i+1]))
	}
	metricAt := i
	for i < len(c) && (isConditionNameStart(c[i]) || isConditionDigit(c[i])) {
		i++
	}
	metric := string(c[metricAt:i])
	known := false
	for _, m := range AlertMetrics {
		known = known || m == metric
	}
	if !known {
		return fail(metricAt, "unknown metric %s: use %s", quoteJSON(metric), alertMetricList)
	}

	skip()
	if i == len(c) {
		return fail(i, "expected an operator (%s) after %s", alertOperatorList, metric)
	}
	opAt := i
	var operator string
	switch {
	case c[i] == '>' || c[i] == '<':
		operator = string(c[i])
		if at(i+1) == '=' {
			operator += "="
		}
		i += len(operator)
	case c[i] == '=' && (at(i+1) == '>' || at(i+1) == '<'):
		return fail(opAt, "operator %s is written %c=", describe(c[i:i+2]), c[i+1])
	case c[i] == '=' || c[i] == '!':
		op := string(c[i])
		if at(i+1) == '=' {
			op += "="
		}
		return fail(opAt, "operator %s is not supported: use %s", quoteJSON(op), alertOperatorList)
	case c[i] == '≥':
		return fail(opAt, `"≥" is not an operator here: write >=`)
	case c[i] == '≤':
		return fail(opAt, `"≤" is not an operator here: write <=`)
	default:
		return fail(opAt, "expected an operator (%s), found %s", alertOperatorList, describe(c[i:i+1]))
	}

	skip()
	if i == len(c) {
		return fail(i, "expected a number after %s", operator)
	}
	numAt := i
	if !isConditionDigit(c[i]) {
		switch {
		case c[i] == '-':
			return fail(i, `expected a number, found "-": metrics are never negative`)
		case c[i] == '.' && isConditionDigit(at(i+1)):
			return fail(i, `write a digit before the ".", as in 0%s`, string(c[i:i+2]))
		}
		return fail(i, "expected a number, found %s", describe(c[i:i+1]))
	}
	for i < len(c) && isConditionDigit(c[i]) {
		i++
	}
	if at(i) == '.' {
		i++
		if !isConditionDigit(at(i)) {
			return fail(i, `expected a digit after "."`)
		}
		for i < len(c) && isConditionDigit(c[i]) {
			i++
		}
	}
	number := string(c[numAt:i])
	if at(i) == '%' {
		if metric == "error_rate" {
			return fail(i, `"%%" is not needed: error_rate is a fraction from 0 to 1, so %s%% is written %s`, number, alertPercentAsFraction(number))
		}
		return fail(i, `"%%" is not allowed after a %s threshold`, metric)
	}
	if i < len(c) && !isConditionSpace(c[i]) {
		return fail(i, "expected the end of the number, found %s", describe(c[i:i+1]))
	}
	skip()
	if i < len(c) {
		rest := string(c[i:])
		if rest == "for" || strings.HasPrefix(rest, "for") && !isConditionNameStart(at(i+3)) && !isConditionDigit(at(i+3)) {
			window := strings.TrimSpace(rest[3:])
			if window == "" {
				window = "5m"
			}
			return fail(i, "the window is not part of the condition: remove %s and set the alert's for = %s", quoteJSON(rest), quoteJSON(window))
		}
		return fail(i, "unexpected %s after the threshold: a condition is <metric> <operator> <number>", quoteJSON(rest))
	}

	threshold, _ := strconv.ParseFloat(number, 64)
	if metric == "requests" && threshold != float64(int64(threshold)) {
		whole, _, _ := strings.Cut(number, ".")
		return fail(numAt, "requests is a count: use a whole number such as %s", whole)
	}
	if metric == "error_rate" && threshold > 1 {
		return fail(numAt, "error_rate is a fraction from 0 to 1, so it is never above %s: for %s%% write %s", number, number, alertPercentAsFraction(number))
	}
	bounded := metric == "error_rate" // its largest value is 1
	never := operator == ">" && bounded && threshold >= 1 || operator == "<" && threshold == 0
	always := operator == ">=" && threshold == 0 || operator == "<=" && bounded && threshold >= 1
	if never {
		return fail(numAt, "%s %s %s can never hold, so the alert would never fire", metric, operator, number)
	}
	if always {
		return fail(numAt, "%s %s %s always holds, so the alert would never resolve", metric, operator, number)
	}
	return AlertCondition{Metric: metric, Operator: operator, Threshold: threshold}, nil
}

// Validation.

var (
	monitorWorkerName = lazyregexp.New(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	monitorAlertName  = lazyregexp.New(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	monitorAccountID  = lazyregexp.New(`^[0-9a-f]{32}$`)
)

var monitorReservedBindings = map[string]bool{
	MonitorConfigBinding: true, MonitorStateBinding: true, MonitorRegistryBinding: true,
	MonitorAnalyticsTokenBinding: true, MonitorTokenBinding: true,
}

// monitorValidator collects problems; the durations it parsed are kept for cross-checks.
type monitorValidator struct {
	ps configProblems
}

func (v *monitorValidator) add(message string, path ...any) { v.ps.add(message, path...) }

// duration parses an optional duration (empty: dflt), reporting a problem when it does not parse.
func (v *monitorValidator) duration(text, dflt string, path ...any) (time.Duration, bool) {
	if text == "" {
		text = dflt
	}
	if text == "" {
		v.add(`is missing: set a duration such as "5m"`, path...)
		return 0, false
	}
	d, err := ParseMonitorDuration(text)
	if err != nil {
		v.add(err.Error(), path...)
		return 0, false
	}
	return d, true
}

// minutes parses a whole-minutes duration between 1m and 1d.
func (v *monitorValidator) minutes(text, dflt string, path ...any) (time.Duration, bool) {
	d, ok := v.duration(text, dflt, path...)
	if !ok {
		return 0, false
	}
	if d%time.Minute != 0 || d < monitorMinInterval || d > monitorMaxInterval {
		if text == "" {
			text = dflt
		}
		v.add(fmt.Sprintf(`%s must be a whole number of minutes from 1m to 1d: the monitor's cron trigger fires once a minute, so use e.g. "1m" or "5m"`, quoteJSON(text)), path...)
		return 0, false
	}
	return d, true
}

func (v *monitorValidator) binding(name string, path ...any) bool {
	switch {
	case !workerBindingName.MatchString(name):
		v.add(fmt.Sprintf(`%s is not a binding name: use letters, digits and "_", not starting with a digit, at most 64`, quoteJSON(name)), path...)
	case monitorReservedBindings[name]:
		v.add(name+" is a binding the monitor itself uses: choose another name", path...)
	default:
		return true
	}
	return false
}

func (v *monitorValidator) count(p *int, lo, hi int, what string, path ...any) {
	if p != nil && (*p < lo || *p > hi) {
		v.add(fmt.Sprintf("is %d: %s, from %d to %d", *p, what, lo, hi), path...)
	}
}

func (v *monitorValidator) httpURL(u string, path ...any) {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || strings.ContainsAny(u, " \t\r\n") {
		v.add(fmt.Sprintf(`%s is not an absolute http(s) URL such as "https://hooks.example.com/alerts"`, quoteJSON(u)), path...)
	}
}

// ValidateMonitorConfig checks a configuration at plan time and returns every problem, in field
// order. It knows nothing of the services themselves (the resource checks that they exist).
func ValidateMonitorConfig(cfg MonitorConfig) []ConfigProblem {
	v := &monitorValidator{}
	if cfg.Version != MonitorConfigVersion {
		v.add(fmt.Sprintf("is %d, but the embedded monitor program reads version %d", cfg.Version, MonitorConfigVersion), "version")
	}
	if !monitorWorkerName.MatchString(cfg.Name) {
		v.add(fmt.Sprintf(`%s is not a Worker name: use 1 to 63 lower-case letters, digits and "-", not starting or ending with "-"`, quoteJSON(cfg.Name)), "name")
	}
	interval, intervalOK := v.minutes(cfg.Interval, MonitorDefaultInterval, "interval")
	if hb, ok := v.duration(cfg.Heartbeat, MonitorDefaultHeartbeat, "heartbeat"); ok && intervalOK && (hb < interval || hb > monitorMaxInterval) {
		v.add(fmt.Sprintf(`%s must be from the monitor's interval (%s) to 1d: the heartbeat is the longest time between two registry writes of an unchanged verdict`, quoteJSON(orMonitorDefault(cfg.Heartbeat, MonitorDefaultHeartbeat)), orMonitorDefault(cfg.Interval, MonitorDefaultInterval)), "heartbeat")
	}
	if len(cfg.Services) == 0 && len(cfg.Alerts) == 0 {
		v.add("a monitor needs at least one service to probe or alert to evaluate", "services")
	}
	if n := len(cfg.Services); n > MonitorMaxServices {
		v.add(fmt.Sprintf("lists %d services, more than the %d one monitor probes: split them over several monitors", n, MonitorMaxServices), "services")
	}
	intervals := map[string]time.Duration{}
	names := map[string]int{}
	bindings := map[string]int{}
	entries := map[string]int{}
	for i, s := range cfg.Services {
		if !monitorWorkerName.MatchString(s.Name) {
			v.add(fmt.Sprintf(`%s is not a Worker name: use 1 to 63 lower-case letters, digits and "-", not starting or ending with "-"`, quoteJSON(s.Name)), "services", i, "name")
		} else if j, dup := names[s.Name]; dup {
			v.add(fmt.Sprintf("%s is also services[%d]: list each service once", quoteJSON(s.Name), j), "services", i, "name")
		} else {
			names[s.Name] = i
		}
		if v.binding(s.Binding, "services", i, "binding") {
			if j, dup := bindings[s.Binding]; dup {
				v.add(fmt.Sprintf("%s is also the binding of services[%d]: each service has its own binding", s.Binding, j), "services", i, "binding")
			} else {
				bindings[s.Binding] = i
			}
		}
		if p := orMonitorDefault(s.Path, MonitorDefaultPath); !strings.HasPrefix(p, "/") || strings.ContainsAny(p, " \t\r\n#") || len(p) > monitorMaxPath {
			v.add(fmt.Sprintf(`%s must be a path starting with "/", without spaces or "#", such as "/health"`, quoteJSON(p)), "services", i, "path")
		}
		if s.ExpectStatus != 0 && (s.ExpectStatus < 100 || s.ExpectStatus > 599) {
			v.add(fmt.Sprintf("is %d: use an HTTP status from 100 to 599, or leave it out to accept any 2xx", s.ExpectStatus), "services", i, "expect_status")
		}
		timeout, timeoutOK := v.duration(s.Timeout, MonitorDefaultTimeout, "services", i, "timeout")
		if timeoutOK && (timeout < monitorMinTimeout || timeout > monitorMaxTimeout) {
			v.add(fmt.Sprintf("%s must be from 100ms to 30s", quoteJSON(orMonitorDefault(s.Timeout, MonitorDefaultTimeout))), "services", i, "timeout")
			timeoutOK = false
		}
		if s.DegradedLatency != "" {
			if d, ok := v.duration(s.DegradedLatency, "", "services", i, "degraded_latency"); ok && timeoutOK && (d <= 0 || d >= timeout) {
				v.add(fmt.Sprintf("%s must be above 0 and below the timeout (%s): a probe slower than it but within the timeout is degraded", quoteJSON(s.DegradedLatency), orMonitorDefault(s.Timeout, MonitorDefaultTimeout)), "services", i, "degraded_latency")
			}
		}
		if d, ok := v.minutes(s.Interval, orMonitorDefault(cfg.Interval, MonitorDefaultInterval), "services", i, "interval"); ok {
			intervals[s.Name] = d
		}
		v.count(s.Checks, 1, MonitorMaxChecks, "the number of consecutive failed probes that make the service unhealthy", "services", i, "checks")
		v.count(s.RecoveryChecks, 1, MonitorMaxChecks, "the number of consecutive passing probes that make an unhealthy service recover", "services", i, "recovery_checks")
		if n := len(s.Registry); n > MonitorMaxRegistryEntries {
			v.add(fmt.Sprintf("lists %d entries, more than %d", n, MonitorMaxRegistryEntries), "services", i, "registry")
		}
		for r, e := range s.Registry {
			if err := registry.CheckName(e.Name); err != nil {
				v.add(err.Error(), "services", i, "registry", r, "name")
				continue
			}
			if ver, err := registry.ParseVersion(e.Version); err != nil || ver.String() != e.Version {
				v.add(fmt.Sprintf(`%s is not a semantic version as the registry writes it: use MAJOR.MINOR.PATCH without a leading "v", such as "1.2.0"`, quoteJSON(e.Version)), "services", i, "registry", r, "version")
				continue
			}
			key := registry.Key(e.Name, e.Version)
			if j, dup := entries[key]; dup {
				v.add(fmt.Sprintf("%s is also recorded by services[%d]: one service owns an entry's health, or their verdicts would overwrite each other", key, j), "services", i, "registry", r)
			} else {
				entries[key] = i
			}
		}
	}

	if n := len(cfg.Alerts); n > MonitorMaxAlerts {
		v.add(fmt.Sprintf("lists %d alerts, more than %d", n, MonitorMaxAlerts), "alerts")
	}
	alertNames := map[string]int{}
	for i, a := range cfg.Alerts {
		if !monitorAlertName.MatchString(a.Name) {
			v.add(fmt.Sprintf(`%s is not an alert name: use letters, digits, "_", "." and "-", starting with a letter or digit, at most 64`, quoteJSON(a.Name)), "alerts", i, "name")
		} else if j, dup := alertNames[a.Name]; dup {
			v.add(fmt.Sprintf("%s is also alerts[%d]: give each alert its own name", quoteJSON(a.Name), j), "alerts", i, "name")
		} else {
			alertNames[a.Name] = i
		}
		if !monitorWorkerName.MatchString(a.Service) {
			v.add(fmt.Sprintf("%s is not a Worker name: name the service whose analytics the alert reads", quoteJSON(a.Service)), "alerts", i, "service")
		}
		cond, err := ParseAlertCondition(a.Condition)
		if err != nil {
			v.add(err.Error(), "alerts", i, "condition")
		}
		if window, ok := v.minutes(a.For, "", "alerts", i, "for"); ok {
			switch probe, probed := intervals[a.Service]; {
			case intervalOK && window < interval:
				v.add(fmt.Sprintf(`%s is shorter than the monitor's interval (%s): the window must cover the time between two evaluations; use for = %s or longer`, quoteJSON(a.For), orMonitorDefault(cfg.Interval, MonitorDefaultInterval), quoteJSON(orMonitorDefault(cfg.Interval, MonitorDefaultInterval))), "alerts", i, "for")
			case probed && window < probe:
				v.add(fmt.Sprintf(`%s is shorter than the probe interval of %s (%s): use for = %s or longer`, quoteJSON(a.For), a.Service, formatMonitorDuration(probe), quoteJSON(formatMonitorDuration(probe))), "alerts", i, "for")
			}
		}
		if a.MinRequests != nil {
			if err == nil && cond.Metric == "requests" {
				v.add("applies to error_rate and p99_latency_ms conditions only: remove it (a requests condition counts every request)", "alerts", i, "min_requests")
			} else {
				v.count(a.MinRequests, 1, monitorMaxMinRequests, "the fewest requests in the window for the error rate or latency to count", "alerts", i, "min_requests")
			}
		}
		switch {
		case (a.WebhookURL == "") == (a.WebhookSecret == ""):
			v.add("set exactly one of webhook_url and webhook_secret (a secret binding holding the URL, for URLs that embed a token)", "alerts", i, "webhook_url")
		case a.WebhookURL != "":
			v.httpURL(a.WebhookURL, "alerts", i, "webhook_url")
		default:
			v.binding(a.WebhookSecret, "alerts", i, "webhook_secret")
		}
	}
	if len(cfg.Alerts) > 0 {
		if !monitorAccountID.MatchString(cfg.AccountID) {
			v.add(fmt.Sprintf("%s must be the 32-character hex id of the account whose analytics the alerts read", quoteJSON(cfg.AccountID)), "account_id")
		}
		if cfg.APIBase != "" {
			v.httpURL(cfg.APIBase, "api_base")
		}
	}
	if out, err := json.Marshal(cfg); err == nil && len(out) > workerMaxJSONBinding {
		v.add(fmt.Sprintf("the monitor configuration takes %d bytes, more than one Workers JSON binding holds (%d bytes): split the services and alerts over several monitors", len(out), workerMaxJSONBinding), "services")
	}
	return v.ps
}

func orMonitorDefault(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}

// formatMonitorDuration writes a duration in the configuration grammar ("5m", "1h30m").
func formatMonitorDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range []struct {
		unit string
		size time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}, {"ms", time.Millisecond}} {
		if d >= u.size {
			fmt.Fprintf(&b, "%d%s", d/u.size, u.unit)
			d %= u.size
		}
	}
	return b.String()
}
