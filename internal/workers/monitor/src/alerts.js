// Alert rules over the analytics windows: the value of each alert's metric, whether its
// condition holds, and the webhook payloads (README.md, "Alerts" — the documented shapes).
import { holds } from "./condition.js";

export const PAYLOAD_VERSION = 1;

// measure computes an alert's metric from its service's row of its window. error_rate and
// p99_latency_ms need min_requests requests; with fewer the value is null ("no data") and the
// condition does not hold. requests is always measured (0 when the service had no traffic).
export function measure(alert, row) {
  const requests = row?.requests ?? 0;
  const errors = row?.errors ?? 0;
  const enough = requests > 0 && requests >= alert.minRequests;
  const observed = {
    requests,
    errors,
    error_rate: enough ? errors / requests : null,
    p99_latency_ms: enough ? (row?.p99_latency_ms ?? null) : null,
  };
  const value = alert.condition.metric === "requests" ? requests : observed[alert.condition.metric];
  return { value, observed, met: value !== null && holds(alert.condition, value) };
}

// evaluate returns one evaluation per alert for the fetched analytics ({windows, data, end}).
export function evaluate(cfg, analytics) {
  return cfg.alerts.map((alert) => {
    const w = analytics.windows.indexOf(alert.forMs);
    const row = analytics.data[w].get(alert.service);
    return {
      alert: alert.name,
      service: alert.service,
      ...measure(alert, row),
      window: { start: new Date(analytics.end - alert.forMs).toISOString(), end: new Date(analytics.end).toISOString() },
    };
  });
}

// payload builds the webhook body of a transition. incident: {id, started_at, resolved_at}
// (milliseconds); evaluation: the evaluation that caused it.
export function payload(kind, monitor, alert, incident, evaluation) {
  return {
    version: PAYLOAD_VERSION,
    event: kind === "firing" ? "alert.firing" : "alert.resolved",
    monitor,
    alert: alert.name,
    incident_id: incident.id,
    service: alert.service,
    condition: alert.conditionText,
    metric: alert.condition.metric,
    operator: alert.condition.operator,
    threshold: alert.condition.threshold,
    for: alert.forText,
    value: evaluation.value,
    observed: evaluation.observed,
    window: evaluation.window,
    started_at: new Date(incident.started_at).toISOString(),
    resolved_at: incident.resolved_at === null ? null : new Date(incident.resolved_at).toISOString(),
  };
}
