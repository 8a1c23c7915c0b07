// Health status: how probe outcomes become healthy / degraded / unhealthy (README.md,
// "Health status"), and when a verdict is worth a registry write.
//
//   a failed probe      consecutive_failures + 1; unhealthy once it reaches `checks` (or while
//                       already unhealthy), degraded before that
//   a passing probe     consecutive_failures = 0; healthy — but an unhealthy service stays
//                       unhealthy until `recovery_checks` probes in a row have passed
//   a slow or partial   counts as passing for the failure count, but the status is degraded
//   probe               (after recovery, like a pass)

export const UNKNOWN = "unknown";
export const MAX_REASON = 256;

export const initialState = () => ({ status: UNKNOWN, consecutive_failures: 0, consecutive_successes: 0, last_check: null, latency_ms: null, http_status: null, reason: null });

const clip = (reason) => (reason === null ? null : [...reason].slice(0, MAX_REASON).join(""));

// nextState applies one probe result to a service's state.
export function nextState(prev, result, service, now) {
  const base = { last_check: now, latency_ms: result.latency_ms, http_status: result.http_status };
  if (result.outcome === "fail") {
    const failures = prev.consecutive_failures + 1;
    const status = failures >= service.checks || prev.status === "unhealthy" ? "unhealthy" : "degraded";
    return { ...base, status, consecutive_failures: failures, consecutive_successes: 0, reason: clip(result.reason) };
  }
  const successes = prev.consecutive_successes + 1;
  if (prev.status === "unhealthy" && successes < service.recoveryChecks) {
    return { ...base, status: "unhealthy", consecutive_failures: 0, consecutive_successes: successes, reason: `recovering: ${successes} of ${service.recoveryChecks} checks passed` };
  }
  const status = result.outcome === "pass" ? "healthy" : "degraded";
  return { ...base, status, consecutive_failures: 0, consecutive_successes: successes, reason: status === "healthy" ? null : clip(result.reason) };
}

// healthStatus is the registry document's health_status for a state (internal/registry's
// HealthStatus): last_check in milliseconds UTC, reason only when there is one.
export function healthStatus(state, monitor) {
  const hs = {
    status: state.status,
    last_check: new Date(state.last_check).toISOString(),
    latency_ms: state.latency_ms,
    consecutive_failures: state.consecutive_failures,
  };
  if (state.reason) hs.reason = state.reason;
  hs.monitor = monitor;
  return hs;
}

// needsWrite decides whether the stored health_status (possibly absent, or another
// monitor's) should be replaced by next: on a change of status, reason or monitor; on a change
// of the failure count while it is still counting towards `checks`; and at least every
// heartbeat, so that a reader can tell a live verdict from one its monitor stopped refreshing.
// Latency alone never causes a write.
export function needsWrite(stored, next, service, heartbeatMs, now) {
  if (!stored || typeof stored !== "object") return true;
  if (stored.status !== next.status || (stored.reason ?? null) !== (next.reason ?? null) || stored.monitor !== next.monitor) return true;
  if (stored.consecutive_failures !== next.consecutive_failures && next.consecutive_failures <= service.checks) return true;
  const at = Date.parse(stored.last_check);
  return !(now - at < heartbeatMs);
}
