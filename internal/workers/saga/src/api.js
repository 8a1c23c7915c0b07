// The saga's runtime API (README.md documents requests and responses):
//
//   GET  /                               the saga: name, definition_sha256, steps
//   POST /executions                     {input, idempotency_key}: start, or find, an execution
//   GET  /executions?status=&limit=&cursor=
//   GET  /executions/{id}
//   POST /executions/{id}/retry|skip|resolve   {reason}: an operator's decision on a parked execution
//   POST /executions/{id}/terminate      {compensate = true, reason}
//   GET  /definitions/{sha256}           a definition executions were started with

import { Hono } from "hono/tiny";
import { checkAccess } from "./auth.js";
import { canonicalJSON, sha256Hex } from "./canonical.js";
import { DECISION_EVENT, FINAL_STATUSES, OPERATOR_ACTIONS, SEQ_TERMINATED, STATUSES } from "./constants.js";
import { definitionSha256, formatError, normalizeDefinition, validateDefinition } from "./definition.js";
import { parseDuration } from "./duration.js";
import { EXECUTION_ID, executionIdFor } from "./ids.js";
import { ENGINE_TIMEOUT_GRACE_MS } from "./retry.js";
import { createInstance, indexStub } from "./store.js";

// Workflows limits an instance's params (the event payload) to 1 MiB.
const MAX_PARAMS_BYTES = 1024 * 1024;
const MAX_KEY_LENGTH = 256;

class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const loaded = new WeakMap();

// currentDefinition validates and normalizes the Worker's SAGA_DEFINITION once per binding
// object. Running executions do not use it: they carry their own.
async function currentDefinition(env) {
  const raw = env.SAGA_DEFINITION;
  if (raw === undefined) throw new ApiError(500, "definition_missing", "the saga Worker has no SAGA_DEFINITION binding");
  const key = typeof raw === "object" && raw !== null ? raw : { raw };
  let entry = loaded.get(key);
  if (!entry) {
    let def = raw;
    if (typeof raw === "string") {
      try {
        def = JSON.parse(raw);
      } catch (e) {
        throw new ApiError(500, "definition_invalid", `SAGA_DEFINITION is not JSON: ${e.message}`);
      }
    }
    const errors = validateDefinition(def);
    if (errors.length) {
      entry = { errors: errors.map(formatError) };
    } else {
      const normalized = normalizeDefinition(def);
      entry = { definition: normalized, sha256: await definitionSha256(normalized) };
    }
    loaded.set(key, entry);
  }
  if (entry.errors) throw new ApiError(500, "definition_invalid", "the saga Worker's SAGA_DEFINITION is invalid", entry.errors);
  return entry;
}

async function readJSON(c) {
  const text = await c.req.text();
  if (text.trim() === "") return {};
  try {
    const v = JSON.parse(text);
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error("not an object");
    return v;
  } catch {
    throw new ApiError(400, "invalid_json", "the request body must be a JSON object");
  }
}

function onlyFields(body, fields) {
  for (const k of Object.keys(body)) {
    if (!fields.includes(k)) throw new ApiError(400, "unknown_field", `unknown field ${JSON.stringify(k)}: the fields are ${fields.join(", ")}`);
  }
}

function executionId(c) {
  const id = c.req.param("id");
  if (!EXECUTION_ID.test(id)) throw new ApiError(404, "execution_not_found", `no execution ${JSON.stringify(id)}`);
  return id;
}

async function instanceOf(env, id) {
  try {
    return await env.SAGA_WORKFLOW.get(id);
  } catch {
    return null;
  }
}

// release disposes of an instance handle (an RPC stub) once a request is done with it.
function release(instance) {
  try {
    instance?.[Symbol.dispose]?.();
  } catch {
    // already gone
  }
}

async function engineStatus(instance) {
  if (!instance) return null;
  try {
    return await instance.status();
  } catch {
    return null;
  }
}

// execution returns the execution's record, reconciled with the engine when the engine has
// finished it, with the engine's own status beside it.
async function execution(env, id) {
  const index = indexStub(env);
  const instance = await instanceOf(env, id);
  const engine = await engineStatus(instance);
  release(instance);
  let record = await index.get(id);
  if (!record && !engine) return null;
  if (engine && ["complete", "errored", "terminated"].includes(engine.status) && (!record || !FINAL_STATUSES.includes(record.status))) {
    await index.reconcile(id, engine);
    record = await index.get(id);
  }
  return { ...(record ?? { id, status: "running" }), engine_status: engine?.status ?? null };
}

async function mustExecution(env, id) {
  const e = await execution(env, id);
  if (!e) throw new ApiError(404, "execution_not_found", `no execution ${id}`);
  return e;
}

async function start(c) {
  const env = c.env;
  const { definition, sha256 } = await currentDefinition(env);
  const body = await readJSON(c);
  onlyFields(body, ["input", "idempotency_key"]);
  const input = body.input ?? {};
  let key = body.idempotency_key;
  if (key === undefined || key === null) key = crypto.randomUUID();
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new ApiError(400, "invalid_idempotency_key", `idempotency_key must be a string of 1 to ${MAX_KEY_LENGTH} characters`);
  }
  const id = await executionIdFor(key);
  const inputSha = await sha256Hex(canonicalJSON(input));
  const index = indexStub(env);
  const reserved = await index.reserve({ id, key, input, input_sha256: inputSha, definition, definition_sha256: sha256 });
  if (reserved.conflict) {
    throw new ApiError(409, "idempotency_key_reused", `idempotency key ${JSON.stringify(key)} already started execution ${id} with a different input: use a new key for a new execution`);
  }
  if (reserved.create) {
    if (new TextEncoder().encode(JSON.stringify(reserved.params)).length > MAX_PARAMS_BYTES) {
      throw new ApiError(413, "input_too_large", "the input and definition exceed the 1 MiB Workflows allows an instance's params");
    }
    await createInstance(env.SAGA_WORKFLOW, id, reserved.params);
    await index.markCreated(id);
  }
  return c.json(await mustExecution(env, id), reserved.created ? 201 : 200);
}

async function list(c) {
  const index = indexStub(c.env);
  const statusParam = c.req.query("status");
  const statuses = statusParam ? statusParam.split(",").map((s) => s.trim()) : [];
  for (const s of statuses) {
    if (!STATUSES.includes(s)) throw new ApiError(400, "invalid_status", `unknown status ${JSON.stringify(s)}: use ${STATUSES.join(", ")}`);
  }
  const limitParam = c.req.query("limit");
  const limit = limitParam === undefined ? 50 : Number(limitParam);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ApiError(400, "invalid_limit", "limit must be a whole number from 1 to 1000");
  let cursor = null;
  const cursorParam = c.req.query("cursor");
  if (cursorParam) {
    try {
      cursor = JSON.parse(atob(cursorParam));
      if (typeof cursor.created_at !== "number" || typeof cursor.id !== "string") throw new Error();
    } catch {
      throw new ApiError(400, "invalid_cursor", "cursor is not one this API returned");
    }
  }
  const page = await index.list({ statuses, limit, cursor });
  return c.json({ executions: page.executions, count: page.count, next_cursor: page.next ? btoa(JSON.stringify(page.next)) : null });
}

async function decide(c, action) {
  const env = c.env;
  const id = executionId(c);
  const body = await readJSON(c);
  onlyFields(body, ["reason"]);
  const e = await mustExecution(env, id);
  if (e.status !== "parked" || !e.parked) {
    throw new ApiError(409, "not_parked", `execution ${id} is ${e.status}, not parked: ${OPERATOR_ACTIONS.join(", ")} answer a parked execution`);
  }
  const park = e.parked.park;
  const instance = await instanceOf(env, id);
  try {
    await instance.sendEvent({ type: DECISION_EVENT, payload: { park, action, reason: body.reason ?? null } });
  } finally {
    release(instance);
  }
  await indexStub(env).decision(id, park, action, body.reason ?? null);
  return c.json(await mustExecution(env, id), 202);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// pauseDeadlineMs bounds the wait for a pause: the longest single call attempt (a pause waits
// for the call in flight) plus slack.
function pauseDeadlineMs(def) {
  let longest = 0;
  for (const s of def.steps) {
    longest = Math.max(longest, parseDuration(s.timeout));
    if (s.compensate) longest = Math.max(longest, parseDuration(s.compensate.timeout));
  }
  return Math.min(longest + ENGINE_TIMEOUT_GRACE_MS + 5000, 120_000);
}

async function terminate(c) {
  const env = c.env;
  const id = executionId(c);
  const body = await readJSON(c);
  onlyFields(body, ["compensate", "reason"]);
  if (body.compensate !== undefined && typeof body.compensate !== "boolean") throw new ApiError(400, "invalid_compensate", "compensate must be true or false");
  const compensate = body.compensate ?? true;
  const reason = body.reason ?? null;
  const before = await mustExecution(env, id);
  if (FINAL_STATUSES.includes(before.status)) throw new ApiError(409, "execution_finished", `execution ${id} is already ${before.status}`);
  const instance = await instanceOf(env, id);
  if (!instance) throw new ApiError(409, "execution_not_started", `execution ${id} has no Workflow instance yet: try again`);
  try {
    return await terminateInstance(c, env, id, instance, before, compensate, reason);
  } finally {
    release(instance);
  }
}

async function terminateInstance(c, env, id, instance, before, compensate, reason) {
  const index = indexStub(env);
  const at = new Date().toISOString();

  if (!compensate) {
    await instance.terminate();
    await index.finalize(id, SEQ_TERMINATED, "terminated", { terminate: { compensate: false, reason, at } });
    return c.json(await mustExecution(env, id));
  }

  // Stop the run first: Workflows pauses once the call in flight has finished, so the rollback
  // handlers then see every step's outcome and nothing runs beside them.
  let status = (await engineStatus(instance))?.status;
  if (status !== "paused" && status !== "queued") {
    await instance.pause();
    const definition = (await index.definition(before.definition_sha256)) ?? (await currentDefinition(env)).definition;
    const deadline = Date.now() + pauseDeadlineMs(definition);
    for (;;) {
      status = (await engineStatus(instance))?.status;
      if (status === "paused") break;
      if (["complete", "errored", "terminated"].includes(status)) {
        await index.reconcile(id, await engineStatus(instance));
        throw new ApiError(409, "execution_finished", `execution ${id} finished (${status}) before it could be stopped`);
      }
      if (Date.now() > deadline) {
        await instance.resume();
        throw new ApiError(503, "pause_timeout", `execution ${id} did not stop in time (a participant call is in flight): nothing was terminated; try again`);
      }
      await sleep(10);
    }
  }
  const paused = await mustExecution(env, id);
  const pivot = paused.steps.find((s) => s.pivot);
  if (pivot && pivot.action.state === "completed") {
    await instance.resume();
    throw new ApiError(409, "past_pivot", `execution ${id} has completed its pivot step "${pivot.name}", so it can no longer be compensated: let it finish, resolve it when parked, or terminate it with "compensate": false`);
  }
  await instance.terminate({ rollback: true });
  const after = await mustExecution(env, id);
  const failed = after.steps.filter((s) => s.compensation?.state === "failed").map((s) => s.name);
  await index.finalize(id, SEQ_TERMINATED, "terminated", { terminate: { compensate: true, reason, at, compensation_failed: failed } });
  return c.json(await mustExecution(env, id));
}

export function createApp() {
  const app = new Hono();

  app.use("*", async (c, next) => {
    const denied = await checkAccess(c.req.raw, c.env);
    if (denied) {
      const res = c.json({ error: { code: denied.code, message: denied.message } }, denied.status);
      if (denied.status === 401) res.headers.set("www-authenticate", 'Bearer realm="saga"');
      return res;
    }
    await next();
  });

  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json({ error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } }, err.status);
    console.error(`saga API: ${err.stack || err.message}`);
    return c.json({ error: { code: "internal", message: err.message } }, 500);
  });
  app.notFound((c) => c.json({ error: { code: "not_found", message: `no route ${c.req.method} ${new URL(c.req.url).pathname}` } }, 404));

  app.get("/", async (c) => {
    const { definition, sha256 } = await currentDefinition(c.env);
    return c.json({ saga: definition.name, definition_sha256: sha256, pivot_step: definition.pivot_step ?? null, steps: definition.steps.map((s) => s.name) });
  });
  app.post("/executions", start);
  app.get("/executions", list);
  app.get("/executions/:id", async (c) => c.json(await mustExecution(c.env, executionId(c))));
  for (const action of OPERATOR_ACTIONS) app.post(`/executions/:id/${action}`, (c) => decide(c, action));
  app.post("/executions/:id/terminate", terminate);
  app.get("/definitions/:sha", async (c) => {
    const d = await indexStub(c.env).definition(c.req.param("sha"));
    if (!d) throw new ApiError(404, "definition_not_found", `no execution was started with definition ${c.req.param("sha")}`);
    return c.json(d);
  });
  return app;
}
