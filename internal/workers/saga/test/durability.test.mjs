// Executions survive a restart of the runtime (Miniflare disposed, a new one started on the same
// persist directory) and a redeploy with a changed definition.
import assert from "node:assert/strict";
import { test } from "node:test";
import { canonicalJSON, sha256Hex } from "../src/canonical.js";
import { definitionSha256, normalizeDefinition } from "../src/definition.js";
import { executionIdFor } from "../src/ids.js";
import { FOUR_STEPS, Ledger, definitionOf, startSaga, tempDir, waitFor, waitForStatus } from "./harness.mjs";

// gate returns a plan that holds the first call of a step's action until released (or forever:
// the runtime holding it is disposed).
function gate(stepName) {
  let release;
  const held = new Promise((r) => (release = r));
  return { plan: (c) => (c.step === stepName && c.kind === "action" && c.n === 1 ? { gate: held } : {}), release: () => release() };
}

test("a restart mid-step: the execution resumes on its own, retries the interrupted call with the same key and finishes", async () => {
  const dir = tempDir();
  const definition = definitionOf("restart", FOUR_STEPS);
  const ledger = new Ledger();
  const g = gate("reserve_stock");
  ledger.plan = g.plan;
  let saga = await startSaga({ definition, ledger, persist: dir.dir });
  try {
    const started = await saga.api("POST", "/executions", { input: { order_id: "r1" }, idempotency_key: "restart-1" });
    const id = started.body.id;
    await waitFor(() => ledger.of(id).some((c) => c.step === "reserve_stock"), { what: "the reserve call" });
    await saga.dispose();
    g.release();

    saga = await startSaga({ definition, ledger, persist: dir.dir });
    // No request reaches the saga Worker: its watchdog wakes the execution.
    await waitFor(() => ledger.of(id).some((c) => c.step === "ship"), { what: "the execution to resume and reach ship" });
    const e = await waitForStatus(saga.api, id, ["completed"]);
    assert.equal(e.status, "completed");
    const reserve = ledger.of(id).filter((c) => c.step === "reserve_stock");
    assert.equal(reserve.length, 2);
    assert.ok(reserve.every((c) => c.key === `${id}:reserve_stock:action`));
    assert.equal(ledger.of(id).filter((c) => c.step === "create_order").length, 1, "a completed step is not run again");
    assert.deepEqual(ledger.applied(id), FOUR_STEPS.map((s) => `${s.name}:action`));
  } finally {
    await saga.dispose();
    dir.remove();
  }
});

test("a parked execution stays parked across a restart and answers an operator afterwards", async () => {
  const dir = tempDir();
  const definition = definitionOf("restart-parked", FOUR_STEPS);
  const ledger = new Ledger();
  let healthy = false;
  ledger.plan = (c) => {
    if (c.step === "charge_payment" && c.kind === "action") return { status: 400 };
    if (c.step === "create_order" && c.kind === "compensate" && !healthy) return { status: 500 };
    return {};
  };
  let saga = await startSaga({ definition, ledger, persist: dir.dir });
  try {
    const id = (await saga.api("POST", "/executions", { input: { order_id: "p" }, idempotency_key: "parked-1" })).body.id;
    assert.equal((await waitForStatus(saga.api, id, ["parked"])).parked.step, "create_order");
    await saga.dispose();
    saga = await startSaga({ definition, ledger, persist: dir.dir });
    const parked = await waitForStatus(saga.api, id, ["parked"]);
    assert.equal(parked.parked.reason, "compensation_failed");
    healthy = true;
    assert.equal((await saga.api("POST", `/executions/${id}/retry`, {})).status, 202);
    const e = await waitForStatus(saga.api, id, ["compensated"]);
    assert.equal(e.status, "compensated");
    assert.deepEqual(ledger.applied(id), ["create_order:action", "reserve_stock:action", "reserve_stock:compensate", "create_order:compensate"]);
  } finally {
    await saga.dispose();
    dir.remove();
  }
});

test("a redeploy with a changed definition mid-execution: the running execution finishes on its own definition", async () => {
  const dir = tempDir();
  const v1 = definitionOf("redeploy", FOUR_STEPS);
  const v2 = structuredClone(v1);
  for (const s of v2.steps) {
    s.action.path = `/v2${s.action.path}`;
    s.action.body.version = 2;
  }
  const ledger = new Ledger();
  const g = gate("reserve_stock");
  ledger.plan = g.plan;
  let saga = await startSaga({ definition: v1, ledger, persist: dir.dir });
  try {
    const sha1 = (await saga.api("GET", "/")).body.definition_sha256;
    const a = (await saga.api("POST", "/executions", { input: { order_id: "a" }, idempotency_key: "before-redeploy" })).body.id;
    await waitFor(() => ledger.of(a).some((c) => c.step === "reserve_stock"), { what: "the reserve call" });
    await saga.dispose();
    g.release();

    saga = await startSaga({ definition: v2, ledger, persist: dir.dir });
    const sha2 = (await saga.api("GET", "/")).body.definition_sha256;
    assert.notEqual(sha1, sha2);
    const b = (await saga.api("POST", "/executions", { input: { order_id: "b" }, idempotency_key: "after-redeploy" })).body.id;
    const ea = await waitForStatus(saga.api, a, ["completed"]);
    const eb = await waitForStatus(saga.api, b, ["completed"]);

    assert.equal(ea.definition_sha256, sha1);
    assert.equal(eb.definition_sha256, sha2);
    assert.deepEqual(
      ledger.of(a).map((c) => c.path),
      ["/create_order", "/reserve_stock", "/reserve_stock", "/charge_payment", "/ship"],
      "the old execution keeps its definition's paths after the redeploy",
    );
    assert.ok(ledger.of(a).every((c) => c.body.version === undefined));
    assert.deepEqual(
      ledger.of(b).map((c) => c.path),
      FOUR_STEPS.map((s) => `/v2/${s.name}`),
    );
    assert.ok(ledger.of(b).every((c) => c.body.version === 2));
    assert.equal(b, await executionIdFor("after-redeploy"));
  } finally {
    await saga.dispose();
    dir.remove();
  }
});

test("an execution reserved but never created (the API died in between) is created by the watchdog", async () => {
  const dir = tempDir();
  const definition = definitionOf("interrupted", FOUR_STEPS.slice(0, 2));
  const ledger = new Ledger();
  const saga = await startSaga({ definition, ledger, persist: dir.dir });
  try {
    const normalized = normalizeDefinition(definition);
    const key = "reserved-only";
    const id = await executionIdFor(key);
    const ns = await saga.mf.getDurableObjectNamespace("SAGA_INDEX", "saga");
    const index = ns.get(ns.idFromName("executions"));
    const input = { order_id: "i" };
    const reserved = await index.reserve({ id, key, input, input_sha256: await sha256Hex(canonicalJSON(input)), definition: normalized, definition_sha256: await definitionSha256(normalized) });
    assert.equal(reserved.created, true);
    assert.equal((await saga.api("GET", `/executions/${id}`)).body.status, "pending");
    // A second request while the first holds the claim does not create the instance itself.
    const again = await saga.api("POST", "/executions", { input, idempotency_key: key });
    assert.equal(again.status, 200);
    assert.equal(again.body.status, "pending");
    const e = await waitForStatus(saga.api, id, ["completed"], { timeout: 20_000 });
    assert.equal(e.status, "completed");
    assert.deepEqual(ledger.applied(id), ["create_order:action", "reserve_stock:action"]);
  } finally {
    await saga.dispose();
    dir.remove();
  }
});
