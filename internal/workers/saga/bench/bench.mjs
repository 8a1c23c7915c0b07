// Benchmark of the saga program in Miniflare (not part of the tests):
//
//   node saga/bench/bench.mjs [executions=400] [concurrency=20]
//
// - throughput: executions per second of a 4-step saga, started `concurrency` at a time;
// - latency: p50/p99 of an execution (reservation to final status, as the index records them),
//   under that load and one at a time;
// - overhead: the orchestrator's cost per step, beside a Worker that calls the same four
//   participants directly through the same service bindings, one after another.
//
// Participants are plain Workers answering at once, so the numbers are the orchestrator's.
import { Miniflare, Log, LogLevel } from "miniflare";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const EXECUTIONS = Number(process.argv[2] ?? 400);
const CONCURRENCY = Number(process.argv[3] ?? 20);
const SEQUENTIAL = 50;
const SERVICES = ["ORDERS", "INVENTORY", "PAYMENTS", "SHIPPING"];
const STEPS = ["create_order", "reserve_stock", "charge_payment", "ship"];

const definition = {
  name: "bench",
  pivot_step: "charge_payment",
  steps: STEPS.map((name, i) => ({
    name,
    service: SERVICES[i],
    action: { method: "POST", path: `/${name}`, body: { order: "{{input.order_id}}", ...(i ? { after: `{{steps.${STEPS[i - 1]}.output.id}}` } : {}) } },
    ...(i < 3 ? { compensate: { method: "POST", path: `/${name}/{{steps.${name}.output.id}}/undo` } } : {}),
    timeout: "10s",
  })),
};

const participant = `export default { async fetch(request) { await request.text(); return Response.json({ id: crypto.randomUUID() }); } }`;
// The baseline: the same four calls, made directly, timed inside the Worker.
const direct = `export default { async fetch(request, env) {
  const started = Date.now();
  let after;
  for (const [svc, step] of ${JSON.stringify(SERVICES.map((s, i) => [s, STEPS[i]]))}) {
    const res = await env[svc].fetch("https://" + svc.toLowerCase() + ".internal/" + step, { method: "POST", headers: { "content-type": "application/json", "idempotency-key": "k:" + step + ":action" }, body: JSON.stringify({ order: "o", after }) });
    after = (await res.json()).id;
  }
  return Response.json({ ms: Date.now() - started });
} }`;

const dir = mkdtempSync(join(tmpdir(), "saga-bench-"));
const serviceBindings = Object.fromEntries(SERVICES.map((s) => [s, `p-${s}`]));
const mf = new Miniflare({
  host: "127.0.0.1",
  log: new Log(LogLevel.ERROR),
  cf: false,
  durableObjectsPersist: join(dir, "do"),
  workflowsPersist: join(dir, "workflows"),
  workers: [
    {
      name: "saga",
      modules: [{ type: "ESModule", path: "worker.js", contents: readFileSync(join(here, "..", "dist", "worker.js"), "utf8") }],
      compatibilityDate: "2025-09-01",
      bindings: { SAGA_DEFINITION: definition, API_ACCESS: "service_binding" },
      workflows: { SAGA_WORKFLOW: { name: "bench", className: "SagaWorkflow" } },
      durableObjects: { SAGA_INDEX: { className: "SagaIndex", useSQLite: true } },
      serviceBindings,
    },
    { name: "direct", modules: true, script: direct, compatibilityDate: "2025-09-01", serviceBindings },
    ...SERVICES.map((s) => ({ name: `p-${s}`, modules: true, script: participant, compatibilityDate: "2025-09-01" })),
  ],
});

const api = async (method, path, body) => {
  const res = await mf.dispatchFetch(`http://saga.bench${path}`, { method, headers: { "content-type": "application/json" }, body: body && JSON.stringify(body) });
  return res.json();
};
const pct = (values, p) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const latencyOf = (e) => Date.parse(e.ended_at) - Date.parse(e.created_at);

async function untilDone(count) {
  for (;;) {
    const page = await api("GET", "/executions?status=completed&limit=1");
    if (page.count >= count) return;
    const stuck = await api("GET", "/executions?status=parked,compensated,failed&limit=1");
    if (stuck.count > 0) throw new Error(`an execution did not complete: ${JSON.stringify(stuck.executions[0])}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

try {
  await mf.ready;
  // Warm up both paths.
  const directWorker = await mf.getWorker("direct");
  for (let i = 0; i < 5; i++) await (await directWorker.fetch("http://direct/")).text();
  await api("POST", "/executions", { input: { order_id: "warm" }, idempotency_key: "warm" });
  await untilDone(1);

  // Baseline: the four calls made directly, one run at a time.
  const directMs = [];
  for (let i = 0; i < 200; i++) directMs.push((await (await directWorker.fetch("http://direct/")).json()).ms);

  // Sequential saga executions: latency without load.
  const seqIds = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const e = await api("POST", "/executions", { input: { order_id: `s${i}` }, idempotency_key: `seq-${i}` });
    seqIds.push(e.id);
    await untilDone(2 + i);
  }
  const seqLatency = [];
  for (const id of seqIds) seqLatency.push(latencyOf(await api("GET", `/executions/${id}`)));

  // Throughput: EXECUTIONS executions, at most CONCURRENCY in flight (watched through the
  // count of completed executions, one cheap query, so that watching adds little load).
  const before = 1 + SEQUENTIAL;
  const started = Date.now();
  const ids = [];
  let launched = 0;
  for (;;) {
    const done = (await api("GET", "/executions?status=completed&limit=1")).count - before;
    if (done >= EXECUTIONS) break;
    const starts = [];
    while (launched < EXECUTIONS && launched - done < CONCURRENCY) {
      const n = launched++;
      starts.push(api("POST", "/executions", { input: { order_id: `t${n}` }, idempotency_key: `load-${n}` }).then((e) => ids.push(e.id)));
    }
    await Promise.all(starts);
    await new Promise((r) => setTimeout(r, 10));
  }
  const elapsed = (Date.now() - started) / 1000;
  const loadLatency = [];
  for (const id of ids) loadLatency.push(latencyOf(await api("GET", `/executions/${id}`)));

  const d50 = pct(directMs, 50);
  const s50 = pct(seqLatency, 50);
  const result = {
    executions: EXECUTIONS,
    concurrency: CONCURRENCY,
    executions_per_second: Number((EXECUTIONS / elapsed).toFixed(1)),
    latency_under_load_ms: { p50: pct(loadLatency, 50), p99: pct(loadLatency, 99) },
    latency_one_at_a_time_ms: { p50: s50, p99: pct(seqLatency, 99) },
    direct_four_calls_ms: { p50: d50, p99: pct(directMs, 99) },
    orchestrator_overhead_per_step_ms: Number(((s50 - d50) / STEPS.length).toFixed(1)),
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  await mf.dispose();
  rmSync(dir, { recursive: true, force: true });
}
