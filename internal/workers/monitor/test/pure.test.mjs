// Pure parts of the monitor, tested directly from src: conditions, durations, configuration,
// the health state machine, the registry read-modify-write, the analytics query and the alert
// evaluation. (Rounds run the bundle in Miniflare: monitor.test.mjs.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseCondition, ConditionError, holds } from "../src/condition.js";
import { parseDuration, formatDuration, DurationError } from "../src/duration.js";
import { compileConfig, ConfigError } from "../src/config.js";
import { initialState, nextState, healthStatus, needsWrite } from "../src/health.js";
import { applyHealth, RegistryRefusal, storedHealth } from "../src/registry.js";
import { buildQuery, parseResponse, AnalyticsError, windowEnd } from "../src/analytics.js";
import { measure, evaluate, payload } from "../src/alerts.js";

const testdata = (name) => JSON.parse(readFileSync(new URL(`../testdata/${name}`, import.meta.url), "utf8"));
const registryVectors = () => JSON.parse(readFileSync(new URL("../../../registry/testdata/health-vectors.json", import.meta.url), "utf8"));

test("condition vectors shared with the Go validation", () => {
  const { valid, invalid } = testdata("conditions.json");
  assert.ok(valid.length >= 10 && invalid.length >= 30);
  for (const v of valid) assert.deepEqual(parseCondition(v.condition), { metric: v.metric, operator: v.operator, threshold: v.threshold }, v.condition);
  for (const v of invalid) {
    assert.throws(
      () => parseCondition(v.condition),
      (err) => err instanceof ConditionError && err.column === v.column && err.reason === v.reason && err.message === v.message,
      JSON.stringify(v.condition),
    );
  }
});

test("a malformed condition points at the offending character", () => {
  assert.throws(() => parseCondition("error_rate >> 0.05"), {
    message: 'condition "error_rate >> 0.05", column 13: expected a number, found ">"\n  error_rate >> 0.05\n              ^',
  });
});

test("holds compares with each operator", () => {
  const c = (text) => parseCondition(text);
  assert.equal(holds(c("error_rate > 0.05"), 0.05), false);
  assert.equal(holds(c("error_rate > 0.05"), 0.0501), true);
  assert.equal(holds(c("error_rate >= 0.05"), 0.05), true);
  assert.equal(holds(c("requests < 10"), 9), true);
  assert.equal(holds(c("requests < 10"), 10), false);
  assert.equal(holds(c("requests <= 10"), 10), true);
});

test("duration vectors shared with the Go validation", () => {
  const { valid, invalid } = testdata("durations.json");
  for (const v of valid) assert.equal(parseDuration(v.text), v.ms, v.text);
  for (const v of invalid) assert.throws(() => parseDuration(v.text), (err) => err instanceof DurationError && err.message === v.error, v.text);
  assert.equal(formatDuration(90_000), "1m30s");
  assert.equal(formatDuration(300_000), "5m");
  assert.equal(formatDuration(250), "250ms");
});

test("the documented example configuration compiles with its defaults", () => {
  const cfg = compileConfig(testdata("config-example.json"));
  assert.equal(cfg.name, "platform-monitor");
  assert.equal(cfg.intervalMs, 60_000);
  assert.equal(cfg.heartbeatMs, 600_000);
  const [orders, payments] = cfg.services;
  assert.deepEqual(
    { ...orders },
    { name: "orders", binding: "SERVICE_ORDERS", path: "/health", expectStatus: 200, timeoutMs: 5000, degradedMs: 2000, intervalMs: 60_000, checks: 3, recoveryChecks: 2, registry: ["service:OrderService:1.2.0"] },
  );
  assert.deepEqual(
    { ...payments },
    {
      name: "payments",
      binding: "SERVICE_PAYMENTS",
      path: "/healthz",
      expectStatus: null,
      timeoutMs: 2000,
      degradedMs: 1000,
      intervalMs: 300_000,
      checks: 3,
      recoveryChecks: 1,
      registry: ["service:PaymentService:2.0.0", "service:PaymentService:2.1.0-rc.1"],
    },
  );
  assert.deepEqual(
    cfg.alerts.map((a) => [a.name, a.condition.metric, a.forMs, a.minRequests, a.webhook]),
    [
      ["orders-errors", "error_rate", 300_000, 20, { url: "https://hooks.example.com/alerts" }],
      ["orders-latency", "p99_latency_ms", 600_000, 1, { secret: "ALERT_WEBHOOK_ONCALL" }],
      ["payments-traffic", "requests", 900_000, 0, { url: "https://hooks.example.com/alerts" }],
    ],
  );
  assert.equal(cfg.apiBase, "https://api.cloudflare.com/client/v4");
});

test("the shared invalid configurations are refused at their path", () => {
  for (const { name, config, path } of testdata("invalid-configs.json").invalid) {
    assert.throws(() => compileConfig(config), (err) => err instanceof ConfigError && err.message.startsWith(path + ": "), `${name}: want a problem at ${path}`);
  }
});

test("the configuration is checked against the Worker's bindings", () => {
  const raw = testdata("config-example.json");
  const env = {
    MONITOR_STATE: { idFromName() {} },
    REGISTRY: { getWithMetadata() {} },
    SERVICE_ORDERS: { fetch() {} },
    SERVICE_PAYMENTS: { fetch() {} },
    ANALYTICS_TOKEN: "t",
    ALERT_WEBHOOK_ONCALL: "https://hooks.example.com/oncall",
  };
  assert.equal(compileConfig(raw, env).services.length, 2);
  const without = (name) => {
    const e = { ...env };
    delete e[name];
    return e;
  };
  assert.throws(() => compileConfig(raw, without("SERVICE_PAYMENTS")), { message: "services[1].binding: this Worker has no service binding SERVICE_PAYMENTS" });
  assert.throws(() => compileConfig(raw, without("MONITOR_STATE")), { message: "MONITOR_STATE: is not bound: bind the monitor's MonitorState Durable Object namespace" });
  assert.throws(() => compileConfig(raw, without("REGISTRY")), { message: "REGISTRY: is not bound: bind the registry KV namespace to record health" });
  assert.throws(() => compileConfig(raw, without("ANALYTICS_TOKEN")), { message: "ANALYTICS_TOKEN: is not bound: add the secret holding an API token with Account Analytics Read" });
  assert.throws(() => compileConfig(raw, without("ALERT_WEBHOOK_ONCALL")), { message: "alerts[1].webhook_secret: this Worker has no secret ALERT_WEBHOOK_ONCALL" });
});

const service = { checks: 3, recoveryChecks: 2 };
const run = (outcomes) => {
  let s = initialState();
  return outcomes.map((outcome, i) => (s = nextState(s, { outcome, latency_ms: 5, http_status: outcome === "fail" ? 503 : 200, reason: outcome === "pass" ? null : outcome + " reason" }, service, i)));
};

test("health: N consecutive failures make a service unhealthy; recovery takes recovery_checks passes", () => {
  const states = run(["pass", "fail", "fail", "fail", "fail", "pass", "fail", "pass", "pass", "pass"]);
  assert.deepEqual(
    states.map((s) => [s.status, s.consecutive_failures]),
    [
      ["healthy", 0],
      ["degraded", 1],
      ["degraded", 2],
      ["unhealthy", 3],
      ["unhealthy", 4],
      ["unhealthy", 0], // one pass of the two recovery needs
      ["unhealthy", 1], // a failure while recovering: still unhealthy, recovery starts over
      ["unhealthy", 0],
      ["healthy", 0],
      ["healthy", 0],
    ],
  );
  assert.equal(states[5].reason, "recovering: 1 of 2 checks passed");
  assert.equal(states[1].reason, "fail reason");
  assert.equal(states[0].reason, null);
});

test("health: slow or partial answers are degraded, and count as passes for the failure count", () => {
  const states = run(["slow", "partial", "fail", "slow", "pass"]);
  assert.deepEqual(
    states.map((s) => [s.status, s.consecutive_failures, s.reason]),
    [
      ["degraded", 0, "slow reason"],
      ["degraded", 0, "partial reason"],
      ["degraded", 1, "fail reason"],
      ["degraded", 0, "slow reason"],
      ["healthy", 0, null],
    ],
  );
  // After recovery from unhealthy, a slow pass is degraded, not healthy.
  const after = run(["fail", "fail", "fail", "slow", "slow"]);
  assert.deepEqual(after.map((s) => s.status), ["degraded", "degraded", "unhealthy", "unhealthy", "degraded"]);
});

test("health_status documents and when they are written", () => {
  const st = { status: "degraded", consecutive_failures: 1, last_check: Date.parse("2026-08-01T12:00:00Z"), latency_ms: 12, reason: "status 503, want 200" };
  const hs = healthStatus(st, "platform-monitor");
  assert.deepEqual(hs, { status: "degraded", last_check: "2026-08-01T12:00:00.000Z", latency_ms: 12, consecutive_failures: 1, reason: "status 503, want 200", monitor: "platform-monitor" });
  assert.equal("reason" in healthStatus({ ...st, status: "healthy", reason: null }, "m"), false);
  const now = Date.parse("2026-08-01T12:05:00Z");
  const hb = 600_000;
  assert.equal(needsWrite(null, hs, service, hb, now), true, "no status yet");
  assert.equal(needsWrite({ ...hs }, hs, service, hb, now), false, "the same verdict within the heartbeat");
  assert.equal(needsWrite({ ...hs, latency_ms: 900 }, hs, service, hb, now), false, "latency alone is no reason to write");
  assert.equal(needsWrite({ ...hs, status: "healthy" }, hs, service, hb, now), true);
  assert.equal(needsWrite({ ...hs, reason: "other" }, hs, service, hb, now), true);
  assert.equal(needsWrite({ ...hs, monitor: "other-monitor" }, hs, service, hb, now), true);
  assert.equal(needsWrite({ ...hs, consecutive_failures: 0 }, hs, service, hb, now), true, "the count towards checks moved");
  const down = { ...hs, status: "unhealthy", consecutive_failures: 5 };
  assert.equal(needsWrite({ ...down, consecutive_failures: 4 }, down, service, hb, now), false, "past checks, the count alone is no reason to write");
  assert.equal(needsWrite({ ...hs, last_check: "2026-08-01T11:55:00.001Z" }, hs, service, hb, now), false, "written 9:59.999 ago");
  assert.equal(needsWrite({ ...hs, last_check: "2026-08-01T11:55:00.000Z" }, hs, service, hb, now), true, "written a heartbeat ago");
  assert.equal(needsWrite({ ...hs, last_check: "2026-08-01T11:55:00.000Z" }, hs, service, hb, now + 300_000), true, "heartbeat due");
  assert.equal(needsWrite({ ...hs, last_check: "garbage" }, hs, service, hb, now), true);
});

test("registry vectors shared with internal/registry: the read-modify-write keeps everything else", () => {
  const { updates, refusals } = registryVectors();
  for (const u of updates) {
    const out = applyHealth(u.value, u.metadata, u.health_status);
    assert.deepEqual(JSON.parse(out.value), u.want_value, u.name);
    assert.deepEqual(out.metadata, u.want_metadata, u.name);
    assert.equal(out.metadataFits, true);
    // Key order of the document is kept (health_status replaced in place, or appended).
    const before = Object.keys(JSON.parse(u.value)).filter((k) => k !== "health_status");
    assert.deepEqual(Object.keys(JSON.parse(out.value)).filter((k) => k !== "health_status"), before, `${u.name}: key order`);
    assert.deepEqual(storedHealth(out.value), u.health_status);
  }
  for (const r of refusals) {
    assert.throws(
      () => applyHealth(r.value, null, { status: "healthy", last_check: "2026-08-01T12:00:00.000Z", latency_ms: 1, consecutive_failures: 0 }),
      (err) => err instanceof RegistryRefusal && (r.error ? err.message === r.error : err.message.startsWith(r.error_prefix)),
      r.name,
    );
  }
});

test("registry metadata that would overflow Workers KV's limit is reported, not written", () => {
  const doc = { $id: "https://services.do/A", $type: "Service", $schema_version: 1, name: "A", version: "1.0.0", updated_at: "2026-07-30T09:00:00Z" };
  const metadata = { $id: doc.$id, $type: "Service", name: "A", version: "1.0.0", metadata: { big: "x".repeat(960) } };
  const out = applyHealth(JSON.stringify(doc), metadata, { status: "unhealthy", last_check: "2026-08-01T12:00:00.000Z", latency_ms: 1, consecutive_failures: 3 });
  assert.equal(out.metadataFits, false);
  assert.equal(JSON.parse(out.value).health_status.status, "unhealthy");
});

test("the analytics query: one aliased window per distinct for, over whole minutes", () => {
  const v = testdata("analytics-query.json");
  const got = buildQuery(v.input.account_id, v.input.scripts, v.input.windows_ms, Date.parse(v.input.now));
  assert.deepEqual(got, v.request);
  assert.equal(v.request.variables.end, "2026-08-01T12:00:00.000Z");
  assert.equal(v.request.variables.start0, "2026-08-01T11:55:00.000Z");
  assert.equal(v.request.variables.start1, "2026-08-01T11:45:00.000Z");
  assert.equal(windowEnd(Date.parse("2026-08-01T12:00:59.999Z")), Date.parse("2026-08-01T12:00:00Z"));
});

test("analytics responses: rows by script, microseconds to milliseconds, errors refused", () => {
  const body = {
    data: {
      viewer: {
        accounts: [
          {
            w0: [
              { sum: { requests: 400, errors: 20 }, quantiles: { wallTimeP99: 812500 }, dimensions: { scriptName: "orders" } },
              { sum: { requests: 3, errors: 0 }, quantiles: { wallTimeP99: 1000 }, dimensions: { scriptName: "payments" } },
            ],
            w1: [],
          },
        ],
      },
    },
    errors: null,
  };
  const [w0, w1] = parseResponse(body, 2);
  assert.deepEqual(w0.get("orders"), { requests: 400, errors: 20, p99_latency_ms: 812.5 });
  assert.equal(w1.size, 0);
  assert.throws(() => parseResponse({ data: null, errors: [{ message: "not authorized for that account" }] }, 1), { message: "GraphQL error: not authorized for that account" });
  assert.throws(() => parseResponse({ data: { viewer: { accounts: [] } } }, 1), AnalyticsError);
  assert.throws(() => parseResponse({ data: { viewer: { accounts: [{}] } } }, 1), { message: "the analytics response has no rows for window w0" });
});

test("alert values: min_requests guards rates and latency; requests counts zero traffic", () => {
  const cfg = compileConfig(testdata("config-example.json"));
  const [errors, latency, traffic] = cfg.alerts;
  assert.deepEqual(measure(errors, { requests: 400, errors: 40, p99_latency_ms: 120 }), { value: 0.1, observed: { requests: 400, errors: 40, error_rate: 0.1, p99_latency_ms: 120 }, met: true });
  assert.equal(measure(errors, { requests: 19, errors: 19, p99_latency_ms: 1 }).met, false, "fewer than min_requests 20: no data");
  assert.equal(measure(errors, { requests: 19, errors: 19, p99_latency_ms: 1 }).value, null);
  assert.equal(measure(errors, undefined).met, false);
  assert.equal(measure(latency, { requests: 1, errors: 0, p99_latency_ms: 800 }).met, true);
  assert.equal(measure(latency, { requests: 1, errors: 0, p99_latency_ms: 799.9 }).met, false);
  assert.deepEqual(measure(traffic, undefined), { value: 0, observed: { requests: 0, errors: 0, error_rate: null, p99_latency_ms: null }, met: true });
  assert.equal(measure(traffic, { requests: 10, errors: 0, p99_latency_ms: 1 }).met, false);

  const end = Date.parse("2026-08-01T12:00:00Z");
  const data = [new Map([["orders", { requests: 100, errors: 10, p99_latency_ms: 900 }]]), new Map(), new Map()];
  const evals = evaluate(cfg, { windows: [300_000, 600_000, 900_000], data, end });
  assert.deepEqual(
    evals.map((e) => [e.alert, e.met, e.window.start]),
    [
      ["orders-errors", true, "2026-08-01T11:55:00.000Z"],
      ["orders-latency", false, "2026-08-01T11:50:00.000Z"],
      ["payments-traffic", true, "2026-08-01T11:45:00.000Z"],
    ],
  );
  const p = payload("resolved", "platform-monitor", errors, { id: "i-1", started_at: end - 120_000, resolved_at: end }, evals[0]);
  assert.deepEqual(p, {
    version: 1,
    event: "alert.resolved",
    monitor: "platform-monitor",
    alert: "orders-errors",
    incident_id: "i-1",
    service: "orders",
    condition: "error_rate > 0.05",
    metric: "error_rate",
    operator: ">",
    threshold: 0.05,
    for: "5m",
    value: 0.1,
    observed: { requests: 100, errors: 10, error_rate: 0.1, p99_latency_ms: 900 },
    window: { start: "2026-08-01T11:55:00.000Z", end: "2026-08-01T12:00:00.000Z" },
    started_at: "2026-08-01T11:58:00.000Z",
    resolved_at: "2026-08-01T12:00:00.000Z",
  });
});
