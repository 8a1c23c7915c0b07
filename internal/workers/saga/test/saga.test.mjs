// Scenarios on a four-step checkout saga whose pivot is charge_payment (ship, after it, has no
// compensation), run by the bundled Worker in Miniflare against ledger-keeping participants.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { executionIdFor } from "../src/ids.js";
import { FOUR_STEPS, Ledger, definitionOf, startSaga, tempDir, waitFor, waitForStatus } from "./harness.mjs";

const definition = definitionOf("checkout", FOUR_STEPS, { pivot_step: "charge_payment" });
delete definition.steps[3].compensate;

const ledger = new Ledger();
const plans = new Map();
ledger.plan = (call) => plans.get(call.execution)?.(call);
let saga;
let dir;

before(async () => {
  dir = tempDir();
  saga = await startSaga({ definition, ledger, persist: dir.dir });
});
after(async () => {
  await saga.dispose();
  dir.remove();
});

const FINAL = ["completed", "compensated", "resolved", "terminated", "failed"];

// run starts an execution whose participants follow plan, and returns its id.
async function run(key, plan, input = { order_id: key }) {
  const id = await executionIdFor(key);
  if (plan) plans.set(id, plan);
  const res = await saga.api("POST", "/executions", { input, idempotency_key: key });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.equal(res.body.id, id);
  return id;
}

const settle = (id, statuses = [...FINAL, "parked"]) => waitForStatus(saga.api, id, statuses);
const step = (execution, name) => execution.steps.find((s) => s.name === name);

describe("forward path", () => {
  test("happy path: every action once, in order, with rendered templates and idempotency keys", async () => {
    const id = await run("happy");
    const e = await settle(id);
    assert.equal(e.status, "completed");
    assert.deepEqual(ledger.applied(id), ["create_order:action", "reserve_stock:action", "charge_payment:action", "ship:action"]);
    const calls = ledger.of(id);
    assert.equal(calls.length, 4);
    assert.deepEqual(
      calls.map((c) => [c.service, c.method, c.path, c.key]),
      FOUR_STEPS.map((s) => [s.service, "POST", `/${s.name}`, `${id}:${s.name}:action`]),
    );
    assert.deepEqual(calls[0].body, { order: "happy" });
    assert.deepEqual(calls[1].body, { order: "happy", after: `create_order-${id.slice(2, 10)}` });
    for (const s of e.steps) {
      assert.equal(s.action.state, "completed", s.name);
      assert.equal(s.action.attempts, 1);
      assert.equal(s.action.status, 200);
      assert.deepEqual(s.action.output, { id: `${s.name}-${id.slice(2, 10)}`, step: s.name, kind: "action" });
      assert.ok(Date.parse(s.action.started_at) <= Date.parse(s.action.ended_at));
      assert.equal(s.compensation?.state ?? "none", s.name === "ship" ? "none" : "pending");
    }
    assert.equal(step(e, "charge_payment").pivot, true);
    assert.equal(e.engine_status, "complete");
    assert.equal(e.input.order_id, "happy");
  });

  test("transient failures within the retry budget succeed, each attempt recorded", async () => {
    const id = await run("transient", (c) => (c.step === "reserve_stock" && c.n <= 2 ? { status: 503 } : {}));
    const e = await settle(id);
    assert.equal(e.status, "completed");
    const calls = ledger.of(id).filter((c) => c.step === "reserve_stock");
    assert.deepEqual(
      calls.map((c) => [c.attempt, c.status]),
      [
        [1, 503],
        [2, 503],
        [3, 200],
      ],
    );
    assert.ok(calls.every((c) => c.key === `${id}:reserve_stock:action`));
    const rec = step(e, "reserve_stock").action;
    assert.equal(rec.attempts, 3);
    assert.deepEqual(
      rec.attempt_log.map((a) => [a.attempt, a.outcome, a.status]),
      [
        [1, "http", 503],
        [2, "http", 503],
        [3, "ok", 200],
      ],
    );
    assert.equal(ledger.of(id).filter((c) => c.kind === "compensate").length, 0);
  });

  test("a non-retryable status fails the step at once; the steps before it are compensated in reverse", async () => {
    const id = await run("reject", (c) => (c.step === "charge_payment" && c.kind === "action" ? { status: 422 } : {}));
    const e = await settle(id);
    assert.equal(e.status, "compensated");
    assert.equal(e.failed_step, "charge_payment");
    assert.equal(ledger.of(id).filter((c) => c.step === "charge_payment").length, 1, "422 is not retried");
    // The rejected step took no effect, so only the two before it are compensated.
    assert.deepEqual(ledger.applied(id), ["create_order:action", "reserve_stock:action", "reserve_stock:compensate", "create_order:compensate"]);
    assert.equal(step(e, "charge_payment").action.state, "failed");
    assert.match(step(e, "charge_payment").action.error, /POST \/charge_payment answered 422/);
    assert.equal(step(e, "charge_payment").compensation.state, "pending");
    assert.equal(step(e, "reserve_stock").compensation.state, "completed");
    assert.equal(ledger.of(id).filter((c) => c.step === "ship").length, 0);
  });

  test("retries exhaust after the configured attempts; a step that may have taken effect is compensated too", async () => {
    const id = await run("exhaust", (c) => (c.step === "charge_payment" && c.kind === "action" ? { status: 503 } : {}));
    const e = await settle(id);
    assert.equal(e.status, "compensated");
    assert.equal(ledger.of(id).filter((c) => c.step === "charge_payment" && c.kind === "action").length, 3);
    assert.deepEqual(ledger.applied(id), [
      "create_order:action",
      "reserve_stock:action",
      "charge_payment:compensate",
      "reserve_stock:compensate",
      "create_order:compensate",
    ]);
    assert.equal(step(e, "charge_payment").action.effect, "unknown");
  });
});

describe("pivot", () => {
  test("a failure after the pivot is not compensated: it parks, and retry finishes it forward", async () => {
    let healthy = false;
    const id = await run("forward", (c) => (c.step === "ship" && !healthy ? { status: 503 } : {}));
    let e = await settle(id);
    assert.equal(e.status, "parked");
    assert.equal(e.parked.reason, "step_failed");
    assert.equal(e.parked.step, "ship");
    assert.deepEqual(e.parked.actions, ["retry", "skip", "resolve"]);
    assert.equal(ledger.of(id).filter((c) => c.kind === "compensate").length, 0, "nothing compensated after the pivot");
    assert.equal(ledger.of(id).filter((c) => c.step === "ship").length, 3);

    healthy = true;
    const res = await saga.api("POST", `/executions/${id}/retry`, { reason: "shipping is back" });
    assert.equal(res.status, 202);
    e = await settle(id, FINAL);
    assert.equal(e.status, "completed");
    assert.deepEqual(ledger.applied(id), ["create_order:action", "reserve_stock:action", "charge_payment:action", "ship:action"]);
    assert.equal(step(e, "ship").action.rounds, 2);
    assert.deepEqual(
      e.decisions.map((d) => [d.park, d.action, d.reason, d.applied]),
      [[1, "retry", "shipping is back", true]],
    );
  });

  test("skip on a forward failure moves on without the step", async () => {
    const id = await run("forward-skip", (c) => (c.step === "ship" ? { status: 400 } : {}));
    let e = await settle(id);
    assert.equal(e.status, "parked");
    assert.equal(ledger.of(id).filter((c) => c.step === "ship").length, 1);
    assert.equal((await saga.api("POST", `/executions/${id}/skip`, {})).status, 202);
    e = await settle(id, FINAL);
    assert.equal(e.status, "completed");
    assert.equal(step(e, "ship").action.state, "skipped");
    assert.equal(ledger.of(id).filter((c) => c.kind === "compensate").length, 0);
  });

  test("a failure at the pivot compensates", async () => {
    const id = await run("at-pivot", (c) => (c.step === "charge_payment" && c.kind === "action" ? { status: 400 } : {}));
    const e = await settle(id);
    assert.equal(e.status, "compensated");
    assert.deepEqual(ledger.applied(id).slice(2), ["reserve_stock:compensate", "create_order:compensate"]);
  });
});

describe("parked compensation", () => {
  const failCompensation = (state) => (c) => {
    if (c.step === "charge_payment" && c.kind === "action") return { status: 400 };
    if (c.step === "create_order" && c.kind === "compensate" && !state.healthy) return { status: 500 };
    return {};
  };

  test("a compensation that exhausts its retries parks; retry after the participant recovers compensates it once", async () => {
    const state = { healthy: false };
    const id = await run("park-retry", failCompensation(state));
    let e = await settle(id);
    assert.equal(e.status, "parked");
    assert.equal(e.parked.reason, "compensation_failed");
    assert.equal(e.parked.step, "create_order");
    assert.match(e.parked.error, /POST \/create_order\/undo answered 500/);
    assert.equal(step(e, "create_order").compensation.state, "failed");
    assert.equal(ledger.of(id).filter((c) => c.step === "create_order" && c.kind === "compensate").length, 3);
    const listed = await saga.api("GET", "/executions?status=parked");
    assert.ok(listed.body.executions.some((x) => x.id === id && x.parked.step === "create_order"));

    // A decision on an execution that is not parked is refused.
    const other = await run("not-parked");
    await settle(other);
    assert.equal((await saga.api("POST", `/executions/${other}/retry`, {})).status, 409);

    state.healthy = true;
    assert.equal((await saga.api("POST", `/executions/${id}/retry`, {})).status, 202);
    e = await settle(id, FINAL);
    assert.equal(e.status, "compensated");
    assert.deepEqual(ledger.applied(id), ["create_order:action", "reserve_stock:action", "reserve_stock:compensate", "create_order:compensate"]);
    assert.equal(step(e, "create_order").compensation.state, "completed");
    assert.equal(step(e, "create_order").compensation.rounds, 2);
    assert.equal(e.parked, null);
  });

  test("skip leaves the compensation to the operator and finishes the others", async () => {
    const id = await run("park-skip", (c) => {
      if (c.step === "charge_payment" && c.kind === "action") return { status: 503 };
      if (c.step === "reserve_stock" && c.kind === "compensate") return { status: 500 };
      return {};
    });
    let e = await settle(id);
    assert.equal(e.parked.step, "reserve_stock");
    assert.equal((await saga.api("POST", `/executions/${id}/skip`, { reason: "released by hand" })).status, 202);
    e = await settle(id, FINAL);
    assert.equal(e.status, "compensated");
    assert.equal(step(e, "reserve_stock").compensation.state, "skipped");
    assert.deepEqual(ledger.applied(id), ["create_order:action", "reserve_stock:action", "charge_payment:compensate", "create_order:compensate"]);
  });

  test("resolve ends the execution with no further calls", async () => {
    const id = await run("park-resolve", failCompensation({ healthy: false }));
    await settle(id);
    const before = ledger.of(id).length;
    assert.equal((await saga.api("POST", `/executions/${id}/resolve`, { reason: "fixed in the database" })).status, 202);
    const e = await settle(id, FINAL);
    assert.equal(e.status, "resolved");
    assert.equal(ledger.of(id).length, before);
  });
});

describe("idempotent start", () => {
  test("the same key names the same execution and never starts a second run", async () => {
    const id = await run("idem");
    const again = await saga.api("POST", "/executions", { input: { order_id: "idem" }, idempotency_key: "idem" });
    assert.equal(again.status, 200);
    assert.equal(again.body.id, id);
    await settle(id);
    const third = await saga.api("POST", "/executions", { input: { order_id: "idem" }, idempotency_key: "idem" });
    assert.equal(third.status, 200);
    assert.equal(third.body.status, "completed");
    assert.equal(ledger.of(id).length, 4);
  });

  test("concurrent starts with one key make one execution", async () => {
    const id = await executionIdFor("idem-concurrent");
    const results = await Promise.all(Array.from({ length: 8 }, () => saga.api("POST", "/executions", { input: { order_id: "c" }, idempotency_key: "idem-concurrent" })));
    assert.deepEqual(results.map((r) => r.body.id), Array(8).fill(id));
    assert.equal(results.filter((r) => r.status === 201).length, 1);
    assert.equal(results.filter((r) => r.status === 200).length, 7);
    await settle(id);
    assert.equal(ledger.of(id).filter((c) => c.step === "create_order").length, 1);
  });

  test("reusing a key with a different input is refused", async () => {
    await run("idem-conflict", undefined, { order_id: "a" });
    const res = await saga.api("POST", "/executions", { input: { order_id: "b" }, idempotency_key: "idem-conflict" });
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, "idempotency_key_reused");
  });
});

describe("terminate", () => {
  test("with compensation while a call is in flight: waits for it, then compensates each step once", async () => {
    const id = await run("term-inflight", (c) => (c.step === "charge_payment" && c.kind === "action" ? { status: 503, delay: 600 } : {}));
    await waitFor(() => ledger.of(id).some((c) => c.step === "charge_payment"), { what: "the charge call" });
    const res = await saga.api("POST", `/executions/${id}/terminate`, { reason: "customer cancelled" });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, "terminated");
    assert.equal(res.body.engine_status, "terminated");
    assert.deepEqual(res.body.terminate.compensate, true);
    assert.deepEqual(res.body.terminate.compensation_failed, []);
    // The charge's outcome is unknown (503), so it is compensated with the two before it.
    assert.deepEqual(ledger.applied(id), ["create_order:action", "reserve_stock:action", "charge_payment:compensate", "reserve_stock:compensate", "create_order:compensate"]);
    assert.equal(ledger.of(id).filter((c) => c.step === "charge_payment" && c.kind === "action").length, 1, "no retry after the pause");
    for (const name of ["create_order", "reserve_stock", "charge_payment"]) {
      assert.equal(step(res.body, name).compensation.state, "completed", name);
      assert.equal(step(res.body, name).compensation.source, "rollback", name);
    }
    const again = await saga.api("POST", `/executions/${id}/terminate`, {});
    assert.equal(again.status, 409);
  });

  test("with compensation while parked: only what is still uncompensated is compensated", async () => {
    const state = { healthy: false };
    const id = await run("term-parked", (c) => {
      if (c.step === "charge_payment" && c.kind === "action") return { status: 400 };
      if (c.step === "create_order" && c.kind === "compensate" && !state.healthy) return { status: 500 };
      return {};
    });
    const parked = await settle(id);
    assert.equal(parked.status, "parked");
    state.healthy = true;
    const res = await saga.api("POST", `/executions/${id}/terminate`, { compensate: true });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, "terminated");
    assert.deepEqual(ledger.applied(id), ["create_order:action", "reserve_stock:action", "reserve_stock:compensate", "create_order:compensate"]);
    assert.equal(step(res.body, "charge_payment").compensation.state, "not_needed");
    assert.equal(step(res.body, "reserve_stock").compensation.source, null, "compensated by the run, not again by the rollback");
  });

  test("without compensation: stops and calls nothing more", async () => {
    const id = await run("term-plain", (c) => (c.step === "reserve_stock" ? { status: 503, delay: 300 } : {}));
    await waitFor(() => ledger.of(id).some((c) => c.step === "reserve_stock"), { what: "the reserve call" });
    const res = await saga.api("POST", `/executions/${id}/terminate`, { compensate: false });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, "terminated");
    assert.equal(res.body.terminate.compensate, false);
    assert.equal(ledger.of(id).filter((c) => c.kind === "compensate").length, 0);
  });

  test("past the pivot, compensation is refused and the execution carries on", async () => {
    const state = { healthy: false };
    const id = await run("term-pivot", (c) => (c.step === "ship" && !state.healthy ? { status: 503 } : {}));
    assert.equal((await settle(id)).status, "parked");
    const res = await saga.api("POST", `/executions/${id}/terminate`, { compensate: true });
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, "past_pivot");
    state.healthy = true;
    assert.equal((await saga.api("POST", `/executions/${id}/retry`, {})).status, 202);
    assert.equal((await settle(id, FINAL)).status, "completed");
    assert.equal(ledger.of(id).filter((c) => c.kind === "compensate").length, 0);
  });
});

describe("listing and requests", () => {
  test("list filters by status and pages with a cursor", async () => {
    const all = await saga.api("GET", "/executions?limit=1000");
    assert.equal(all.status, 200);
    assert.equal(all.body.count, all.body.executions.length);
    const completed = all.body.executions.filter((e) => e.status === "completed").map((e) => e.id);
    const seen = [];
    let cursor = null;
    do {
      const page = await saga.api("GET", `/executions?status=completed&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      assert.equal(page.status, 200);
      assert.ok(page.body.executions.length <= 2);
      assert.equal(page.body.count, completed.length);
      seen.push(...page.body.executions.map((e) => e.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    assert.deepEqual(seen, completed);
    assert.ok(completed.length >= 3);
    assert.equal((await saga.api("GET", "/executions?status=done")).status, 400);
    assert.equal((await saga.api("GET", "/executions?limit=0")).status, 400);
    assert.equal((await saga.api("GET", "/executions?cursor=nonsense")).status, 400);
  });

  test("bad requests are refused with a reason", async () => {
    let res = await saga.api("POST", "/executions", { input: {}, key: "x" });
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /unknown field "key"/);
    res = await saga.api("POST", "/executions", { idempotency_key: "" });
    assert.equal(res.status, 400);
    res = await saga.api("GET", "/executions/e-nothere");
    assert.equal(res.status, 404);
    res = await saga.api("POST", "/executions/e-nothere/retry", {});
    assert.equal(res.status, 404);
    res = await saga.api("GET", "/");
    assert.equal(res.body.saga, "checkout");
    assert.match(res.body.definition_sha256, /^[0-9a-f]{64}$/);
    const def = await saga.api("GET", `/definitions/${res.body.definition_sha256}`);
    assert.equal(def.status, 200);
    assert.equal(def.body.pivot_step, "charge_payment");
  });
});
