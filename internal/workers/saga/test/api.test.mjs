// API protection, a misconfigured definition, and the native-rollback safety net.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { FOUR_STEPS, Ledger, definitionOf, startSaga, tempDir, waitForStatus } from "./harness.mjs";

const definition = definitionOf("guarded", FOUR_STEPS.slice(0, 2));

async function withSaga(options, fn) {
  const dir = tempDir();
  const saga = await startSaga({ definition, ledger: new Ledger(), persist: dir.dir, ...options });
  try {
    await fn(saga);
  } finally {
    await saga.dispose();
    dir.remove();
  }
}

// The secrets come from the shared vectors, which the Go package's SagaAPIKeyHash reproduces.
const { api_key_hashes: KEYS } = JSON.parse(readFileSync(new URL("./vectors/ids.json", import.meta.url), "utf8"));

test("an API key hash guards every route; the key is accepted as a bearer token or X-API-Key", async () => {
  await withSaga({ bindings: { API_ACCESS: "", API_KEY_HASH: KEYS[0].secret } }, async ({ api }) => {
    for (const [method, path] of [
      ["GET", "/"],
      ["GET", "/executions"],
      ["POST", "/executions"],
      ["GET", "/executions/e-x"],
      ["POST", "/executions/e-x/terminate"],
    ]) {
      const res = await api(method, path, method === "POST" ? {} : undefined);
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.equal(res.body.error.code, "api_key_required");
      assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="saga"');
    }
    const wrong = await api("GET", "/", undefined, { authorization: "Bearer s3cret-kez" });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error.code, "api_key_invalid");
    assert.equal((await api("GET", "/", undefined, { authorization: "Bearer s3cret-key" })).status, 200);
    assert.equal((await api("GET", "/", undefined, { "x-api-key": "s3cret-key" })).status, 200);
    const started = await api("POST", "/executions", { input: { order_id: "1" }, idempotency_key: "k" }, { authorization: "Bearer s3cret-key" });
    assert.equal(started.status, 201);
    const done = await waitForStatus((m, p, b) => api(m, p, b, { "x-api-key": "s3cret-key" }), started.body.id, ["completed"]);
    assert.equal(done.status, "completed");
  });
  await withSaga({ bindings: { API_ACCESS: "", API_KEY_HASH: KEYS[1].secret } }, async ({ api }) => {
    assert.equal((await api("GET", "/", undefined, { authorization: "Bearer s3cret-key" })).status, 401);
    assert.equal((await api("GET", "/", undefined, { "x-api-key": KEYS[1].key })).status, 200);
  });
});

test("with neither an API key hash nor service-binding access the API is closed", async () => {
  await withSaga({ bindings: { API_ACCESS: "" } }, async ({ api }) => {
    const res = await api("GET", "/executions");
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, "api_access_not_configured");
  });
});

test("a malformed API key hash fails closed", async () => {
  await withSaga({ bindings: { API_ACCESS: "service_binding", API_KEY_HASH: "plain-text-key" } }, async ({ api }) => {
    const res = await api("GET", "/", undefined, { authorization: "Bearer plain-text-key" });
    assert.equal(res.status, 500);
    assert.equal(res.body.error.code, "api_key_hash_invalid");
  });
});

test("an invalid definition binding refuses new executions and says why", async () => {
  const bad = { ...definition, pivot_step: "nope" };
  const dir = tempDir();
  const saga = await startSaga({ definition: bad, ledger: new Ledger(), persist: dir.dir });
  try {
    const res = await saga.api("POST", "/executions", { input: {} });
    assert.equal(res.status, 500);
    assert.equal(res.body.error.code, "definition_invalid");
    assert.deepEqual(res.body.error.details, ['pivot_step: "nope" is not a step of this saga (steps: create_order, reserve_stock): name one of them']);
  } finally {
    await saga.dispose();
    dir.remove();
  }
});

test("a failure that escapes the run (the Workflow's step limit) is compensated by the native rollbacks, once each", async () => {
  const four = definitionOf("limited", FOUR_STEPS);
  const ledger = new Ledger();
  const dir = tempDir();
  const saga = await startSaga({ definition: four, ledger, persist: dir.dir, workflow: { stepLimit: 3 } });
  try {
    const started = await saga.api("POST", "/executions", { input: { order_id: "x" }, idempotency_key: "limited" });
    const e = await waitForStatus(saga.api, started.body.id, ["failed", "completed", "compensated"]);
    assert.equal(e.status, "failed");
    assert.match(e.error, /limit of 3 steps/);
    assert.deepEqual(ledger.applied(e.id), [
      "create_order:action",
      "reserve_stock:action",
      "charge_payment:action",
      "charge_payment:compensate",
      "reserve_stock:compensate",
      "create_order:compensate",
    ]);
    for (const s of e.steps.slice(0, 3)) assert.equal(s.compensation.source, "rollback", s.name);
    assert.equal(e.steps[3].action.state, "pending");
  } finally {
    await saga.dispose();
    dir.remove();
  }
});
