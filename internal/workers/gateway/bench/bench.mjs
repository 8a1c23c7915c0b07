// Benchmark (not a test): latency (p50/p99, one request at a time) and throughput (req/s with
// parallel clients) of calling an upstream Worker directly and through the gateway in
// Miniflare, with no middleware and with each middleware on alone, then all of them.
//
//   node gateway/bench/bench.mjs [--requests 1000] [--concurrency 16] [--rounds 5]
//
// Numbers depend on the machine and its load; compare rows of one run, not runs.
import { startEdge, send, route, apiKeysSecret, jwt } from "../test/harness.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const REQUESTS = arg("requests", 1000);
const CONCURRENCY = arg("concurrency", 16);
const ROUNDS = arg("rounds", 5);
const KEY = "bench-key-0123456789abcdef";
const HS_SECRET = "bench-hs256-secret-of-at-least-32-bytes";

const routes = [route("/users/*", "users", { strip_prefix: "/users" })];
const gateway = (name, extra = {}, more = {}) => ({ name, config: { version: 1, name, routes, ...extra }, ...more });
const big = { requests: 1000000 };

// The floor of any gateway: a Worker that only hands the request to the service binding.
const HOP = `export default { fetch(request, env) { const url = new URL(request.url); url.pathname = url.pathname.replace(/^\\/users/, "") || "/"; return env.SERVICE_USERS.fetch(new Request(url, request)); } };`;

const edge = await startEdge({
  extraWorkers: [{ name: "hop", script: HOP, serviceBindings: { SERVICE_USERS: "users" } }],
  gateways: [
    gateway("none"),
    gateway("cors", { cors: { allowed_origins: ["https://shop.example.com"], allow_credentials: true } }),
    gateway("auth-api-key", { auth: { mode: "required", api_keys: true } }, { apiKeys: apiKeysSecret({ ci: KEY }) }),
    gateway("auth-jwt-hs256", { auth: { mode: "required", jwt: { hs256: true } } }, { jwtSecret: HS_SECRET }),
    gateway("rate-limit-binding", { rate_limit: { ...big, period: 60 } }, { rateLimit: { limit: 1000000, period: 60 } }),
    gateway("rate-limit-do", { rate_limit: { ...big, period: 3600 } }),
    gateway("logging", { logging: { enabled: true, sample_rate: 1 } }),
    gateway(
      "all",
      {
        cors: { allowed_origins: ["https://shop.example.com"] },
        auth: { mode: "required", api_keys: true },
        rate_limit: { ...big, period: 60, key: "api_key" },
        logging: { enabled: true, sample_rate: 1 },
      },
      { apiKeys: apiKeysSecret({ ci: KEY }), rateLimit: { limit: 1000000, period: 60 } },
    ),
  ],
});

const token = await jwt({}, new TextEncoder().encode(HS_SECRET), { alg: "HS256" });
const targets = [
  ["direct (upstream alone)", edge.url("users"), "/x", {}],
  ["bare service-binding hop (1-line Worker)", edge.url("hop"), "/users/x", {}],
  ["gateway, no middleware", edge.url("none"), "/users/x", {}],
  ["+ cors", edge.url("cors"), "/users/x", { origin: "https://shop.example.com" }],
  ["+ auth (API key)", edge.url("auth-api-key"), "/users/x", { "x-api-key": KEY }],
  ["+ auth (JWT HS256)", edge.url("auth-jwt-hs256"), "/users/x", { authorization: `Bearer ${token}` }],
  ["+ rate limit (binding, 60 s)", edge.url("rate-limit-binding"), "/users/x", {}],
  ["+ rate limit (Durable Object, 1 h)", edge.url("rate-limit-do"), "/users/x", {}],
  ["+ logging (every request)", edge.url("logging"), "/users/x", {}],
  ["all of them", edge.url("all"), "/users/x", { origin: "https://shop.example.com", "x-api-key": KEY }],
];

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

const call = async (base, path, headers) => {
  const res = await send(base, { path, headers });
  if (res.status !== 200) throw new Error(`${base.host}${path}: status ${res.status} ${res.text}`);
};

// One round measures every target once; rounds interleave the targets so that a change in the
// machine's load during the run touches them all alike.
async function round(base, path, headers, requests) {
  const latencies = [];
  for (let i = 0; i < requests; i++) {
    const t = process.hrtime.bigint();
    await call(base, path, headers);
    latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < requests * 2) await call(base, path, headers);
    }),
  );
  return { latencies, seconds: Number(process.hrtime.bigint() - started) / 1e9, count: requests * 2 };
}

for (const [, base, path, headers] of targets) for (let i = 0; i < 100; i++) await call(base, path, headers); // warm up
const results = targets.map(() => ({ latencies: [], seconds: 0, count: 0 }));
for (let r = 0; r < ROUNDS; r++) {
  for (const [i, [, base, path, headers]] of targets.entries()) {
    const got = await round(base, path, headers, Math.ceil(REQUESTS / ROUNDS));
    results[i].latencies.push(...got.latencies);
    results[i].seconds += got.seconds;
    results[i].count += got.count;
  }
}
await edge.dispose();
const rows = targets.map(([name], i) => {
  const sorted = results[i].latencies.sort((a, b) => a - b);
  return [name, { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), rps: results[i].count / results[i].seconds }];
});

const direct = rows[0][1];
const plain = rows[2][1];
console.log(`per path: ${REQUESTS} sequential requests for latency, ${REQUESTS * 2} with ${CONCURRENCY} parallel clients for throughput, in ${ROUNDS} interleaved rounds\n`);
console.log("| path | p50 ms | p99 ms | req/s | p50 vs direct | p50 vs no middleware |");
console.log("|---|---:|---:|---:|---:|---:|");
for (const [name, r] of rows) {
  const vs = (base) => `${(r.p50 / base.p50).toFixed(2)}×`;
  console.log(`| ${name} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${Math.round(r.rps)} | ${vs(direct)} | ${vs(plain)} |`);
}
