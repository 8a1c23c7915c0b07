package rollout

import (
	"testing"
	"time"
)

func TestEvaluate(t *testing.T) {
	t.Parallel()
	errRate := &Metric{Max: 0.01, MinRequests: 100}
	latency := &Metric{Max: 500, MinRequests: 100}
	probe := &Probe{Path: "/health", ExpectStatus: 200}
	both := Analysis{ErrorRate: errRate, P99LatencyMs: latency}
	cases := []struct {
		name     string
		analysis Analysis
		evidence Evidence
		want     Result
		summary  string
	}{
		{
			name: "pass with numbers", analysis: Analysis{ErrorRate: errRate},
			evidence: Evidence{CandidatePercent: 25, Candidate: Sample{Requests: 412, Errors: 1}},
			want:     Pass, summary: "error_rate 0.00243 over 412 requests (max 0.01)",
		},
		{
			name: "fail names the threshold and the stable version", analysis: Analysis{ErrorRate: errRate},
			evidence: Evidence{CandidatePercent: 5, Candidate: Sample{Requests: 400, Errors: 20}, Stable: Sample{Requests: 7600, Errors: 8}},
			want:     Fail, summary: "error_rate 0.05 over 400 requests exceeds max 0.01, stable 0.00105",
		},
		{
			name: "exactly at the maximum passes", analysis: Analysis{ErrorRate: errRate},
			evidence: Evidence{CandidatePercent: 5, Candidate: Sample{Requests: 100, Errors: 1}},
			want:     Pass, summary: "error_rate 0.01 over 100 requests (max 0.01)",
		},
		{
			name: "too few requests is inconclusive", analysis: Analysis{ErrorRate: errRate},
			evidence: Evidence{CandidatePercent: 5, Candidate: Sample{Requests: 37, Errors: 30}},
			want:     Inconclusive, summary: "error_rate: 37 requests, fewer than min_requests 100",
		},
		{
			name: "no requests at all is inconclusive even with min_requests 0", analysis: Analysis{ErrorRate: &Metric{Max: 0.01}},
			evidence: Evidence{CandidatePercent: 5},
			want:     Inconclusive, summary: "error_rate: 0 requests, fewer than min_requests 0",
		},
		{
			name: "latency regression", analysis: both,
			evidence: Evidence{CandidatePercent: 25, Candidate: Sample{Requests: 412, P99Ms: 912.4}, Stable: Sample{Requests: 1200, P99Ms: 88}},
			want:     Fail, summary: "error_rate 0 over 412 requests (max 0.01, stable 0); p99_latency_ms 912 ms over 412 requests exceeds max 500 ms, stable 88 ms",
		},
		{
			name: "a failure outranks an inconclusive metric", analysis: Analysis{ErrorRate: errRate, P99LatencyMs: &Metric{Max: 500, MinRequests: 1000}},
			evidence: Evidence{CandidatePercent: 25, Candidate: Sample{Requests: 412, Errors: 100, P99Ms: 100}},
			want:     Fail, summary: "error_rate 0.243 over 412 requests exceeds max 0.01; p99_latency_ms: 412 requests, fewer than min_requests 1000",
		},
		{
			name: "probe passes", analysis: Analysis{Probe: probe},
			evidence: Evidence{CandidatePercent: 25, Probes: []ProbeResult{{Status: 200}, {Status: 200}}},
			want:     Pass, summary: "probe GET /health answered 200 (2 probes)",
		},
		{
			name: "probe with the wrong status fails", analysis: Analysis{Probe: probe},
			evidence: Evidence{CandidatePercent: 25, Probes: []ProbeResult{{Status: 200}, {Path: "/health", Status: 503}}},
			want:     Fail, summary: "probe GET /health answered 503, expected 200",
		},
		{
			name: "probe error fails", analysis: Analysis{Probe: probe},
			evidence: Evidence{CandidatePercent: 25, Probes: []ProbeResult{{Err: "timeout after 5s"}}},
			want:     Fail, summary: "probe GET /health failed: timeout after 5s",
		},
		{
			name: "probe without a result is inconclusive", analysis: Analysis{Probe: probe},
			evidence: Evidence{CandidatePercent: 25},
			want:     Inconclusive, summary: "probe GET /health: no result",
		},
		{
			name: "a preview evaluates only the probe", analysis: Analysis{ErrorRate: errRate, Probe: &Probe{Path: "/ready"}},
			evidence: Evidence{CandidatePercent: 0, Candidate: Sample{Requests: 2, Errors: 2}, Probes: []ProbeResult{{Status: 200}}},
			want:     Pass, summary: "probe GET /ready answered 200",
		},
		{
			name: "a preview without probes has nothing to check", analysis: Analysis{ErrorRate: errRate},
			evidence: Evidence{CandidatePercent: 0},
			want:     Pass, summary: "no checks apply at 0 % (metrics need traffic; configure a probe to check a preview)",
		},
		{
			name: "no analysis", evidence: Evidence{CandidatePercent: 50},
			want: Pass, summary: "no checks apply",
		},
	}
	for _, tc := range cases {
		v := Evaluate(tc.analysis, tc.evidence)
		if v.Result != tc.want || v.Summary != tc.summary {
			t.Errorf("%s: got %s %q, want %s %q", tc.name, v.Result, v.Summary, tc.want, tc.summary)
		}
	}
}

func TestEvaluateKeepsTheNumbers(t *testing.T) {
	t.Parallel()
	v := Evaluate(Analysis{ErrorRate: &Metric{Max: 0.01, MinRequests: 100}},
		Evidence{CandidatePercent: 25, Candidate: Sample{Requests: 412, Errors: 1}, Stable: Sample{Requests: 1236, Errors: 0}})
	m := v.Measurements[0]
	if m.Name != "error_rate" || m.Requests != 412 || m.MinRequests != 100 || m.Limit != 0.01 || !m.HasStable || m.StableValue != 0 || m.Value != 1.0/412 {
		t.Fatalf("measurement = %+v", m)
	}
}

func TestAnalysisWindow(t *testing.T) {
	t.Parallel()
	w := AnalysisWindow(t0, t0.Add(5*time.Minute), 3*time.Minute)
	if !w.From.Equal(t0) || !w.To.Equal(t0.Add(2*time.Minute)) || w.Empty() {
		t.Fatalf("window %+v", w)
	}
	if w := AnalysisWindow(t0, t0.Add(time.Minute), 3*time.Minute); !w.Empty() || !w.To.Equal(t0) {
		t.Fatalf("a window the delay has not reached yet must be empty: %+v", w)
	}
	if w := AnalysisWindow(t0, t0.Add(time.Minute), 0); !w.To.Equal(t0.Add(time.Minute)) {
		t.Fatalf("without delay the window ends now: %+v", w)
	}
}
