// Monitor benchmark in Miniflare: the cost of one probe round for 20 services, each with a
// registry entry and an error-rate alert, measured as wall time (the scheduled invocation, from
// the caller) and subrequests (counted by the round itself).
//
//   node monitor/bench/bench.mjs [--services 20] [--rounds 30]
//
// Rounds: the first (every registry entry gets its first health_status), steady ones (nothing
// changed: reads, no writes), and a flip (every service fails: every entry rewritten, every
// alert fires and is posted to the webhook).
import { parseArgs } from "node:util";
import { startMonitor, startWebhook, registryEntry, bindingOf, T0, MINUTE, ACCOUNT_ID, API_BASE } from "../test/harness.mjs";

const { values: args } = parseArgs({ options: { services: { type: "string", default: "20" }, rounds: { type: "string", default: "30" } } });
const n = Number(args.services);
const rounds = Number(args.rounds);

const hook = await startWebhook();
const names = Array.from({ length: n }, (_, i) => `svc-${String(i).padStart(2, "0")}`);
const config = {
  version: 1,
  name: "bench-monitor",
  account_id: ACCOUNT_ID,
  api_base: API_BASE,
  services: names.map((name, i) => ({ name, binding: bindingOf(name), checks: 1, registry: [{ name: `Service${i}`, version: "1.0.0" }] })),
  alerts: names.map((name) => ({ name: `${name}-errors`, service: name, condition: "error_rate > 0.05", for: "5m", webhook_url: hook.url })),
};
const m = await startMonitor({ config });
for (const [i, name] of names.entries()) {
  const e = registryEntry(`Service${i}`, "1.0.0", name);
  await m.seed(e.key, e.value, e.metadata);
}
await m.analytics({ scripts: Object.fromEntries(names.map((s) => [s, { requests: 1000, errors: 1, p99_ms: 20 }])) });

const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)];
let t = T0;
async function round() {
  const started = process.hrtime.bigint();
  const summary = await m.tick(t);
  const wall = Number(process.hrtime.bigint() - started) / 1e6;
  t += MINUTE;
  return { wall, summary };
}
const show = (label, r) =>
  console.log(
    `${label}: wall ${r.wall.toFixed(1)} ms (round's own ${r.summary.duration_ms} ms); subrequests ${r.summary.subrequests.total} ` +
      `(probes ${r.summary.subrequests.probes}, Durable Object ${r.summary.subrequests.durable_object}, analytics ${r.summary.subrequests.analytics}, webhooks ${r.summary.subrequests.webhooks}); ` +
      `KV reads ${r.summary.subrequests.kv_reads}, KV writes ${r.summary.subrequests.kv_writes}`,
  );

console.log(`${n} services, each with one registry entry and one alert; node ${process.version}`);
show("first round", await round());
const steady = [];
for (let i = 0; i < rounds; i++) steady.push(await round());
const walls = steady.map((r) => r.wall);
show(`steady round (p50 of ${rounds})`, steady.find((r) => r.wall === quantile(walls, 0.5)));
console.log(`steady rounds wall: p50 ${quantile(walls, 0.5).toFixed(1)} ms, p99 ${quantile(walls, 0.99).toFixed(1)} ms`);
for (const name of names) await m.service(name, { status: 503 });
await m.analytics({ scripts: Object.fromEntries(names.map((s) => [s, { requests: 1000, errors: 200, p99_ms: 20 }])) });
show("flip round (all fail, all alerts fire)", await round());
console.log(`webhook posts: ${hook.posts.length}`);
await m.dispose();
await hook.close();
