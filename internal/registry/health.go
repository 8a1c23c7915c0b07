package registry

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// Health status values: HealthStatus.Status and HealthSummary.Status.
const (
	// HealthHealthy: the last check passed (the expected status, in time, not reporting a
	// partial failure).
	HealthHealthy = "healthy"
	// HealthDegraded: the service answers, but slowly or reporting a partial failure, or it
	// failed fewer consecutive checks than make it unhealthy.
	HealthDegraded = "degraded"
	// HealthUnhealthy: it failed the configured number of consecutive checks (and has not
	// yet passed enough checks since to recover). Discovery skips it.
	HealthUnhealthy = "unhealthy"
)

// HealthTimeLayout is how a monitor writes last_check: UTC with milliseconds, as
// JavaScript's Date.prototype.toISOString does, e.g. "2026-08-01T12:00:00.000Z".
const HealthTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// MaxHealthReason is the longest reason a health status carries, in characters.
const MaxHealthReason = 256

// HealthStatus is the value document's "health_status": the latest verdict of the monitor
// that probes the service. Terraform never sets it; the monitor writes it by
// read-modify-write of the document and of its KV metadata.
type HealthStatus struct {
	// Status is HealthHealthy, HealthDegraded or HealthUnhealthy.
	Status string `json:"status"`
	// LastCheck is the time of the probe that gave this verdict (RFC 3339, HealthTimeLayout).
	// An unchanged verdict is rewritten at least every heartbeat of the monitor, so an older
	// one is stale (see Summary.Unhealthy).
	LastCheck string `json:"last_check"`
	// LatencyMs is how long the last probe took, to its answer or its failure.
	LatencyMs int64 `json:"latency_ms"`
	// ConsecutiveFailures counts the failed checks since the last passing one.
	ConsecutiveFailures int64 `json:"consecutive_failures"`
	// Reason says why the status is not healthy (absent when healthy).
	Reason string `json:"reason,omitempty"`
	// Monitor names the monitor Worker that wrote the status.
	Monitor string `json:"monitor,omitempty"`
}

// HealthSummary is the part of a HealthStatus kept in the KV metadata: enough for a listing
// to skip unhealthy (or stale) entries.
type HealthSummary struct {
	Status    string `json:"status"`
	LastCheck string `json:"last_check"`
}

// MaxHealthSummary is the largest health summary a monitor writes; summaries without one
// keep room for it (EncodeSummary).
var MaxHealthSummary = HealthSummary{Status: HealthUnhealthy, LastCheck: "2006-01-02T15:04:05.000Z"}

// Summary returns the metadata part of h (nil for nil).
func (h *HealthStatus) Summary() *HealthSummary {
	if h == nil {
		return nil
	}
	return &HealthSummary{Status: h.Status, LastCheck: h.LastCheck}
}

// Unhealthy reports whether a listing should skip the entry of s: its monitor found it
// unhealthy, and said so no longer ago than maxAge before now (a status older than that is
// stale: the monitor stopped writing it, so it proves nothing either way). maxAge 0 trusts
// any age. Entries without a status are never skipped.
func (s Summary) Unhealthy(now time.Time, maxAge time.Duration) bool {
	h := s.HealthStatus
	if h == nil || h.Status != HealthUnhealthy {
		return false
	}
	if maxAge == 0 {
		return true
	}
	at, err := time.Parse(time.RFC3339Nano, h.LastCheck)
	return err == nil && now.Sub(at) <= maxAge
}

func checkHealthState(status string) error {
	switch status {
	case HealthHealthy, HealthDegraded, HealthUnhealthy:
		return nil
	}
	return fmt.Errorf(`health_status status %q must be "healthy", "degraded" or "unhealthy"`, status)
}

func (h HealthStatus) validate() error {
	if err := checkHealthState(h.Status); err != nil {
		return err
	}
	if _, err := time.Parse(time.RFC3339Nano, h.LastCheck); err != nil || !timestampPattern.MatchString(h.LastCheck) {
		return fmt.Errorf(`health_status last_check %q must be an RFC 3339 timestamp such as "2026-08-01T12:00:00.000Z"`, h.LastCheck)
	}
	if h.LatencyMs < 0 {
		return fmt.Errorf("health_status latency_ms %d must not be negative", h.LatencyMs)
	}
	if h.ConsecutiveFailures < 0 {
		return fmt.Errorf("health_status consecutive_failures %d must not be negative", h.ConsecutiveFailures)
	}
	if n := utf8.RuneCountInString(h.Reason); n > MaxHealthReason {
		return fmt.Errorf("health_status reason is %d characters, longer than %d", n, MaxHealthReason)
	}
	return nil
}
