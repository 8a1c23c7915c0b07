// A four-step saga with no pivot step (every step compensable): failure at each position, and
// timeouts.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { executionIdFor } from "../src/ids.js";
import { FOUR_STEPS, Ledger, definitionOf, startSaga, tempDir, waitForStatus } from "./harness.mjs";

const steps = FOUR_STEPS.map((s) => ({ ...s }));
steps[1].timeout = "1s"; // reserve_stock: the timeout scenarios
steps[2].compensatePath = "/charge_payment/{{steps.charge_payment.output.id}}/refund"; // needs its own output
const definition = definitionOf("linear", steps);

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

async function run(key, plan) {
  const id = await executionIdFor(key);
  plans.set(id, plan);
  const res = await saga.api("POST", "/executions", { input: { order_id: key }, idempotency_key: key });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return id;
}

const settle = (id) => waitForStatus(saga.api, id, ["completed", "compensated", "parked", "failed"]);
const names = FOUR_STEPS.map((s) => s.name);
const reverse = (list) => [...list].reverse();

describe("failure at each step position", () => {
  for (let k = 0; k < names.length; k++) {
    test(`${names[k]} rejected (400): the ${k} steps before it are compensated in reverse, it is not`, async () => {
      const id = await run(`reject-${k}`, (c) => (c.step === names[k] && c.kind === "action" ? { status: 400 } : {}));
      const e = await settle(id);
      assert.equal(e.status, "compensated");
      assert.equal(e.failed_step, names[k]);
      const done = names.slice(0, k);
      assert.deepEqual(ledger.applied(id), [...done.map((n) => `${n}:action`), ...reverse(done).map((n) => `${n}:compensate`)]);
      // Every call for a compensated step came once, and nothing ran after the failure.
      assert.deepEqual(
        ledger.of(id).map((c) => `${c.step}:${c.kind}`),
        [...done.map((n) => `${n}:action`), `${names[k]}:action`, ...reverse(done).map((n) => `${n}:compensate`)],
      );
    });
  }

  for (let k = 0; k < names.length; k++) {
    if (names[k] === "charge_payment") continue; // its compensation needs the output it never got: see below
    test(`${names[k]} failing with 503 until its retries run out: it may have taken effect, so it is compensated first`, async () => {
      const id = await run(`unknown-${k}`, (c) => (c.step === names[k] && c.kind === "action" ? { status: 503 } : {}));
      const e = await settle(id);
      assert.equal(e.status, "compensated");
      const done = names.slice(0, k);
      assert.deepEqual(ledger.applied(id), [...done.map((n) => `${n}:action`), ...reverse(names.slice(0, k + 1)).map((n) => `${n}:compensate`)]);
      assert.equal(ledger.of(id).filter((c) => c.step === names[k] && c.kind === "action").length, 3);
    });
  }

  test("a compensation that needs the output of a step whose outcome is unknown parks with the reason", async () => {
    const id = await run("unknown-output", (c) => (c.step === "charge_payment" && c.kind === "action" ? { status: 503 } : {}));
    const e = await settle(id);
    assert.equal(e.status, "parked");
    assert.equal(e.parked.step, "charge_payment");
    assert.equal(
      e.parked.error,
      'cannot build the compensate request of step "charge_payment": {{steps.charge_payment.output.id}}: step "charge_payment" has no output (it has not completed)',
    );
    assert.equal(ledger.of(id).filter((c) => c.kind === "compensate").length, 0, "nothing compensated before the operator decides");
    assert.equal((await saga.api("POST", `/executions/${id}/skip`, {})).status, 202);
    const done = await waitForStatus(saga.api, id, ["compensated"]);
    assert.equal(done.steps[2].compensation.state, "skipped");
    assert.deepEqual(ledger.applied(id).slice(2), ["reserve_stock:compensate", "create_order:compensate"]);
  });
});

describe("timeouts", () => {
  test("a call slower than the step timeout is retried; a participant that applied it answers the retry", async () => {
    const id = await run("timeout-once", (c) => (c.step === "reserve_stock" && c.n === 1 ? { delay: 1500 } : {}));
    const e = await settle(id);
    assert.equal(e.status, "completed");
    const rec = e.steps[1].action;
    assert.deepEqual(
      rec.attempt_log.map((a) => [a.attempt, a.outcome]),
      [
        [1, "timeout"],
        [2, "ok"],
      ],
    );
    assert.equal(rec.attempt_log[0].error, "POST /reserve_stock timed out after 1000ms");
    const calls = ledger.of(id).filter((c) => c.step === "reserve_stock");
    assert.equal(calls.length, 2);
    assert.equal(calls[1].replayed, true);
  });

  test("a step that times out on every attempt is compensated (it may have taken effect)", async () => {
    const id = await run("timeout-always", (c) => (c.step === "reserve_stock" && c.kind === "action" ? { status: 503, delay: 1500 } : {}));
    const e = await settle(id);
    assert.equal(e.status, "compensated");
    assert.equal(e.steps[1].action.effect, "unknown");
    assert.ok(e.steps[1].action.attempt_log.every((a) => a.outcome === "timeout"));
    assert.deepEqual(ledger.applied(id), ["create_order:action", "reserve_stock:compensate", "create_order:compensate"]);
  });
});
