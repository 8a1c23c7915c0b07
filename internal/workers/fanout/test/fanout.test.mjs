// The bundled fan-out in Miniflare: a publisher sends CloudEvents to the topic queue, the
// fan-out consumes it and forwards to the subscribers' queues, a recorder consumes those.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startTopic, waitFor, event, exampleConfig, byQueue, TOPIC_DLQ, INVALID_QUEUE } from "./harness.mjs";

const ids = (records) => records.map((r) => r.body.id).sort();
const countBy = (list) => list.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map());
// Messages the fan-out settled so far (acked, retried, or dead-lettered), from its batch logs.
const settled = (logs) => logs.filter((l) => l.type === "fanout.batch").reduce((n, l) => n + l.messages, 0);

// drained waits until the fan-out has settled `messages` topic messages and the recorder has
// received every message the fan-out handed to a subscriber or dead-letter queue, then
// returns what was received: nothing is still in flight.
async function drained(topic, messages) {
  return waitFor(
    async () => {
      if (settled(topic.logs) !== messages) return null;
      const batches = topic.logs.filter((l) => l.type === "fanout.batch");
      const handed = batches.reduce((n, l) => n + l.deliveries + l.dead_lettered, 0);
      const received = (await topic.received()).filter((r) => r.queue !== TOPIC_DLQ);
      return received.length === handed ? received : null;
    },
    { what: `${messages} settled messages and every forwarded one received` },
  );
}

test("publish → each subscriber receives exactly the events its type filter matches, once", async (t) => {
  const topic = await startTopic({ config: exampleConfig() });
  t.after(() => topic.dispose());
  const events = [
    event("Order.created", { order: 1 }),
    event("Order.created", { order: 2 }),
    event("Order.cancelled", { order: 1 }),
    event("Order.shipped", { order: 2 }),
    event("Order.item.added", { order: 3, sku: "A-1" }),
    event("Payment.captured", { order: 2, amount: 42.5 }),
    event("Payment.refunded", { order: 1 }),
    event("Inventory.low", { sku: "A-1" }),
    event("Orders.created", { note: "not an Order.* type" }),
  ];
  await topic.publish(events);
  const received = await drained(topic, events.length);

  const want = (pred) => events.filter((e) => pred(e.type)).map((e) => e.id).sort();
  assert.deepEqual(ids(byQueue(received, "orders-billing")), want((type) => type === "Order.created" || type === "Order.cancelled"));
  assert.deepEqual(ids(byQueue(received, "orders-analytics")), want((type) => type.startsWith("Order.") || type === "Payment.captured"));
  // The events arrive as published, field for field, and nothing else arrives anywhere.
  for (const r of received) assert.deepEqual(r.body, events.find((e) => e.id === r.body.id));
  assert.equal(received.length, 2 + 1 + 5 + 1);
  const batches = topic.logs.filter((l) => l.type === "fanout.batch");
  assert.equal(batches.reduce((n, l) => n + l.unmatched, 0), 3, "Payment.refunded, Inventory.low and Orders.created match no subscription");
  assert.equal(batches.reduce((n, l) => n + l.retried + l.invalid, 0), 0);
  assert.equal(batches.reduce((n, l) => n + l.deliveries, 0), 9 - 3 + 3, "one delivery per matching subscription");
});

test("a subscriber queue that refuses: the topic messages are retried until it accepts, and none is lost", async (t) => {
  const topic = await startTopic({ config: exampleConfig(), flaky: ["analytics"], consumer: { maxRetries: 5 } });
  t.after(() => topic.dispose());
  await topic.flaky("analytics", { failures: 2 });
  const events = Array.from({ length: 5 }, (_, i) => event("Order.created", { order: i }));
  await topic.publish(events);
  const all = events.map((e) => e.id).sort();

  const received = await waitFor(
    async () => {
      const r = await topic.received();
      return new Set(ids(byQueue(r, "orders-analytics"))).size === events.length ? r : null;
    },
    { what: "analytics to receive every event" },
  );
  assert.equal((await topic.flaky("analytics")).refused, 2, "the analytics queue refused two sendBatch calls");
  // Every event reached both subscribers; analytics got each exactly once (its queue only
  // accepted it once), billing at least once — the redeliveries are the documented duplicates.
  assert.deepEqual(ids(byQueue(received, "orders-analytics")), all);
  const billing = countBy(ids(byQueue(received, "orders-billing")));
  assert.deepEqual([...billing.keys()].sort(), all);
  for (const [id, n] of billing) assert.ok(n >= 2, `${id} was delivered to billing again when the message was retried (${n}×)`);
  const refusals = topic.logs.filter((l) => l.type === "fanout.refused");
  assert.ok(refusals.length >= 5 && refusals.every((r) => r.subscription === "analytics" && /queue unavailable/.test(r.error)));
  assert.equal(byQueue(received, TOPIC_DLQ).length, 0);
});

test("a subscriber queue that stays down: after max_retries the events land, unchanged, in the topic's dead-letter queue", async (t) => {
  const topic = await startTopic({ config: exampleConfig(), flaky: ["analytics"], consumer: { maxRetries: 2 } });
  t.after(() => topic.dispose());
  await topic.flaky("analytics", { down: true });
  const events = [event("Order.created", { order: 1 }), event("Order.shipped", { order: 2 }), event("Order.cancelled", { order: 3 })];
  await topic.publish(events);

  const received = await waitFor(
    async () => {
      const r = await topic.received();
      return byQueue(r, TOPIC_DLQ).length === events.length ? r : null;
    },
    { what: "the topic's dead-letter queue to hold every event" },
  );
  const dlq = byQueue(received, TOPIC_DLQ);
  assert.deepEqual(dlq.map((r) => r.body).sort((a, b) => a.id.localeCompare(b.id)), [...events].sort((a, b) => a.id.localeCompare(b.id)));
  assert.equal(byQueue(received, "orders-analytics").length, 0);
  // billing accepted its two events on each of the 3 attempts.
  const billing = countBy(ids(byQueue(received, "orders-billing")));
  assert.deepEqual([...billing.values()], [3, 3]);
});

test("invalid envelopes go to the dead-letter queue with the reason; valid events of the same batch are delivered", async (t) => {
  const topic = await startTopic({ config: exampleConfig() });
  t.after(() => topic.dispose());
  const good = event("Order.created", { order: 1 });
  const noId = { ...event("Order.created"), id: undefined };
  delete noId.id;
  const wrongVersion = { ...event("Order.created"), specversion: "0.3" };
  await topic.publish([good, { hello: "world" }, noId, wrongVersion]);
  const goodText = event("Order.cancelled", { order: 2 });
  await topic.publish(["{not json", JSON.stringify(goodText)], "text");

  const received = await waitFor(
    async () => {
      const r = await topic.received();
      return byQueue(r, INVALID_QUEUE).length === 4 && byQueue(r, "orders-billing").length === 2 ? r : null;
    },
    { what: "four dead letters and two deliveries" },
  );
  assert.deepEqual(ids(byQueue(received, "orders-billing")), [good.id, goodText.id].sort());
  assert.deepEqual(byQueue(received, "orders-billing").find((r) => r.body.id === goodText.id).body, goodText, "a text body is forwarded as the JSON object it holds");
  const letters = byQueue(received, INVALID_QUEUE).map((r) => r.body);
  for (const l of letters) {
    assert.equal(l.specversion, "1.0");
    assert.equal(l.type, "do.services.fanout.invalid");
    assert.equal(l.source, "servicesdo-fanout/orders");
    assert.equal(l.data.topic, "orders");
    assert.equal(l.data.attempts, 1);
    assert.equal(l.id, l.data.message_id);
  }
  const byReason = Object.fromEntries(letters.map((l) => [l.data.reason, l.data.body]));
  assert.deepEqual(byReason, {
    '"specversion" is missing: CloudEvents 1.0 events carry "specversion": "1.0"': { hello: "world" },
    '"id" is missing: every event needs an id, unique for its source (consumers use it to drop duplicates)': noId,
    '"specversion" is "0.3": this topic accepts CloudEvents 1.0 ("specversion": "1.0")': wrongVersion,
    'the message body is text that is not JSON: send the event as a JSON object (contentType "json")': "{not json",
  });
  assert.equal(byQueue(received, TOPIC_DLQ).length, 0);
  assert.equal(topic.logs.filter((l) => l.type === "fanout.invalid_event").length, 4);
});

test("without a dead-letter queue, an invalid envelope is retried into the topic's dead-letter queue, unchanged", async (t) => {
  const topic = await startTopic({ config: exampleConfig({ deadLetter: false }), consumer: { maxRetries: 1 } });
  t.after(() => topic.dispose());
  const bad = { specversion: "1.0", id: "x-1", source: "/tests", type: "" };
  const good = event("Order.created");
  await topic.publish([bad, good]);
  const received = await waitFor(
    async () => {
      const r = await topic.received();
      return byQueue(r, TOPIC_DLQ).length === 1 ? r : null;
    },
    { what: "the invalid message in the topic's dead-letter queue" },
  );
  assert.deepEqual(byQueue(received, TOPIC_DLQ)[0].body, bad);
  assert.deepEqual(ids(byQueue(received, "orders-billing")), [good.id], "the valid event was delivered once: it was acknowledged on the first attempt");
});

test("a dead-letter queue that refuses: the invalid message is retried, then dead-lettered", async (t) => {
  const topic = await startTopic({ config: exampleConfig(), flaky: ["dead_letter"] });
  t.after(() => topic.dispose());
  await topic.flaky("dead_letter", { failures: 1 });
  await topic.publish([{ specversion: "1.0", id: "x-2", source: "/tests" }]);
  const received = await waitFor(
    async () => {
      const r = await topic.received();
      return byQueue(r, INVALID_QUEUE).length === 1 ? r : null;
    },
    { what: "the dead letter" },
  );
  const letter = byQueue(received, INVALID_QUEUE)[0].body;
  assert.equal(letter.data.attempts, 2, "accepted on the second attempt");
  assert.equal(letter.data.reason, '"type" is missing: the event type, such as "Order.created"');
  assert.equal(byQueue(received, TOPIC_DLQ).length, 0);
});

test("batches: 250 events in batches of 100, and large events split across sendBatch calls within the limits", async (t) => {
  const topic = await startTopic({ config: exampleConfig(), consumer: { maxBatchSize: 100, maxBatchTimeout: 1 } });
  t.after(() => topic.dispose());
  const many = Array.from({ length: 250 }, (_, i) => event(i % 2 ? "Order.created" : "Order.shipped", { i }));
  await topic.publish(many);
  let received = await drained(topic, many.length);
  assert.deepEqual(ids(byQueue(received, "orders-analytics")), many.map((e) => e.id).sort());
  assert.deepEqual(ids(byQueue(received, "orders-billing")), many.filter((e) => e.type === "Order.created").map((e) => e.id).sort());
  assert.ok(topic.logs.filter((l) => l.type === "fanout.batch").every((l) => l.messages <= 100));

  // Six 90 KB events: one sendBatch of all six would exceed the 256 KB batch limit.
  const large = Array.from({ length: 6 }, (_, i) => event("Order.created", { i, blob: "x".repeat(90_000) }));
  for (const e of large) await topic.publish([e]); // one message per send: each is under 128 KB
  const isLarge = new Set(large.map((e) => e.id));
  received = (await drained(topic, many.length + large.length)).filter((r) => isLarge.has(r.body.id));
  assert.deepEqual(ids(byQueue(received, "orders-billing")), [...isLarge].sort());
  assert.deepEqual(ids(byQueue(received, "orders-analytics")), [...isLarge].sort());
  assert.ok(topic.logs.some((l) => l.type === "fanout.batch" && l.messages > 2), "the large events were fanned out in a batch of more than two");
  assert.equal(topic.logs.filter((l) => l.type === "fanout.refused").length, 0);
});

test("text and bytes bodies holding CloudEvents JSON are forwarded as JSON objects", async (t) => {
  const topic = await startTopic({ config: exampleConfig() });
  t.after(() => topic.dispose());
  const a = event("Order.created", { via: "text" });
  const b = event("Order.created", { via: "bytes" });
  await topic.publish([a], "text");
  await topic.publish([b], "bytes");
  const received = await waitFor(
    async () => {
      const r = await topic.received();
      return byQueue(r, "orders-billing").length === 2 ? r : null;
    },
    { what: "both events" },
  );
  for (const r of byQueue(received, "orders-billing")) assert.deepEqual(r.body, r.body.data.via === "text" ? a : b);
});

test("a configuration that does not match the bindings fails closed: nothing is acknowledged, GET /health says why", async (t) => {
  const config = exampleConfig();
  const broken = { ...config, subscriptions: [...config.subscriptions, { name: "audit", binding: "SUBSCRIPTION_AUDIT", types: ["*"] }] };
  const topic = await startTopic({ config, rawConfig: broken, consumer: { maxRetries: 1 } });
  t.after(() => topic.dispose());
  const health = await topic.fetch("/health");
  assert.equal(health.status, 500);
  assert.deepEqual(await health.json(), {
    status: "fail",
    error: "subscriptions[2].binding: this Worker has no queue producer binding SUBSCRIPTION_AUDIT: bind the subscriber's queue under that name",
  });
  const e = event("Order.created");
  await topic.publish([e]);
  const received = await waitFor(
    async () => {
      const r = await topic.received();
      return byQueue(r, TOPIC_DLQ).length === 1 ? r : null;
    },
    { what: "the message in the topic's dead-letter queue" },
  );
  assert.deepEqual(byQueue(received, TOPIC_DLQ)[0].body, e);
  assert.equal(byQueue(received, "orders-billing").length, 0, "nothing was delivered under a broken configuration");
  assert.equal(topic.logs.filter((l) => l.type === "fanout.config_error").length, 2);
});

test("GET /health reports the topic and its subscriptions; other paths are 404", async (t) => {
  const topic = await startTopic({ config: exampleConfig() });
  t.after(() => topic.dispose());
  const res = await topic.fetch("/health");
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: "pass", topic: "orders", subscriptions: ["billing", "analytics"], dead_letter: "FANOUT_DEAD_LETTER" });
  assert.equal((await topic.fetch("/publish", { method: "POST", body: "{}" })).status, 404);
});
