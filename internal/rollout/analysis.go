package rollout

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Result is the outcome of one check.
type Result string

// Check results.
const (
	Pass         Result = "pass"
	Fail         Result = "fail"
	Inconclusive Result = "inconclusive"
)

// Sample is one version's analytics over a check's window: request and error counts as
// Workers analytics counts them, and the 99th percentile of wall time over the whole window
// (query the window as one group: percentiles of minutes cannot be merged).
type Sample struct {
	Requests int64
	Errors   int64
	P99Ms    float64
}

// ProbeResult is one probe sent to the candidate through the version-override header.
type ProbeResult struct {
	Path string
	// Status is the HTTP status received; 0 when no response came (Err says why).
	Status  int
	Err     string
	Latency time.Duration
}

// Evidence is what a resource gathers for one check.
type Evidence struct {
	// Candidate and Stable are the versions' analytics over the window.
	Candidate, Stable Sample
	// CandidatePercent is the candidate's share of traffic. At 0 % (a preview) the metrics
	// are not evaluated: only the probes reach the candidate. Run sets it.
	CandidatePercent float64
	Probes           []ProbeResult
}

// Measurement is one metric or probe of a check, with the numbers it used.
type Measurement struct {
	// Name is "error_rate", "p99_latency_ms" or "probe".
	Name   string
	Result Result
	// Value is the candidate's value; Limit the threshold; Requests and MinRequests the
	// candidate's request count and the count a verdict needs. StableValue is the stable
	// version's value over the same window, for comparison (when it served requests).
	Value, Limit, StableValue float64
	Requests, MinRequests     int64
	HasStable                 bool
	// Text is the measurement in words: "error_rate 0.002 over 412 requests (max 0.01)".
	Text string
}

// Verdict is the outcome of one check and what it was based on.
type Verdict struct {
	Result       Result
	Measurements []Measurement
	// Summary joins the measurements' texts; it is what the apply log and last_analysis show.
	Summary string
}

// Evaluate decides one check: fail when a probe fails or a metric exceeds its maximum;
// otherwise inconclusive when a metric has fewer requests than its min_requests; otherwise
// pass. With nothing to evaluate (no analysis, or a preview without probes) it passes.
func Evaluate(a Analysis, e Evidence) Verdict {
	var ms []Measurement
	if e.CandidatePercent > 0 {
		if m := a.ErrorRate; m != nil {
			ms = append(ms, errorRate(*m, e))
		}
		if m := a.P99LatencyMs; m != nil {
			ms = append(ms, p99(*m, e))
		}
	}
	if a.Probe != nil {
		want := a.Probe.ExpectStatus
		if want == 0 {
			want = 200
		}
		ms = append(ms, probes(a.Probe.Path, want, e.Probes))
	}
	v := Verdict{Result: Pass, Measurements: ms}
	texts := make([]string, 0, len(ms))
	for _, m := range ms {
		texts = append(texts, m.Text)
		switch {
		case m.Result == Fail:
			v.Result = Fail
		case m.Result == Inconclusive && v.Result == Pass:
			v.Result = Inconclusive
		}
	}
	v.Summary = strings.Join(texts, "; ")
	if len(ms) == 0 {
		v.Summary = "no checks apply"
		if e.CandidatePercent == 0 {
			v.Summary = "no checks apply at 0 % (metrics need traffic; configure a probe to check a preview)"
		}
	}
	return v
}

func errorRate(m Metric, e Evidence) Measurement {
	out := Measurement{Name: "error_rate", Limit: m.Max, Requests: e.Candidate.Requests, MinRequests: m.MinRequests}
	if e.Candidate.Requests > 0 {
		out.Value = float64(e.Candidate.Errors) / float64(e.Candidate.Requests)
	}
	if e.Stable.Requests > 0 {
		out.HasStable, out.StableValue = true, float64(e.Stable.Errors)/float64(e.Stable.Requests)
	}
	return judge(out, formatRate)
}

func p99(m Metric, e Evidence) Measurement {
	out := Measurement{Name: "p99_latency_ms", Limit: m.Max, Requests: e.Candidate.Requests, MinRequests: m.MinRequests, Value: e.Candidate.P99Ms}
	if e.Stable.Requests > 0 {
		out.HasStable, out.StableValue = true, e.Stable.P99Ms
	}
	return judge(out, formatMs)
}

// judge decides a metric measurement and writes its text.
func judge(m Measurement, format func(float64) string) Measurement {
	stable := ""
	if m.HasStable {
		stable = ", stable " + format(m.StableValue)
	}
	over := fmt.Sprintf("%s %s over %s", m.Name, format(m.Value), plural(m.Requests, "request"))
	switch {
	case m.Requests == 0 || m.Requests < m.MinRequests:
		m.Result = Inconclusive
		m.Text = fmt.Sprintf("%s: %s, fewer than min_requests %d", m.Name, plural(m.Requests, "request"), m.MinRequests)
	case m.Value > m.Limit:
		m.Result = Fail
		m.Text = fmt.Sprintf("%s exceeds max %s%s", over, format(m.Limit), stable)
	default:
		m.Result = Pass
		m.Text = fmt.Sprintf("%s (max %s%s)", over, format(m.Limit), stable)
	}
	return m
}

func probes(path string, want int, results []ProbeResult) Measurement {
	m := Measurement{Name: "probe", Limit: float64(want), Result: Pass}
	if len(results) == 0 {
		m.Result, m.Text = Inconclusive, fmt.Sprintf("probe GET %s: no result", path)
		return m
	}
	m.Requests = int64(len(results))
	for _, r := range results {
		p := r.Path
		if p == "" {
			p = path
		}
		switch {
		case r.Err != "":
			m.Result, m.Text = Fail, fmt.Sprintf("probe GET %s failed: %s", p, r.Err)
			return m
		case r.Status != want:
			m.Result, m.Value = Fail, float64(r.Status)
			m.Text = fmt.Sprintf("probe GET %s answered %d, expected %d", p, r.Status, want)
			return m
		}
		m.Value = float64(r.Status)
	}
	m.Text = fmt.Sprintf("probe GET %s answered %d", path, want)
	if len(results) > 1 {
		m.Text += fmt.Sprintf(" (%d probes)", len(results))
	}
	return m
}

func formatRate(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) }

func formatMs(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) + " ms" }

func plural(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.FormatInt(n, 10) + " " + word + "s"
}

// Window is the span of analytics one check reads.
type Window struct{ From, To time.Time }

// Empty reports whether the window holds no time (the analytics delay has not passed yet).
func (w Window) Empty() bool { return !w.To.After(w.From) }

// AnalysisWindow is the span a check at now reads for a split set at since: from since to
// now − delay, the part of the analytics that has arrived.
func AnalysisWindow(since, now time.Time, delay time.Duration) Window {
	to := now.Add(-delay)
	if to.Before(since) {
		to = since
	}
	return Window{From: since, To: to}
}
