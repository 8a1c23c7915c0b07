// Pure parts of the fan-out, tested directly from src: type filters, the envelope, the
// configuration and batch chunking. (Delivery runs the bundle in Miniflare: fanout.test.mjs.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseTypeFilter, matches, compileTypes, FilterError } from "../src/filter.js";
import { validateEnvelope, decodeBody, EnvelopeError } from "../src/envelope.js";
import { compileConfig, ConfigError } from "../src/config.js";
import { chunk, deadLetterEvent, MAX_BATCH_BYTES, MAX_BATCH_MESSAGES } from "../src/deliver.js";

const testdata = (name) => JSON.parse(readFileSync(new URL(`../testdata/${name}`, import.meta.url), "utf8"));

test("type filter vectors shared with the Go validation", () => {
  const { filters, matches: cases } = testdata("type-filters.json");
  for (const v of filters) {
    if (v.error) {
      assert.throws(() => parseTypeFilter(v.filter), (err) => err instanceof FilterError && err.message === v.error, v.filter);
    } else {
      assert.equal(parseTypeFilter(v.filter).kind, v.kind, v.filter);
    }
  }
  for (const c of cases) {
    assert.equal(matches(parseTypeFilter(c.filter), c.type), c.match, `${c.filter} ~ ${c.type}`);
    assert.equal(compileTypes([c.filter], "types")(c.type), c.match, `compiled ${c.filter} ~ ${c.type}`);
  }
});

test("a subscription's filters: any one matching is enough; none, duplicates and bad entries are refused", () => {
  const accepts = compileTypes(["Order.created", "Payment.*"], "types");
  assert.equal(accepts("Order.created"), true);
  assert.equal(accepts("Payment.captured"), true);
  assert.equal(accepts("Order.cancelled"), false);
  assert.equal(compileTypes(["Order.created", "*"], "types")("Anything"), true);
  assert.throws(() => compileTypes([], "subscriptions[0].types"), { message: 'subscriptions[0].types: list at least one type filter, e.g. ["Order.created"], or ["*"] for every type' });
  assert.throws(() => compileTypes("Order.*", "t"), { message: 't: list at least one type filter, e.g. ["Order.created"], or ["*"] for every type' });
  assert.throws(() => compileTypes(["A", "A"], "t"), { message: 't[1]: type filter "A" is listed twice (also types[0]): remove one' });
  assert.throws(() => compileTypes(["A", 7], "t"), { message: 't[1]: type filter 7 must be a string: write an event type such as "Order.created", a prefix such as "Order.*", or "*" for every type' });
});

test("envelope vectors: valid events pass unchanged, invalid ones fail with the documented reason", () => {
  const { valid, invalid } = testdata("envelopes.json");
  for (const { name, event } of valid) assert.equal(validateEnvelope(event), event, name);
  for (const { name, body, reason } of invalid) {
    assert.throws(() => validateEnvelope(body), (err) => err instanceof EnvelopeError && err.message === reason, name);
  }
});

test("message bodies: json objects as sent, text and bytes parsed as JSON", () => {
  const event = testdata("envelopes.json").valid[0].event;
  assert.deepEqual(decodeBody(JSON.stringify(event)), event);
  assert.deepEqual(decodeBody(new TextEncoder().encode(JSON.stringify(event))), event);
  assert.deepEqual(decodeBody(new TextEncoder().encode(JSON.stringify(event)).buffer), event);
  assert.equal(decodeBody(event), event);
  assert.throws(() => decodeBody("{not json"), { message: 'the message body is text that is not JSON: send the event as a JSON object (contentType "json")' });
  assert.throws(() => decodeBody(new Uint8Array([0xff, 0xfe])), { message: 'the message body is bytes that are not UTF-8 text: send the event as JSON (contentType "json")' });
});

test("the documented example configuration compiles, and the shared invalid configurations are refused at their path", () => {
  const cfg = compileConfig(testdata("config-example.json"));
  assert.equal(cfg.topic, "orders");
  assert.deepEqual(cfg.subscriptions.map((s) => [s.name, s.binding, s.queue]), [
    ["billing", "SUBSCRIPTION_BILLING", "orders-billing"],
    ["analytics", "SUBSCRIPTION_ANALYTICS", "orders-analytics"],
  ]);
  assert.equal(cfg.subscriptions[0].accepts("Order.created"), true);
  assert.equal(cfg.subscriptions[0].accepts("Order.shipped"), false);
  assert.equal(cfg.subscriptions[1].accepts("Order.shipped"), true);
  assert.deepEqual(cfg.deadLetter, { binding: "FANOUT_DEAD_LETTER", queue: "orders-invalid" });
  assert.deepEqual(compileConfig(JSON.stringify(testdata("config-example.json"))).topic, "orders");
  for (const { name, config, path } of testdata("invalid-configs.json").invalid) {
    assert.throws(() => compileConfig(config), (err) => err instanceof ConfigError && err.message.startsWith(path + ": "), `${name}: want a problem at ${path}`);
  }
});

test("the configuration is checked against the Worker's bindings", () => {
  const raw = testdata("config-example.json");
  const queue = { sendBatch: async () => {} };
  const env = { SUBSCRIPTION_BILLING: queue, SUBSCRIPTION_ANALYTICS: queue, FANOUT_DEAD_LETTER: queue };
  assert.equal(compileConfig(raw, env).subscriptions.length, 2);
  assert.throws(() => compileConfig(raw, { ...env, SUBSCRIPTION_ANALYTICS: undefined }), {
    message: "subscriptions[1].binding: this Worker has no queue producer binding SUBSCRIPTION_ANALYTICS: bind the subscriber's queue under that name",
  });
  assert.throws(() => compileConfig(raw, { ...env, FANOUT_DEAD_LETTER: "a string" }), {
    message: "dead_letter.binding: this Worker has no queue producer binding FANOUT_DEAD_LETTER: bind the subscriber's queue under that name",
  });
  assert.throws(() => compileConfig("{", env), { message: "FANOUT_CONFIG: is not JSON" });
  assert.throws(() => compileConfig(undefined, env), { message: "FANOUT_CONFIG: is not a JSON object (bind the fan-out configuration as a JSON binding)" });
});

test("chunks stay within 100 messages and 256 KB per sendBatch, in order", () => {
  const items = (n, bytes) => Array.from({ length: n }, (_, i) => ({ i, bytes }));
  assert.deepEqual(chunk([]), []);
  assert.deepEqual(chunk(items(250, 10)).map((c) => c.length), [100, 100, 50]);
  const big = chunk(items(7, 100_000));
  assert.deepEqual(big.map((c) => c.length), [2, 2, 2, 1]);
  for (const c of [...chunk(items(250, 10)), ...big, ...chunk(items(300, 3000))]) {
    assert.ok(c.length <= MAX_BATCH_MESSAGES && c.reduce((n, x) => n + x.bytes, 0) <= MAX_BATCH_BYTES);
  }
  assert.deepEqual(chunk(items(5, 10)).flat().map((x) => x.i), [0, 1, 2, 3, 4]);
});

test("the dead-letter event wraps the original message and says why", () => {
  const message = { id: "m-1", attempts: 2, timestamp: new Date("2026-08-01T12:00:00Z"), body: { not: "an event" } };
  assert.deepEqual(deadLetterEvent(message, "why", "orders", Date.parse("2026-08-01T12:00:05Z")), {
    specversion: "1.0",
    id: "m-1",
    type: "do.services.fanout.invalid",
    source: "servicesdo-fanout/orders",
    time: "2026-08-01T12:00:05.000Z",
    datacontenttype: "application/json",
    data: { reason: "why", topic: "orders", message_id: "m-1", attempts: 2, timestamp: "2026-08-01T12:00:00.000Z", body: { not: "an event" } },
  });
  const bytes = deadLetterEvent({ ...message, body: new Uint8Array([104, 105]) }, "why", "orders", 0);
  assert.equal(bytes.data.body_base64, "aGk=");
  assert.equal("body" in bytes.data, false);
  // The wrapper is itself a valid envelope.
  assert.doesNotThrow(() => validateEnvelope(deadLetterEvent(message, "why", "orders", 0)));
});
