// Test harness: runs the BUNDLED fan-out (dist/worker.js) in Miniflare as the consumer of a
// topic queue, with a publisher Worker producing to the topic, subscriber queues consumed by a
// recorder Worker, and — for fault injection — "flaky" queues: a Worker entrypoint with the
// Queues producer API (send, sendBatch) that refuses calls on command and otherwise forwards
// to the real queue. The fan-out cannot tell a flaky queue from a queue binding: it only calls
// sendBatch.
import { Miniflare } from "miniflare";
import { fileURLToPath } from "node:url";

export const BUNDLE = fileURLToPath(new URL("../dist/worker.js", import.meta.url));
export const COMPATIBILITY_DATE = "2025-06-01";
export const TOPIC = "orders";
export const TOPIC_DLQ = "orders-dlq";
export const INVALID_QUEUE = "orders-invalid";

const PUBLISHER = `
export default {
  async fetch(request, env) {
    const { events, contentType = "json" } = await request.json();
    const encode = (e) => contentType === "json" ? e : contentType === "text" ? (typeof e === "string" ? e : JSON.stringify(e)) : new TextEncoder().encode(typeof e === "string" ? e : JSON.stringify(e));
    for (let i = 0; i < events.length; i += 100) {
      await env.TOPIC.sendBatch(events.slice(i, i + 100).map((e) => ({ body: encode(e), contentType })));
    }
    return Response.json({ published: events.length, at: Date.now() });
  },
};`;

// The recorder consumes every subscriber queue and both dead-letter queues, and remembers
// each delivery (queue, body, attempts, when) until reset.
const RECORDER = `
let received = [];
export default {
  async queue(batch) {
    const at = Date.now();
    for (const m of batch.messages) received.push({ queue: batch.queue, id: m.id, attempts: m.attempts, body: m.body, at });
    batch.ackAll();
  },
  async fetch(request) {
    if (request.method === "POST") { received = []; return new Response("reset"); }
    return Response.json(received);
  },
};`;

// A queue that refuses the next "failures" calls (or every call while "down"), counting calls.
const FLAKY = `
import { WorkerEntrypoint } from "cloudflare:workers";
const state = { failures: 0, down: false, calls: 0, refused: 0, messages: 0 };
function gate(n) {
  state.calls++;
  if (state.down || state.failures > 0) {
    if (state.failures > 0) state.failures--;
    state.refused++;
    throw new Error("queue unavailable (injected)");
  }
  state.messages += n;
}
export class FlakyQueue extends WorkerEntrypoint {
  async send(body, options) { gate(1); return this.env.QUEUE.send(body, options); }
  async sendBatch(messages, options) { gate(messages.length); return this.env.QUEUE.sendBatch(messages, options); }
}
export default {
  async fetch(request) {
    if (request.method === "POST") Object.assign(state, await request.json());
    return Response.json(state);
  },
};`;

// startTopic starts one topic with its fan-out.
//   config:       the FANOUT_CONFIG value (the subscriptions' "queue" names the real queue)
//   flaky:        names of subscriptions (or "dead_letter") whose queue is wrapped by a flaky proxy
//   consumer:     the topic consumer's settings (maxBatchSize, maxBatchTimeout, maxRetries, retryDelay)
//   rawConfig:    when set, bound as FANOUT_CONFIG instead of config (to test a broken configuration)
// It resolves to { publish(events, contentType?), received(), reset(), flaky(name, state?), logs, dispose }.
export async function startTopic({ config, flaky = [], consumer = {}, rawConfig, quiet = true }) {
  const logs = [];
  const targets = config.subscriptions.map((s) => ({ name: s.name, binding: s.binding, queue: s.queue }));
  if (config.dead_letter) targets.push({ name: "dead_letter", binding: config.dead_letter.binding, queue: config.dead_letter.queue });

  const queueProducers = {};
  const serviceBindings = {};
  const flakyWorkers = [];
  for (const t of targets) {
    if (flaky.includes(t.name)) {
      const worker = `flaky-${t.queue}`;
      serviceBindings[t.binding] = { name: worker, entrypoint: "FlakyQueue" };
      flakyWorkers.push({
        name: worker,
        modules: true,
        compatibilityDate: COMPATIBILITY_DATE,
        script: FLAKY,
        queueProducers: { QUEUE: { queueName: t.queue } },
      });
    } else {
      queueProducers[t.binding] = { queueName: t.queue };
    }
  }
  const recorded = Object.fromEntries([...targets.map((t) => t.queue), TOPIC_DLQ].map((q) => [q, { maxBatchSize: 100, maxBatchTimeout: 0 }]));

  const mf = new Miniflare({
    log: undefined,
    handleRuntimeStdio(stdout, stderr) {
      for (const stream of [stdout, stderr]) {
        stream.setEncoding("utf8");
        let pending = "";
        stream.on("data", (chunk) => {
          pending += chunk;
          let nl;
          while ((nl = pending.indexOf("\n")) >= 0) {
            const line = pending.slice(0, nl);
            pending = pending.slice(nl + 1);
            try {
              logs.push(JSON.parse(line));
            } catch {
              if (!quiet) process.stderr.write(line + "\n");
            }
          }
        });
      }
    },
    workers: [
      {
        name: "fanout",
        modules: [{ type: "ESModule", path: BUNDLE }],
        compatibilityDate: COMPATIBILITY_DATE,
        bindings: { FANOUT_CONFIG: rawConfig === undefined ? config : rawConfig },
        queueProducers,
        serviceBindings,
        queueConsumers: { [TOPIC]: { maxBatchSize: 10, maxBatchTimeout: 0, maxRetries: 3, deadLetterQueue: TOPIC_DLQ, ...consumer } },
      },
      { name: "publisher", modules: true, compatibilityDate: COMPATIBILITY_DATE, script: PUBLISHER, queueProducers: { TOPIC: { queueName: TOPIC } } },
      { name: "recorder", modules: true, compatibilityDate: COMPATIBILITY_DATE, script: RECORDER, queueConsumers: recorded },
      ...flakyWorkers,
    ],
  });
  await mf.ready;
  const publisher = await mf.getWorker("publisher");
  const recorder = await mf.getWorker("recorder");
  const fanout = await mf.getWorker("fanout");
  const flakyStubs = new Map();
  for (const t of targets) if (flaky.includes(t.name)) flakyStubs.set(t.name, await mf.getWorker(`flaky-${t.queue}`));

  return {
    async publish(events, contentType = "json") {
      const res = await publisher.fetch("http://publisher/", { method: "POST", body: JSON.stringify({ events, contentType }) });
      if (!res.ok) throw new Error(`publish: ${res.status} ${await res.text()}`);
      return res.json();
    },
    async received() {
      return (await recorder.fetch("http://recorder/")).json();
    },
    async reset() {
      await recorder.fetch("http://recorder/", { method: "POST" });
    },
    async flaky(name, state) {
      const stub = flakyStubs.get(name);
      const res = state === undefined ? await stub.fetch("http://flaky/") : await stub.fetch("http://flaky/", { method: "POST", body: JSON.stringify(state) });
      return res.json();
    },
    fetch: (path, init) => fanout.fetch(`http://fanout${path}`, init),
    logs,
    dispose: () => mf.dispose(),
  };
}

// waitFor polls check() until it returns a truthy value, or fails after timeoutMs.
export async function waitFor(check, { timeoutMs = 15000, what = "condition" } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await check();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

// event builds a CloudEvent of a type.
let serial = 0;
export function event(type, data = {}, extra = {}) {
  serial++;
  return {
    specversion: "1.0",
    id: `evt-${process.pid}-${serial}`,
    type,
    source: "/tests/orders",
    time: new Date().toISOString(),
    datacontenttype: "application/json",
    data,
    ...extra,
  };
}

// The example topic: billing wants created and cancelled orders; analytics every order event
// and captured payments.
export function exampleConfig({ deadLetter = true } = {}) {
  const cfg = {
    version: 1,
    topic: TOPIC,
    subscriptions: [
      { name: "billing", binding: "SUBSCRIPTION_BILLING", queue: "orders-billing", types: ["Order.created", "Order.cancelled"] },
      { name: "analytics", binding: "SUBSCRIPTION_ANALYTICS", queue: "orders-analytics", types: ["Order.*", "Payment.captured"] },
    ],
  };
  if (deadLetter) cfg.dead_letter = { binding: "FANOUT_DEAD_LETTER", queue: INVALID_QUEUE };
  return cfg;
}

export const byQueue = (received, queue) => received.filter((r) => r.queue === queue);
