// Test harness: runs the BUNDLED monitor (dist/worker.js) in Miniflare with
//   - service stub Workers, bound as services, whose health endpoint a test flips
//     (status, delay, body, a thrown error) through their own fetch;
//   - the registry KV namespace, seeded with registry documents and their metadata;
//   - an analytics stub Worker as the monitor's outbound service: it answers
//     POST /client/v4/graphql in the local edge's response shape with the numbers a test sets,
//     records each query, and passes every other outbound request (the webhooks) through;
//   - a Node HTTP server as the webhook, recording each post and answering as told.
// Rounds are driven through the scheduled handler with explicit scheduled times, so windows
// and intervals are deterministic.
import { Miniflare } from "miniflare";
import http from "node:http";
import { fileURLToPath } from "node:url";

export const BUNDLE = fileURLToPath(new URL("../dist/worker.js", import.meta.url));
export const COMPATIBILITY_DATE = "2025-06-01";
export const ACCOUNT_ID = "0123456789abcdef0123456789abcdef";
export const ANALYTICS_TOKEN = "analytics-token-for-tests";
export const MONITOR_TOKEN = "monitor-token-for-tests";
export const API_BASE = "https://api.analytics.test/client/v4";
// A minute boundary, as cron scheduled times are.
export const T0 = Date.UTC(2026, 7, 1, 12, 0, 0);
export const MINUTE = 60_000;

const SERVICE = `
const state = { status: 200, delayMs: 0, body: '{"status":"pass"}', contentType: "application/health+json", throws: false, hits: 0, paths: [], headers: null };
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/__set") { Object.assign(state, await request.json()); return Response.json(state); }
    if (url.pathname === "/__state") return Response.json(state);
    state.hits++;
    state.paths.push(url.pathname + url.search);
    state.headers = Object.fromEntries(request.headers);
    if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs));
    if (state.throws) throw new Error("service exploded");
    return new Response(state.body, { status: state.status, headers: { "content-type": state.contentType } });
  },
};`;

// The analytics stub: rows per script ({requests, errors, p99_ms}) or an error to answer with.
const ANALYTICS = `
const state = { scripts: {}, error: null, httpStatus: 200, queries: [] };
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.hostname === "analytics.control") {
      if (request.method === "POST") Object.assign(state, await request.json());
      return Response.json(state);
    }
    if (url.hostname !== "api.analytics.test") return fetch(request);
    const body = await request.json();
    state.queries.push({ url: url.href, method: request.method, authorization: request.headers.get("authorization"), body });
    if (state.httpStatus !== 200) return new Response("analytics unavailable", { status: state.httpStatus });
    if (state.error) return Response.json({ data: null, errors: [{ message: state.error, extensions: { code: "validation" } }] });
    const account = {};
    for (const [, alias] of body.query.matchAll(/(w[0-9]+): workersInvocationsAdaptive/g)) {
      account[alias] = body.variables.scripts
        .filter((s) => state.scripts[s])
        .map((s) => ({ sum: { requests: state.scripts[s].requests, errors: state.scripts[s].errors }, quantiles: { wallTimeP99: state.scripts[s].p99_ms * 1000 }, dimensions: { scriptName: s } }));
    }
    return Response.json({ data: { viewer: { accounts: [account] } }, errors: null });
  },
};`;

export const bindingOf = (service) => "SERVICE_" + service.toUpperCase().replace(/-/g, "_");

// startWebhook starts the webhook server: it records posts and answers with the next status of
// `statuses` (then 200).
export async function startWebhook() {
  const posts = [];
  const statuses = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const status = statuses.length ? statuses.shift() : 200;
      posts.push({ path: req.url, headers: req.headers, body: JSON.parse(body), answered: status });
      res.writeHead(status, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}/hooks/alerts`, posts, statuses, close: () => new Promise((r) => server.close(r)) };
}

// startMonitor starts the monitor with the given configuration and service stubs
// (config.services[].name each get one). Options: bindings (extra or overriding),
// token (MONITOR_TOKEN, default set; null to leave it unbound), rawConfig.
export async function startMonitor({ config, token = MONITOR_TOKEN, rawConfig, bindings = {}, extraServices = [], quiet = true }) {
  const logs = [];
  const names = [...new Set([...config.services.map((s) => s.name), ...extraServices])];
  const serviceBindings = Object.fromEntries(config.services.map((s) => [s.binding, s.name]));
  const mf = new Miniflare({
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
        name: "monitor",
        modules: [{ type: "ESModule", path: BUNDLE }],
        compatibilityDate: COMPATIBILITY_DATE,
        bindings: {
          MONITOR_CONFIG: rawConfig === undefined ? config : rawConfig,
          ANALYTICS_TOKEN,
          ...(token === null ? {} : { MONITOR_TOKEN: token }),
          ...bindings,
        },
        kvNamespaces: { REGISTRY: "registry" },
        durableObjects: { MONITOR_STATE: { className: "MonitorState", useSQLite: true } },
        serviceBindings,
        outboundService: "analytics",
      },
      { name: "analytics", modules: true, compatibilityDate: COMPATIBILITY_DATE, script: ANALYTICS },
      ...names.map((name) => ({ name, modules: true, compatibilityDate: COMPATIBILITY_DATE, script: SERVICE })),
    ],
  });
  await mf.ready;
  const monitor = await mf.getWorker("monitor");
  const analytics = await mf.getWorker("analytics");
  const stubs = new Map();
  for (const name of names) stubs.set(name, await mf.getWorker(name));
  const registry = await mf.getKVNamespace("REGISTRY");

  return {
    mf,
    logs,
    registry,
    // tick runs a round at a scheduled time (milliseconds).
    async tick(at) {
      const res = await monitor.scheduled({ scheduledTime: new Date(at), cron: "* * * * *" });
      if (res.outcome !== "ok") throw new Error(`scheduled round at ${new Date(at).toISOString()}: ${res.outcome}`);
      return logs.filter((l) => l.type === "monitor.round").at(-1);
    },
    scheduled: (at) => monitor.scheduled({ scheduledTime: new Date(at), cron: "* * * * *" }),
    fetch: (path, init) => monitor.fetch(`https://monitor.test${path}`, init),
    async status() {
      const res = await monitor.fetch("https://monitor.test/status", { headers: { authorization: `Bearer ${token}` } });
      if (res.status !== 200) throw new Error(`/status: ${res.status} ${await res.text()}`);
      return res.json();
    },
    async service(name, state) {
      const res = await stubs.get(name).fetch(state === undefined ? "http://stub/__state" : "http://stub/__set", state === undefined ? undefined : { method: "POST", body: JSON.stringify(state) });
      return res.json();
    },
    async analytics(state) {
      const res = await analytics.fetch("https://analytics.control/", state === undefined ? undefined : { method: "POST", body: JSON.stringify(state) });
      return res.json();
    },
    async seed(key, value, metadata) {
      await registry.put(key, typeof value === "string" ? value : JSON.stringify(value), metadata === undefined ? {} : { metadata });
    },
    async entry(key) {
      const { value, metadata } = await registry.getWithMetadata(key, "text");
      return { value: value === null ? null : JSON.parse(value), raw: value, metadata };
    },
    dispose: () => mf.dispose(),
  };
}

// registryEntry is a registry document as Terraform writes it (internal/registry), with its
// KV metadata summary.
export function registryEntry(name, version, service, extra = {}) {
  const value = {
    $id: `https://services.do/${name}`,
    $type: "Service",
    $schema_version: 1,
    name,
    version,
    service,
    endpoint: `https://${service}.example.com`,
    health: { path: "/health", expect_status: 200, timeout: "5s" },
    tags: ["commerce"],
    metadata: { team: "checkout" },
    details: { runbook: "https://wiki.example.com/" + service },
    updated_at: "2026-07-30T09:00:00Z",
    ...extra,
  };
  const metadata = { $id: value.$id, $type: "Service", name, version, service, endpoint: value.endpoint, tags: value.tags, metadata: value.metadata };
  return { key: `service:${name}:${version}`, value, metadata };
}

export function withoutHealth(doc) {
  const { health_status, ...rest } = doc;
  return rest;
}
