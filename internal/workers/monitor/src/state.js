// MonitorState: the monitor's memory, one SQLite-backed Durable Object (named "monitor") per
// monitor Worker. It holds each service's health state machine, which cron windows were
// already probed, the alert incidents and the webhook notifications still to deliver.
//
// Why a Durable Object and not KV: "fire once per incident" is a read-modify-write (is an
// incident open? if not, open one and queue its notification). KV has no atomic update and is
// eventually consistent — a write can take up to a minute to be seen elsewhere — so two
// overlapping rounds (a slow round and the next cron tick, or a retried tick) could both see
// no incident and both fire. A Durable Object is a single thread over transactional storage:
// each method below runs to completion without awaiting, so it is atomic, and its SQLite data
// survives restarts and deploys. KV stays what it is good at: the registry that readers list.
import { DurableObject } from "cloudflare:workers";
import { compileConfig, BINDINGS } from "./config.js";
import { initialState, nextState } from "./health.js";
import { payload } from "./alerts.js";

export const STATE_OBJECT_NAME = "monitor";
export const MAX_DELIVERY_ATTEMPTS = 10;
const KEEP_SENT_MS = 7 * 86_400_000;
const KEEP_RESOLVED_MS = 30 * 86_400_000;
const ALERTS_WINDOW_KEY = "\u0000alerts"; // cannot be a service name

const SCHEMA = `
CREATE TABLE IF NOT EXISTS windows (key TEXT PRIMARY KEY, window INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS services (name TEXT PRIMARY KEY, state TEXT NOT NULL, registry TEXT NOT NULL DEFAULT '[]');
CREATE TABLE IF NOT EXISTS alerts (name TEXT PRIMARY KEY, evaluation TEXT NOT NULL, evaluated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS incidents (id TEXT PRIMARY KEY, alert TEXT NOT NULL, state TEXT NOT NULL, started_at INTEGER NOT NULL, resolved_at INTEGER);
CREATE INDEX IF NOT EXISTS incidents_open ON incidents (alert, state);
CREATE TABLE IF NOT EXISTS notifications (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, incident_id TEXT NOT NULL, alert TEXT NOT NULL, kind TEXT NOT NULL,
  payload TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
  created_at INTEGER NOT NULL, sent_at INTEGER);
CREATE INDEX IF NOT EXISTS notifications_pending ON notifications (state, seq);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

export class MonitorState extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
  }

  get cfg() {
    const raw = this.env[BINDINGS.config];
    if (this._raw !== raw) {
      this._cfg = compileConfig(raw);
      this._raw = raw;
    }
    return this._cfg;
  }

  rows(query, ...args) {
    return this.sql.exec(query, ...args).toArray();
  }

  meta(key) {
    const row = this.rows("SELECT value FROM meta WHERE key = ?", key)[0];
    return row ? JSON.parse(row.value) : null;
  }

  setMeta(key, value) {
    this.sql.exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, JSON.stringify(value));
  }

  // claimWindow reports whether the window of now for key was not yet claimed, and claims it.
  claimWindow(key, intervalMs, now, force) {
    const window = Math.floor(now / intervalMs);
    const row = this.rows("SELECT window FROM windows WHERE key = ?", key)[0];
    if (!force && row && row.window >= window) return false;
    this.sql.exec("INSERT INTO windows (key, window) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET window = excluded.window", key, window);
    return true;
  }

  // claim decides what a round at now does: the services whose interval window it opens (all
  // of them when forced), and whether it evaluates the alerts. A tick delivered twice, or a
  // round overlapping the next, finds its windows claimed and does nothing again.
  claim(now, force = false) {
    const cfg = this.cfg;
    const due = cfg.services.filter((s) => this.claimWindow(s.name, s.intervalMs, now, force)).map((s) => s.name);
    const alertsDue = cfg.alerts.length > 0 && this.claimWindow(ALERTS_WINDOW_KEY, cfg.intervalMs, now, force);
    return { due, alertsDue };
  }

  serviceState(name) {
    const row = this.rows("SELECT state, registry FROM services WHERE name = ?", name)[0];
    return row ? { state: JSON.parse(row.state), registry: JSON.parse(row.registry) } : { state: initialState(), registry: [] };
  }

  // recordProbes applies probe results ({name, outcome, http_status, latency_ms, reason}) to
  // the services' states and returns the new states by name.
  recordProbes(now, results) {
    const byName = new Map(this.cfg.services.map((s) => [s.name, s]));
    const out = {};
    for (const r of results) {
      const service = byName.get(r.name);
      if (!service) continue;
      const next = nextState(this.serviceState(r.name).state, r, service, now);
      this.sql.exec("INSERT INTO services (name, state) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET state = excluded.state", r.name, JSON.stringify(next));
      out[r.name] = next;
    }
    return out;
  }

  openIncident(alert) {
    return this.rows("SELECT id, started_at FROM incidents WHERE alert = ? AND state = 'firing'", alert)[0] ?? null;
  }

  notify(incidentId, alertName, kind, body, now) {
    this.sql.exec(
      "INSERT INTO notifications (incident_id, alert, kind, payload, state, created_at) VALUES (?, ?, ?, ?, 'pending', ?)",
      incidentId,
      alertName,
      kind,
      JSON.stringify(body),
      now,
    );
  }

  // evaluate applies the round's alert evaluations (alerts.js evaluate) — or records the
  // analytics error that prevented them, changing no incident — and returns the notifications
  // to deliver. An alert fires when its condition starts to hold and resolves when it stops:
  // one incident, one firing and one resolved notification, however many rounds it lasts.
  evaluate(now, evaluations, analyticsError = null) {
    const cfg = this.cfg;
    this.setMeta("analytics", { at: now, error: analyticsError });
    if (analyticsError === null) {
      const byName = new Map(cfg.alerts.map((a) => [a.name, a]));
      for (const e of evaluations) {
        const alert = byName.get(e.alert);
        if (!alert) continue;
        let open = this.openIncident(alert.name);
        if (e.met && !open) {
          open = { id: crypto.randomUUID(), started_at: now };
          this.sql.exec("INSERT INTO incidents (id, alert, state, started_at) VALUES (?, ?, 'firing', ?)", open.id, alert.name, now);
          this.notify(open.id, alert.name, "firing", payload("firing", cfg.name, alert, { ...open, resolved_at: null }, e), now);
        } else if (!e.met && open) {
          this.sql.exec("UPDATE incidents SET state = 'resolved', resolved_at = ? WHERE id = ?", now, open.id);
          this.notify(open.id, alert.name, "resolved", payload("resolved", cfg.name, alert, { ...open, resolved_at: now }, e), now);
          open = null;
        }
        this.sql.exec(
          "INSERT INTO alerts (name, evaluation, evaluated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET evaluation = excluded.evaluation, evaluated_at = excluded.evaluated_at",
          alert.name,
          JSON.stringify({ ...e, incident_id: open?.id ?? null }),
          now,
        );
      }
    }
    // Alerts removed from the configuration close without a notification (their webhook is
    // gone with them).
    const names = new Set(cfg.alerts.map((a) => a.name));
    for (const row of this.rows("SELECT id, alert FROM incidents WHERE state = 'firing'")) {
      if (!names.has(row.alert)) this.sql.exec("UPDATE incidents SET state = 'removed', resolved_at = ? WHERE id = ?", now, row.id);
    }
    return this.pending();
  }

  // pending lists the notifications still to deliver, oldest first, with their webhook.
  pending() {
    const byName = new Map(this.cfg.alerts.map((a) => [a.name, a]));
    const out = [];
    for (const n of this.rows("SELECT seq, incident_id, alert, kind, payload, attempts FROM notifications WHERE state = 'pending' ORDER BY seq")) {
      const alert = byName.get(n.alert);
      if (!alert) {
        this.sql.exec("UPDATE notifications SET state = 'abandoned', last_error = 'the alert was removed from the configuration' WHERE seq = ?", n.seq);
        continue;
      }
      out.push({ ...n, webhook: alert.webhook });
    }
    return out;
  }

  // finish records the round: webhook deliveries ({seq, ok, error}), registry results per
  // service, and the round's summary.
  finish(now, { delivered = [], registry = {}, round = null } = {}) {
    for (const d of delivered) {
      if (d.ok) {
        this.sql.exec("UPDATE notifications SET state = 'sent', attempts = attempts + 1, sent_at = ?, last_error = NULL WHERE seq = ?", now, d.seq);
      } else {
        this.sql.exec(
          "UPDATE notifications SET attempts = attempts + 1, last_error = ?, state = CASE WHEN attempts + 1 >= ? THEN 'abandoned' ELSE state END WHERE seq = ?",
          String(d.error ?? "").slice(0, 300),
          MAX_DELIVERY_ATTEMPTS,
          d.seq,
        );
      }
    }
    for (const [name, results] of Object.entries(registry)) {
      this.sql.exec("UPDATE services SET registry = ? WHERE name = ?", JSON.stringify(results), name);
    }
    if (round) this.setMeta("round", round);
    this.sql.exec("DELETE FROM notifications WHERE state = 'sent' AND sent_at < ?", now - KEEP_SENT_MS);
    this.sql.exec("DELETE FROM incidents WHERE state <> 'firing' AND resolved_at < ?", now - KEEP_RESOLVED_MS);
  }

  // status is GET /status: every configured service's health and the open alerts.
  status(now) {
    const cfg = this.cfg;
    const iso = (ms) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());
    const services = cfg.services.map((s) => {
      const { state, registry } = this.serviceState(s.name);
      return {
        name: s.name,
        status: state.status,
        last_check: iso(state.last_check),
        latency_ms: state.latency_ms,
        http_status: state.http_status,
        consecutive_failures: state.consecutive_failures,
        reason: state.reason,
        registry,
      };
    });
    const byName = new Map(cfg.alerts.map((a) => [a.name, a]));
    const openAlerts = [];
    for (const inc of this.rows("SELECT id, alert, started_at FROM incidents WHERE state = 'firing' ORDER BY started_at, alert")) {
      const alert = byName.get(inc.alert);
      if (!alert) continue;
      const evaluation = JSON.parse(this.rows("SELECT evaluation FROM alerts WHERE name = ?", inc.alert)[0]?.evaluation ?? "null");
      const notice = this.rows("SELECT state, attempts, last_error FROM notifications WHERE incident_id = ? AND kind = 'firing'", inc.id)[0];
      openAlerts.push({
        alert: alert.name,
        service: alert.service,
        condition: alert.conditionText,
        for: alert.forText,
        incident_id: inc.id,
        started_at: iso(inc.started_at),
        value: evaluation?.value ?? null,
        observed: evaluation?.observed ?? null,
        notification: notice ? { state: notice.state, attempts: notice.attempts, last_error: notice.last_error } : null,
      });
    }
    const undelivered = this.rows("SELECT seq, incident_id, alert, kind, state, attempts, last_error FROM notifications WHERE state IN ('pending', 'abandoned') ORDER BY seq");
    return {
      monitor: cfg.name,
      generated_at: iso(now),
      services,
      open_alerts: openAlerts,
      undelivered_notifications: undelivered,
      analytics: ((a) => (a ? { at: iso(a.at), error: a.error } : null))(this.meta("analytics")),
      last_round: this.meta("round"),
    };
  }
}
