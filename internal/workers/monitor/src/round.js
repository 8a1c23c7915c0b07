// One monitor round (a cron tick, or POST /__run):
//   1. claim: which services' interval windows this tick opens, and whether alerts are due
//   2. probe the due services, in parallel, through their service bindings
//   3. apply the results to their health state (MonitorState)
//   4. record each service's health in its registry entries (read-modify-write, only when
//      the verdict changed or the heartbeat is due)
//   5. evaluate the alerts over the analytics (one GraphQL query), opening and resolving
//      incidents in MonitorState
//   6. deliver pending webhook notifications (each incident's in order), then record the round
// Every step's failure is contained: an unreachable registry or analytics API is reported in
// the round's summary and /status, and never stops the other steps.
import { BINDINGS } from "./config.js";
import { STATE_OBJECT_NAME } from "./state.js";
import { probe } from "./probe.js";
import { healthStatus, needsWrite } from "./health.js";
import { recordHealth } from "./registry.js";
import { fetchAnalytics, AnalyticsError } from "./analytics.js";
import { evaluate } from "./alerts.js";

export const WEBHOOK_TIMEOUT_MS = 10_000;

export function stateStub(env) {
  const ns = env[BINDINGS.state];
  return ns.get(ns.idFromName(STATE_OBJECT_NAME));
}

// deliver posts each pending notification to its webhook. Notifications of one incident go in
// order, and a failure holds back the incident's later ones (a "resolved" never overtakes its
// "firing"); different incidents go in parallel.
async function deliver(notifications, env, ops) {
  const byIncident = new Map();
  for (const n of notifications) {
    if (!byIncident.has(n.incident_id)) byIncident.set(n.incident_id, []);
    byIncident.get(n.incident_id).push(n);
  }
  const results = [];
  await Promise.all(
    [...byIncident.values()].map(async (chain) => {
      for (const n of chain) {
        const url = n.webhook.url ?? env[n.webhook.secret];
        let ok = false;
        let error = null;
        try {
          ops.webhooks++;
          const res = await fetch(url, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              "user-agent": "servicesdo-monitor/1",
              "x-servicesdo-event": n.kind === "firing" ? "alert.firing" : "alert.resolved",
              "idempotency-key": `${n.incident_id}:${n.kind}`,
            },
            body: n.payload,
            redirect: "manual",
            signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
          });
          await res.body?.cancel();
          ok = res.status >= 200 && res.status <= 299;
          if (!ok) error = `webhook answered ${res.status}`;
        } catch (err) {
          error = `webhook failed: ${String(err?.message ?? err).slice(0, 200)}`;
        }
        results.push({ seq: n.seq, ok, error });
        if (!ok) break;
      }
    }),
  );
  return results;
}

// runRound runs one round at now (milliseconds) and returns its summary.
export async function runRound(env, cfg, now, { force = false } = {}) {
  const started = Date.now();
  const ops = { probes: 0, kv_reads: 0, kv_writes: 0, durable_object: 0, analytics: 0, webhooks: 0 };
  const state = stateStub(env);

  ops.durable_object++;
  const { due, alertsDue } = await state.claim(now, force);
  const services = cfg.services.filter((s) => due.includes(s.name));

  const results = await Promise.all(
    services.map(async (s) => {
      ops.probes++;
      return { name: s.name, ...(await probe(s, env)) };
    }),
  );
  let states = {};
  if (results.length > 0) {
    ops.durable_object++;
    states = await state.recordProbes(now, results);
  }

  const registry = {};
  await Promise.all(
    services.map(async (s) => {
      const st = states[s.name];
      if (!st || s.registry.length === 0) return;
      const next = healthStatus(st, cfg.name);
      const out = [];
      for (const key of s.registry) out.push(await recordHealth(env[BINDINGS.registry], key, next, (stored) => needsWrite(stored, next, s, cfg.heartbeatMs, now), ops));
      registry[s.name] = out;
    }),
  );

  let notifications;
  let analyticsError = null;
  ops.durable_object++;
  if (alertsDue) {
    let evaluations = null;
    try {
      ops.analytics++;
      evaluations = evaluate(cfg, await fetchAnalytics(cfg, env[BINDINGS.analyticsToken], now));
    } catch (err) {
      if (!(err instanceof AnalyticsError)) throw err;
      analyticsError = err.message;
    }
    notifications = await state.evaluate(now, evaluations, analyticsError);
  } else {
    notifications = await state.pending();
  }
  const delivered = notifications.length > 0 ? await deliver(notifications, env, ops) : [];

  const round = {
    at: new Date(now).toISOString(),
    forced: force,
    probed: services.map((s) => s.name),
    alerts_evaluated: alertsDue,
    analytics_error: analyticsError,
    notifications: { delivered: delivered.filter((d) => d.ok).length, failed: delivered.filter((d) => !d.ok).length },
    registry_writes: ops.kv_writes,
    subrequests: { ...ops, durable_object: ops.durable_object + 1, total: 0 },
    duration_ms: 0,
  };
  round.subrequests.total = round.subrequests.probes + round.subrequests.durable_object + round.subrequests.analytics + round.subrequests.webhooks;
  round.duration_ms = Date.now() - started;
  await state.finish(now, { delivered, registry, round });
  return { ...round, health: Object.fromEntries(Object.entries(states).map(([name, st]) => [name, st.status])) };
}
