// Fan-out benchmark in Miniflare: one topic, two subscribers (both take every event), the
// bundled fan-out between them. Reports publish → subscriber latency (p50/p99) and events/s.
//
//   node fanout/bench/bench.mjs [--events 5000] [--latency-events 200]
//
// Latency is measured from just before the publisher's send (inside the publisher Worker) to
// the start of the subscriber's queue handler (inside the subscriber Worker), on one clock.
// Throughput is topic events per second from the first publish to the last delivery to both
// subscribers. Miniflare's queue broker is in-process, so these numbers are the program's and
// the broker's costs, not Cloudflare's network.
import { Miniflare } from "miniflare";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: { events: { type: "string", default: "5000" }, "latency-events": { type: "string", default: "200" } },
});
const BUNDLE = fileURLToPath(new URL("../dist/worker.js", import.meta.url));
const DATE = "2025-06-01";

const PUBLISHER = `
export default {
  async fetch(request, env) {
    const { count, batch, start } = await request.json();
    for (let i = 0; i < count; i += batch) {
      const n = Math.min(batch, count - i);
      const sentAt = Date.now();
      await env.TOPIC.sendBatch(Array.from({ length: n }, (_, k) => ({ contentType: "json", body: {
        specversion: "1.0", id: "bench-" + (start + i + k), type: "Order.created", source: "/bench",
        time: new Date(sentAt).toISOString(), datacontenttype: "application/json", data: { sent_at: sentAt, order: start + i + k } } })));
    }
    return new Response("ok");
  },
};`;

const RECORDER = `
const latencies = { "orders-billing": [], "orders-analytics": [] };
let last = 0;
export default {
  async queue(batch) {
    const at = Date.now();
    for (const m of batch.messages) latencies[batch.queue].push(at - m.body.data.sent_at);
    last = at;
    batch.ackAll();
  },
  async fetch(request) {
    if (request.method === "POST") { for (const k in latencies) latencies[k] = []; return new Response("reset"); }
    const url = new URL(request.url);
    if (url.searchParams.has("all")) return Response.json({ latencies, last });
    return Response.json({ billing: latencies["orders-billing"].length, analytics: latencies["orders-analytics"].length, last });
  },
};`;

function options({ batchSize, batchTimeout }) {
  return {
    workers: [
      {
        name: "fanout",
        modules: [{ type: "ESModule", path: BUNDLE }],
        compatibilityDate: DATE,
        bindings: {
          FANOUT_CONFIG: {
            version: 1,
            topic: "orders",
            subscriptions: [
              { name: "billing", binding: "SUBSCRIPTION_BILLING", queue: "orders-billing", types: ["Order.created"] },
              { name: "analytics", binding: "SUBSCRIPTION_ANALYTICS", queue: "orders-analytics", types: ["Order.*"] },
            ],
          },
        },
        queueProducers: { SUBSCRIPTION_BILLING: { queueName: "orders-billing" }, SUBSCRIPTION_ANALYTICS: { queueName: "orders-analytics" } },
        queueConsumers: { orders: { maxBatchSize: batchSize, maxBatchTimeout: batchTimeout, maxRetries: 3 } },
      },
      { name: "publisher", modules: true, compatibilityDate: DATE, script: PUBLISHER, queueProducers: { TOPIC: { queueName: "orders" } } },
      {
        name: "recorder",
        modules: true,
        compatibilityDate: DATE,
        script: RECORDER,
        queueConsumers: {
          "orders-billing": { maxBatchSize: batchSize, maxBatchTimeout: batchTimeout },
          "orders-analytics": { maxBatchSize: batchSize, maxBatchTimeout: batchTimeout },
        },
      },
    ],
    // The fan-out logs a line per batch; keep the benchmark's output to its numbers.
    handleRuntimeStdio(stdout, stderr) {
      stdout.resume();
      stderr.resume();
    },
  };
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

async function waitCount(recorder, n) {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const c = await (await recorder.fetch("http://recorder/")).json();
    if (c.billing >= n && c.analytics >= n) return c;
    if (Date.now() > deadline) throw new Error(`timed out: ${JSON.stringify(c)} of ${n}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function run(label, { batchSize, batchTimeout, count, batch, sequential }) {
  const mf = new Miniflare(options({ batchSize, batchTimeout }));
  await mf.ready;
  const publisher = await mf.getWorker("publisher");
  const recorder = await mf.getWorker("recorder");
  // Warm up the isolates and the broker.
  await publisher.fetch("http://publisher/", { method: "POST", body: JSON.stringify({ count: 10, batch: 10, start: -10 }) });
  await waitCount(recorder, 10);
  await recorder.fetch("http://recorder/", { method: "POST" });

  const started = Date.now();
  if (sequential) {
    for (let i = 0; i < count; i++) {
      await publisher.fetch("http://publisher/", { method: "POST", body: JSON.stringify({ count: 1, batch: 1, start: i }) });
      await waitCount(recorder, i + 1);
    }
  } else {
    await publisher.fetch("http://publisher/", { method: "POST", body: JSON.stringify({ count, batch, start: 0 }) });
    await waitCount(recorder, count);
  }
  const { latencies, last } = await (await recorder.fetch("http://recorder/?all")).json();
  await mf.dispose();
  const all = [...latencies["orders-billing"], ...latencies["orders-analytics"]].sort((a, b) => a - b);
  const seconds = (last - started) / 1000;
  console.log(
    `${label}: ${count} events → 2 subscribers (${all.length} deliveries) in ${seconds.toFixed(2)} s: ` +
      `${Math.round(count / seconds)} events/s, ${Math.round(all.length / seconds)} deliveries/s; ` +
      `latency p50 ${quantile(all, 0.5)} ms, p99 ${quantile(all, 0.99)} ms, max ${all[all.length - 1]} ms`,
  );
}

const events = Number(args.events);
const latencyEvents = Number(args["latency-events"]);
console.log(`node ${process.version}, miniflare ${(await import("miniflare/package.json", { with: { type: "json" } })).default.version}`);
await run("latency (one event at a time, max_batch_timeout 0)", { batchSize: 10, batchTimeout: 0, count: latencyEvents, sequential: true });
await run("throughput (sendBatch of 100, max_batch_size 100, max_batch_timeout 0)", { batchSize: 100, batchTimeout: 0, count: events, batch: 100 });
await run("throughput (sendBatch of 100, max_batch_size 100, max_batch_timeout 1 s)", { batchSize: 100, batchTimeout: 1, count: events, batch: 100 });
