// SagaIndex: a SQLite Durable Object (one per saga Worker) holding the saga's executions as the
// API shows them — status, per-step attempts, outputs, errors and timings, compensation
// outcomes, parked reason and operator decisions — because the Workflow binding can neither
// list instances nor report per-step detail. It is a view: Workflows holds the truth, and the
// watchdog (the alarm) reconciles the view with the engine, finishes creations interrupted by
// a crash, wakes runs the local runtime lost in a restart, and prunes expired executions.

import { DurableObject } from "cloudflare:workers";
import { bootId } from "./boot.js";
import { canonicalJSON } from "./canonical.js";
import { ACTIVE_STATUSES, FINAL_STATUSES, OPERATOR_ACTIONS, SEQ_RECONCILED, WAKE_EVENT } from "./constants.js";
import { parseDuration } from "./duration.js";

const INDEX_NAME = "executions";
const DEFAULT_WATCHDOG_MS = 15_000;
// An execution not yet created on the engine this long after its reservation was interrupted.
const CREATE_GRACE_MS = 5_000;
const WATCH_PER_TICK = 50;

export function indexStub(env) {
  return env.SAGA_INDEX.get(env.SAGA_INDEX.idFromName(INDEX_NAME));
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS executions (
  id TEXT PRIMARY KEY,
  idempotency_key TEXT NOT NULL UNIQUE,
  input_sha256 TEXT NOT NULL,
  definition_sha256 TEXT NOT NULL,
  input TEXT NOT NULL,
  status TEXT NOT NULL,
  seq INTEGER NOT NULL DEFAULT 0,
  detail TEXT NOT NULL DEFAULT '{}',
  engine_created INTEGER NOT NULL DEFAULT 0,
  create_claimed_at INTEGER,
  boot TEXT,
  woken_boot TEXT,
  checked_at INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  ended_at INTEGER
);
CREATE INDEX IF NOT EXISTS executions_by_status ON executions (status, created_at, id);
CREATE INDEX IF NOT EXISTS executions_by_created ON executions (created_at, id);
CREATE TABLE IF NOT EXISTS steps (
  execution_id TEXT NOT NULL, step TEXT NOT NULL, kind TEXT NOT NULL, round INTEGER NOT NULL,
  state TEXT NOT NULL, status INTEGER, output TEXT, error TEXT, effect TEXT, source TEXT, note TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (execution_id, step, kind, round)
);
CREATE TABLE IF NOT EXISTS attempts (
  execution_id TEXT NOT NULL, step TEXT NOT NULL, kind TEXT NOT NULL, round INTEGER NOT NULL, attempt INTEGER NOT NULL,
  started_at INTEGER NOT NULL, ended_at INTEGER, outcome TEXT, status INTEGER, error TEXT,
  PRIMARY KEY (execution_id, step, kind, round, attempt)
);
CREATE TABLE IF NOT EXISTS decisions (
  execution_id TEXT NOT NULL, n INTEGER NOT NULL, park INTEGER NOT NULL, action TEXT NOT NULL,
  reason TEXT, at INTEGER NOT NULL, applied INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (execution_id, n)
);
CREATE TABLE IF NOT EXISTS definitions (sha256 TEXT PRIMARY KEY, json TEXT NOT NULL, created_at INTEGER NOT NULL);
`;

const iso = (ms) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());
const isFinal = (status) => FINAL_STATUSES.includes(status);
const json = (text, fallback = null) => (text === null || text === undefined ? fallback : JSON.parse(text));

export class SagaIndex extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => this.sql.exec(SCHEMA));
  }

  one(query, ...args) {
    return this.sql.exec(query, ...args).toArray()[0];
  }

  all(query, ...args) {
    return this.sql.exec(query, ...args).toArray();
  }

  watchdogMs() {
    const v = Number(this.env.SAGA_WATCHDOG_MS);
    return Number.isFinite(v) && v > 0 ? v : DEFAULT_WATCHDOG_MS;
  }

  async ensureAlarm(at) {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  params(row) {
    const def = this.one("SELECT json FROM definitions WHERE sha256 = ?", row.definition_sha256);
    const definition = JSON.parse(def.json);
    return { execution_id: row.id, saga: definition.name, definition, definition_sha256: row.definition_sha256, input: JSON.parse(row.input) };
  }

  // reserve records a new execution for an idempotency key, or finds the one it already names.
  // It returns {created, conflict, id, create, params}: conflict when the key names an execution
  // with a different input; create when the caller is to create the Workflow instance (one
  // caller at a time holds that claim; the watchdog takes over from one that vanished).
  async reserve({ id, key, input, input_sha256, definition, definition_sha256 }) {
    const now = Date.now();
    const existing = this.one("SELECT * FROM executions WHERE id = ?", id);
    if (existing) {
      if (existing.input_sha256 !== input_sha256) return { created: false, conflict: true, id };
      const create = !existing.engine_created && (existing.create_claimed_at === null || now - existing.create_claimed_at >= CREATE_GRACE_MS);
      if (create) this.sql.exec("UPDATE executions SET create_claimed_at = ? WHERE id = ?", now, id);
      return { created: false, conflict: false, id, create, params: this.params(existing) };
    }
    this.sql.exec("INSERT OR IGNORE INTO definitions (sha256, json, created_at) VALUES (?, ?, ?)", definition_sha256, canonicalJSON(definition), now);
    this.sql.exec(
      "INSERT INTO executions (id, idempotency_key, input_sha256, definition_sha256, input, status, create_claimed_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
      id,
      key,
      input_sha256,
      definition_sha256,
      JSON.stringify(input),
      now,
      now,
      now,
    );
    await this.ensureAlarm(now + this.watchdogMs());
    return { created: true, conflict: false, id, create: true, params: this.params(this.one("SELECT * FROM executions WHERE id = ?", id)) };
  }

  markCreated(id) {
    this.sql.exec("UPDATE executions SET engine_created = 1 WHERE id = ?", id);
  }

  // row returns the execution's row, adding a minimal one for an instance started outside the
  // saga API (so that it is listed too).
  row(id) {
    const row = this.one("SELECT * FROM executions WHERE id = ?", id);
    if (row) return row;
    const now = Date.now();
    this.sql.exec(
      "INSERT INTO executions (id, idempotency_key, input_sha256, definition_sha256, input, status, engine_created, created_at, updated_at) VALUES (?, ?, '', '', '{}', 'running', 1, ?, ?)",
      id,
      id,
      now,
      now,
    );
    return this.one("SELECT * FROM executions WHERE id = ?", id);
  }

  // progress applies a phase change reported with sequence number seq, unless a later one (or
  // a final status written from outside the run) is already recorded. boot, when given, is the
  // boot of the run reporting (see watch) and is recorded in any case.
  async progress(id, seq, patch, boot) {
    const row = this.row(id);
    if (boot) this.sql.exec("UPDATE executions SET boot = ?, engine_created = 1 WHERE id = ?", boot, id);
    if (seq <= row.seq) return false;
    const { status, ...rest } = patch;
    const detail = { ...JSON.parse(row.detail), ...rest };
    if (status !== "parked") detail.parked = null;
    else detail.parked = { ...patch.parked, since: Date.now() };
    const now = Date.now();
    this.sql.exec(
      "UPDATE executions SET status = ?, seq = ?, detail = ?, updated_at = ?, ended_at = ? WHERE id = ?",
      status,
      seq,
      JSON.stringify(detail),
      now,
      isFinal(status) ? now : null,
      id,
    );
    if (isFinal(status)) await this.ensureAlarm(now + this.retentionMs() + 1000);
    else await this.ensureAlarm(now + this.watchdogMs());
    return true;
  }

  stepResult(id, step, kind, round, result) {
    this.row(id);
    if (result.attempt) this.attemptEnded(id, step, kind, round, result.attempt.attempt, result.attempt);
    this.sql.exec(
      `INSERT INTO steps (execution_id, step, kind, round, state, status, output, error, effect, source, note, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (execution_id, step, kind, round) DO UPDATE SET state = excluded.state, status = excluded.status, output = excluded.output,
         error = excluded.error, effect = excluded.effect, source = excluded.source, note = excluded.note, updated_at = excluded.updated_at`,
      id,
      step,
      kind,
      round,
      result.state,
      result.status ?? null,
      result.output === undefined ? null : JSON.stringify(result.output),
      result.error ?? null,
      result.effect ?? null,
      result.source ?? null,
      result.output_dropped ?? null,
      Date.now(),
    );
    this.sql.exec("UPDATE executions SET updated_at = ? WHERE id = ?", Date.now(), id);
  }

  attemptStarted(id, step, kind, round, attempt, startedAt) {
    this.row(id);
    this.sql.exec(
      "INSERT INTO attempts (execution_id, step, kind, round, attempt, started_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET started_at = excluded.started_at, ended_at = NULL, outcome = NULL, status = NULL, error = NULL",
      id,
      step,
      kind,
      round,
      attempt,
      startedAt,
    );
    this.sql.exec("UPDATE executions SET updated_at = ? WHERE id = ?", Date.now(), id);
  }

  attemptEnded(id, step, kind, round, attempt, a) {
    this.row(id);
    this.sql.exec(
      `INSERT INTO attempts (execution_id, step, kind, round, attempt, started_at, ended_at, outcome, status, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT DO UPDATE SET ended_at = excluded.ended_at, outcome = excluded.outcome, status = excluded.status, error = excluded.error`,
      id,
      step,
      kind,
      round,
      attempt,
      a.started_at,
      a.ended_at,
      a.outcome,
      a.status ?? null,
      a.error ?? null,
    );
    this.sql.exec("UPDATE executions SET updated_at = ? WHERE id = ?", Date.now(), id);
  }

  // decision records an operator's decision as sent to the run; decided marks it applied once
  // the run has acted on it.
  decision(id, park, action, reason) {
    const n = (this.one("SELECT COALESCE(MAX(n), 0) AS n FROM decisions WHERE execution_id = ?", id).n ?? 0) + 1;
    this.sql.exec("INSERT INTO decisions (execution_id, n, park, action, reason, at) VALUES (?, ?, ?, ?, ?, ?)", id, n, park, action, reason ?? null, Date.now());
  }

  decided(id, park, action) {
    const d = this.one("SELECT n FROM decisions WHERE execution_id = ? AND park = ? AND action = ? AND applied = 0 ORDER BY n LIMIT 1", id, park, action);
    if (d) this.sql.exec("UPDATE decisions SET applied = 1 WHERE execution_id = ? AND n = ?", id, d.n);
    else this.sql.exec("INSERT INTO decisions (execution_id, n, park, action, at, applied) VALUES (?, (SELECT COALESCE(MAX(n), 0) + 1 FROM decisions WHERE execution_id = ?), ?, ?, ?, 1)", id, id, park, action, Date.now());
  }

  // finalize records a final status decided outside the run: by terminate, or read from the
  // engine by reconciliation.
  async finalize(id, seq, status, detail) {
    const row = this.row(id);
    if (isFinal(row.status) && seq <= row.seq) return;
    const now = Date.now();
    const merged = { ...JSON.parse(row.detail), ...detail, parked: null };
    this.sql.exec("UPDATE executions SET status = ?, seq = ?, detail = ?, updated_at = ?, ended_at = ? WHERE id = ?", status, seq, JSON.stringify(merged), now, now, id);
    await this.ensureAlarm(now + this.retentionMs() + 1000);
  }

  retentionMs() {
    try {
      return parseDuration(this.env.SAGA_DEFINITION?.retention ?? "7d");
    } catch {
      return parseDuration("7d");
    }
  }

  definition(sha) {
    const d = this.one("SELECT json FROM definitions WHERE sha256 = ?", sha);
    return d ? JSON.parse(d.json) : null;
  }

  // get returns the execution as the API shows it, or null.
  get(id) {
    const row = this.one("SELECT * FROM executions WHERE id = ?", id);
    if (!row) return null;
    const definition = row.definition_sha256 ? this.definition(row.definition_sha256) : null;
    const detail = JSON.parse(row.detail);
    const stepRows = this.all("SELECT * FROM steps WHERE execution_id = ? ORDER BY step, kind, round", id);
    const attemptRows = this.all("SELECT * FROM attempts WHERE execution_id = ? ORDER BY step, kind, round, attempt", id);
    const names = definition ? definition.steps.map((s) => s.name) : [...new Set(stepRows.map((r) => r.step).concat(attemptRows.map((a) => a.step)))];
    const pivot = definition ? (definition.pivot_step ?? definition.steps.at(-1).name) : null;
    const steps = names.map((name) => {
      const s = definition?.steps.find((d) => d.name === name);
      return {
        name,
        service: s?.service ?? null,
        pivot: name === pivot,
        action: callRecord(stepRows, attemptRows, name, "action"),
        compensation: !s || s.compensate ? callRecord(stepRows, attemptRows, name, "compensate") : null,
      };
    });
    const decisions = this.all("SELECT * FROM decisions WHERE execution_id = ? ORDER BY n", id).map((d) => ({ park: d.park, action: d.action, reason: d.reason, at: iso(d.at), applied: Boolean(d.applied) }));
    const parked = row.status === "parked" && detail.parked ? { ...detail.parked, since: iso(detail.parked.since), actions: OPERATOR_ACTIONS } : null;
    return {
      id: row.id,
      saga: definition?.name ?? null,
      idempotency_key: row.idempotency_key,
      status: row.status,
      definition_sha256: row.definition_sha256 || null,
      input: JSON.parse(row.input),
      created_at: iso(row.created_at),
      updated_at: iso(row.updated_at),
      ended_at: iso(row.ended_at),
      failed_step: detail.failed_step ?? null,
      error: detail.error ?? null,
      parked,
      terminate: detail.terminate ?? null,
      steps,
      decisions,
    };
  }

  // list returns executions newest first, optionally of the given statuses, in pages.
  list({ statuses, limit, cursor }) {
    const where = [];
    const args = [];
    if (statuses && statuses.length) {
      where.push(`status IN (${statuses.map(() => "?").join(",")})`);
      args.push(...statuses);
    }
    const count = this.one(`SELECT COUNT(*) AS n FROM executions ${where.length ? "WHERE " + where.join(" AND ") : ""}`, ...args).n;
    if (cursor) {
      where.push("(created_at < ? OR (created_at = ? AND id < ?))");
      args.push(cursor.created_at, cursor.created_at, cursor.id);
    }
    const rows = this.all(
      `SELECT id, idempotency_key, status, detail, definition_sha256, created_at, updated_at, ended_at FROM executions ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY created_at DESC, id DESC LIMIT ?`,
      ...args,
      limit + 1,
    );
    const page = rows.slice(0, limit).map((r) => {
      const detail = JSON.parse(r.detail);
      return {
        id: r.id,
        idempotency_key: r.idempotency_key,
        status: r.status,
        definition_sha256: r.definition_sha256 || null,
        failed_step: detail.failed_step ?? null,
        parked: r.status === "parked" && detail.parked ? { ...detail.parked, since: iso(detail.parked.since) } : null,
        created_at: iso(r.created_at),
        updated_at: iso(r.updated_at),
        ended_at: iso(r.ended_at),
      };
    });
    const last = rows.length > limit ? rows[limit - 1] : null;
    return { executions: page, count, next: last ? { created_at: last.created_at, id: last.id } : null };
  }

  // reconcile brings an execution's record in line with the engine's status, once the engine
  // has finished it. It returns whether it changed anything.
  async reconcile(id, engine) {
    const row = this.one("SELECT status FROM executions WHERE id = ?", id);
    if (!row || isFinal(row.status)) return false;
    if (engine.status === "complete") {
      const out = engine.output ?? {};
      const status = ["completed", "compensated", "resolved"].includes(out.outcome) ? out.outcome : "completed";
      await this.finalize(id, SEQ_RECONCILED, status, out.failed_step ? { failed_step: out.failed_step } : {});
      return true;
    }
    if (engine.status === "errored") {
      const e = engine.error;
      await this.finalize(id, SEQ_RECONCILED, "failed", { error: e ? `${e.name ?? "Error"}: ${e.message ?? e}` : "the Workflow instance failed" });
      return true;
    }
    if (engine.status === "terminated") {
      await this.finalize(id, SEQ_RECONCILED, "terminated", {});
      return true;
    }
    return false;
  }

  // The watchdog.
  async alarm() {
    const now = Date.now();
    const retention = this.retentionMs();
    this.sql.exec("DELETE FROM executions WHERE ended_at IS NOT NULL AND ended_at < ?", now - retention);
    for (const t of ["steps", "attempts", "decisions"]) this.sql.exec(`DELETE FROM ${t} WHERE execution_id NOT IN (SELECT id FROM executions)`);

    // Only executions that made no progress for a whole interval need a look; the least recently
    // checked first, a bounded number per tick.
    const interval = this.watchdogMs();
    const active = this.all(
      `SELECT * FROM executions WHERE status IN (${ACTIVE_STATUSES.map(() => "?").join(",")}) AND updated_at <= ? AND checked_at <= ? ORDER BY checked_at, updated_at LIMIT ?`,
      ...ACTIVE_STATUSES,
      now - interval,
      now - interval,
      WATCH_PER_TICK,
    );
    for (const row of active) {
      this.sql.exec("UPDATE executions SET checked_at = ? WHERE id = ?", now, row.id);
      try {
        await this.watch(row, now);
      } catch (e) {
        console.error(`saga watchdog: ${row.id}: ${e.message}`);
      }
    }
    const stillActive = this.one(`SELECT COUNT(*) AS n FROM executions WHERE status IN (${ACTIVE_STATUSES.map(() => "?").join(",")})`, ...ACTIVE_STATUSES).n;
    if (stillActive > 0) {
      await this.ctx.storage.setAlarm(now + this.watchdogMs());
      return;
    }
    const oldest = this.one("SELECT MIN(ended_at) AS t FROM executions WHERE ended_at IS NOT NULL").t;
    if (oldest !== null && oldest !== undefined) await this.ctx.storage.setAlarm(oldest + retention + 1000);
  }

  async watch(row, now) {
    const workflow = this.env.SAGA_WORKFLOW;
    if (!row.engine_created) {
      if (now - (row.create_claimed_at ?? row.created_at) < CREATE_GRACE_MS) return;
      this.sql.exec("UPDATE executions SET create_claimed_at = ? WHERE id = ?", now, row.id);
      // The API reserved the execution but did not get to create the instance.
      await createInstance(workflow, row.id, this.params(row));
      this.markCreated(row.id);
      return;
    }
    let instance;
    try {
      instance = await workflow.get(row.id);
    } catch {
      return; // not (yet) known to the engine
    }
    try {
      await this.watchInstance(row, instance);
    } finally {
      instance[Symbol.dispose]?.();
    }
  }

  async watchInstance(row, instance) {
    let status;
    try {
      status = await instance.status();
    } catch {
      return;
    }
    if (await this.reconcile(row.id, status)) return;
    // The local runtime does not resume an instance whose run it lost in a restart: its engine
    // schedules no alarms. Such an instance reports the local-only step outputs and was last
    // run in an older boot of this isolate; an event wakes it (it replays from its steps). On
    // Cloudflare the engine resumes instances itself, and nothing is sent.
    const local = status && Object.prototype.hasOwnProperty.call(status, "__LOCAL_DEV_STEP_OUTPUTS");
    const boot = bootId();
    if (local && ["running", "queued", "waiting"].includes(status.status) && row.boot !== boot && row.woken_boot !== boot) {
      this.sql.exec("UPDATE executions SET woken_boot = ? WHERE id = ?", boot, row.id);
      await instance.sendEvent({ type: WAKE_EVENT, payload: {} });
    }
  }
}

// createInstance creates the Workflow instance of an execution; an instance that already
// exists (a repeated request, or the watchdog finishing a creation) is not an error.
export async function createInstance(workflow, id, params) {
  try {
    await workflow.create({ id, params });
  } catch (e) {
    if (!/already.?exists/i.test(String(e?.message))) throw e;
  }
}

function callRecord(stepRows, attemptRows, name, kind) {
  const rounds = stepRows.filter((r) => r.step === name && r.kind === kind);
  const attempts = attemptRows.filter((a) => a.step === name && a.kind === kind);
  const last = rounds.at(-1);
  // A round with attempts but no result yet is in progress.
  const newest = attempts.length ? Math.max(...attempts.map((a) => a.round)) : -1;
  const state = last && last.round >= newest ? last.state : attempts.length ? "running" : "pending";
  return {
    state,
    attempts: attempts.length,
    rounds: Math.max(rounds.length, new Set(attempts.map((a) => a.round)).size),
    status: last?.status ?? null,
    output: json(last?.output),
    error: last?.error ?? null,
    effect: last?.effect ?? null,
    source: last?.source ?? null,
    note: last?.note ?? null,
    started_at: iso(attempts.length ? Math.min(...attempts.map((a) => a.started_at)) : null),
    ended_at: iso(attempts.length && attempts.every((a) => a.ended_at) ? Math.max(...attempts.map((a) => a.ended_at)) : null),
    attempt_log: attempts.map((a) => ({ round: a.round, attempt: a.attempt, started_at: iso(a.started_at), ended_at: iso(a.ended_at), outcome: a.outcome, status: a.status, error: a.error })),
  };
}
