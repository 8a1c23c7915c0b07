// The bundled monitor in Miniflare: service stubs whose health a test flips, the registry KV,
// an analytics stub serving the local edge's GraphQL shape, and a webhook server. Rounds run
// through the scheduled handler at explicit times.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startMonitor, startWebhook, registryEntry, withoutHealth, bindingOf, T0, MINUTE, ACCOUNT_ID, API_BASE, ANALYTICS_TOKEN, MONITOR_TOKEN } from "./harness.mjs";

const svc = (name, extra = {}) => ({ name, binding: bindingOf(name), ...extra });
const baseConfig = (extra = {}) => ({ version: 1, name: "platform-monitor", ...extra });

test("a service whose health endpoint starts failing turns unhealthy in the registry after `checks` failures, is listed as such, and recovers", async (t) => {
  const orders = registryEntry("OrderService", "1.2.0", "orders");
  const orders2 = registryEntry("OrderService", "1.3.0-rc.1", "orders");
  const payments = registryEntry("PaymentService", "2.0.0", "payments");
  const config = baseConfig({
    services: [
      svc("orders", { checks: 3, recovery_checks: 2, registry: [{ name: "OrderService", version: "1.2.0" }, { name: "OrderService", version: "1.3.0-rc.1" }] }),
      svc("payments", { registry: [{ name: "PaymentService", version: "2.0.0" }] }),
    ],
  });
  const m = await startMonitor({ config });
  t.after(() => m.dispose());
  for (const e of [orders, orders2, payments]) await m.seed(e.key, e.value, e.metadata);
  const health = async (key) => (await m.entry(key)).value.health_status;
  const listed = async () => {
    const { keys } = await m.registry.list({ prefix: "service:OrderService:" });
    return keys.map((k) => [k.name, k.metadata.health_status.status]);
  };

  await m.tick(T0);
  assert.deepEqual(await health(orders.key), { status: "healthy", last_check: "2026-08-01T12:00:00.000Z", latency_ms: (await health(orders.key)).latency_ms, consecutive_failures: 0, monitor: "platform-monitor" });
  assert.equal((await health(payments.key)).status, "healthy");
  // Every other field of the document and of its metadata is as Terraform wrote it.
  let stored = await m.entry(orders.key);
  assert.deepEqual(withoutHealth(stored.value), orders.value);
  assert.deepEqual(withoutHealth(stored.metadata), orders.metadata);
  assert.deepEqual(stored.metadata.health_status, { status: "healthy", last_check: "2026-08-01T12:00:00.000Z" });

  await m.service("orders", { status: 503, body: "down" });
  await m.tick(T0 + MINUTE);
  assert.deepEqual((({ status, consecutive_failures, reason }) => ({ status, consecutive_failures, reason }))(await health(orders.key)), {
    status: "degraded",
    consecutive_failures: 1,
    reason: "status 503, want 2xx",
  });
  await m.tick(T0 + 2 * MINUTE);
  assert.equal((await health(orders.key)).consecutive_failures, 2);
  assert.deepEqual(await listed(), [[orders.key, "degraded"], [orders2.key, "degraded"]]);
  await m.tick(T0 + 3 * MINUTE);
  const down = await health(orders.key);
  assert.deepEqual([down.status, down.consecutive_failures, down.last_check], ["unhealthy", 3, "2026-08-01T12:03:00.000Z"]);
  // Discovery can skip it from a listing alone: the KV metadata says unhealthy for both versions.
  assert.deepEqual(await listed(), [[orders.key, "unhealthy"], [orders2.key, "unhealthy"]]);
  assert.equal((await health(payments.key)).status, "healthy");

  // Further failures past `checks` are not rewritten until the heartbeat.
  const writes = (await m.tick(T0 + 4 * MINUTE)).subrequests.kv_writes;
  assert.equal(writes, 0);
  assert.equal((await health(orders.key)).last_check, "2026-08-01T12:03:00.000Z");
  let status = await m.status();
  assert.deepEqual(
    status.services.map((s) => [s.name, s.status, s.consecutive_failures, s.http_status]),
    [
      ["orders", "unhealthy", 4, 503],
      ["payments", "healthy", 0, 200],
    ],
  );
  assert.deepEqual(status.services[0].registry.map((r) => r.result), ["unchanged", "unchanged"]);

  // Recovery: recovery_checks = 2 passing probes.
  await m.service("orders", { status: 200, body: '{"status":"pass"}' });
  await m.tick(T0 + 5 * MINUTE);
  assert.deepEqual([(await health(orders.key)).status, (await health(orders.key)).reason], ["unhealthy", "recovering: 1 of 2 checks passed"]);
  await m.tick(T0 + 6 * MINUTE);
  assert.equal((await health(orders.key)).status, "healthy");
  assert.equal("reason" in (await health(orders.key)), false);
  assert.deepEqual(await listed(), [[orders.key, "healthy"], [orders2.key, "healthy"]]);
  stored = await m.entry(orders2.key);
  assert.deepEqual(withoutHealth(stored.value), orders2.value);
  status = await m.status();
  assert.equal(status.services[0].status, "healthy");
  assert.equal((await m.service("orders")).paths.every((p) => p === "/health"), true);
  assert.equal((await m.service("orders")).headers["user-agent"], "servicesdo-monitor/1");
});

test("the interval decides which cron ticks probe; a tick delivered twice probes once", async (t) => {
  const config = baseConfig({ services: [svc("orders", { interval: "2m" }), svc("payments")] });
  const m = await startMonitor({ config });
  t.after(() => m.dispose());
  const hits = async () => [(await m.service("orders")).hits, (await m.service("payments")).hits];
  await m.tick(T0); // 12:00 opens both windows
  assert.deepEqual(await hits(), [1, 1]);
  await m.tick(T0 + MINUTE); // 12:01: payments only
  assert.deepEqual(await hits(), [1, 2]);
  await m.tick(T0 + MINUTE); // the same tick again: nothing
  assert.deepEqual(await hits(), [1, 2]);
  await m.tick(T0 + 2 * MINUTE + 30_000); // 12:02:30 (a late tick): both
  assert.deepEqual(await hits(), [2, 3]);
  await m.tick(T0 + 5 * MINUTE); // ticks 12:03 and 12:04 were missed: 12:05 probes both
  assert.deepEqual(await hits(), [3, 4]);
});

test("probe outcomes: slow or partial answers are degraded; a failing body, a wrong status, a timeout and a throw are failures", async (t) => {
  const config = baseConfig({
    services: [
      svc("slow", { timeout: "2s", degraded_latency: "150ms", registry: [{ name: "Slow", version: "1.0.0" }] }),
      svc("partial"),
      svc("failing-body", { checks: 1 }),
      svc("teapot", { expect_status: 204, checks: 1 }),
      svc("hanging", { timeout: "200ms", checks: 1 }),
      svc("throwing", { checks: 1 }),
    ],
  });
  const m = await startMonitor({ config });
  t.after(() => m.dispose());
  const slow = registryEntry("Slow", "1.0.0", "slow");
  await m.seed(slow.key, slow.value); // stored without KV metadata: the monitor derives it
  await m.service("slow", { delayMs: 300 });
  await m.service("partial", { body: '{"status":"WARN","checks":{"db":"slow"}}', contentType: "application/health+json" });
  await m.service("failing-body", { body: '{"status":"fail"}', contentType: "application/json; charset=utf-8" });
  await m.service("teapot", { status: 200 });
  await m.service("hanging", { delayMs: 5000 });
  await m.service("throwing", { throws: true });
  await m.tick(T0);
  const status = await m.status();
  const by = Object.fromEntries(status.services.map((s) => [s.name, s]));
  assert.equal(by.slow.status, "degraded");
  assert.match(by.slow.reason, /^latency \d+ ms over 150 ms$/);
  assert.ok(by.slow.latency_ms >= 300);
  assert.deepEqual([by.partial.status, by.partial.reason], ["degraded", 'health endpoint reports status "warn"']);
  assert.deepEqual([by["failing-body"].status, by["failing-body"].reason], ["unhealthy", 'health endpoint reports status "fail"']);
  assert.deepEqual([by.teapot.status, by.teapot.reason, by.teapot.http_status], ["unhealthy", "status 200, want 204", 200]);
  assert.deepEqual([by.hanging.status, by.hanging.reason, by.hanging.http_status], ["unhealthy", "timed out after 200 ms", null]);
  assert.ok(by.hanging.latency_ms >= 200 && by.hanging.latency_ms < 2000);
  assert.equal(by.throwing.status, "unhealthy");
  assert.match(by.throwing.reason, /^service binding SERVICE_THROWING failed: /);
  const stored = await m.entry(slow.key);
  assert.equal(stored.value.health_status.status, "degraded");
  assert.deepEqual(stored.metadata, { $id: "https://services.do/Slow", $type: "Service", name: "Slow", version: "1.0.0", service: "slow", endpoint: "https://slow.example.com", tags: ["commerce"], metadata: { team: "checkout" }, health_status: { status: "degraded", last_check: "2026-08-01T12:00:00.000Z" } });
});

test("the registry is never clobbered: missing entries are not created, and documents of a newer schema are left alone", async (t) => {
  const config = baseConfig({ services: [svc("orders", { registry: [{ name: "OrderService", version: "1.2.0" }, { name: "OrderService", version: "9.0.0" }, { name: "OrderService", version: "2.0.0" }] })] });
  const m = await startMonitor({ config });
  t.after(() => m.dispose());
  const future = registryEntry("OrderService", "9.0.0", "orders", { $schema_version: 2, new_field: { x: 1 } });
  await m.seed(future.key, future.value, future.metadata);
  const current = registryEntry("OrderService", "2.0.0", "orders");
  await m.seed(current.key, current.value, current.metadata);
  await m.tick(T0);
  assert.equal((await m.entry("service:OrderService:1.2.0")).value, null, "no entry was created");
  const untouched = await m.entry(future.key);
  assert.deepEqual(untouched.value, future.value);
  assert.deepEqual(untouched.metadata, future.metadata);
  assert.equal((await m.entry(current.key)).value.health_status.status, "healthy");
  const { services } = await m.status();
  assert.deepEqual(services[0].registry, [
    { key: "service:OrderService:1.2.0", result: "missing" },
    { key: future.key, result: "refused", error: "registry entry has $schema_version 2, but this code only understands up to version 1: upgrade the provider (or Worker) reading it" },
    { key: current.key, result: "written" },
  ]);
});

test("an error-rate alert fires once to the webhook, stays open while the condition holds, and resolves once", async (t) => {
  const hook = await startWebhook();
  t.after(() => hook.close());
  const config = baseConfig({
    account_id: ACCOUNT_ID,
    api_base: API_BASE,
    services: [svc("orders")],
    alerts: [{ name: "orders-errors", service: "orders", condition: "error_rate > 0.05", for: "5m", min_requests: 10, webhook_url: hook.url }],
  });
  const m = await startMonitor({ config });
  t.after(() => m.dispose());
  await m.analytics({ scripts: { orders: { requests: 1000, errors: 10, p99_ms: 80 } } });
  await m.tick(T0);
  assert.equal(hook.posts.length, 0);

  await m.analytics({ scripts: { orders: { requests: 400, errors: 48, p99_ms: 95.5 } } });
  await m.tick(T0 + MINUTE);
  assert.equal(hook.posts.length, 1);
  const firing = hook.posts[0];
  assert.equal(firing.headers["content-type"], "application/json");
  assert.equal(firing.headers["x-servicesdo-event"], "alert.firing");
  assert.equal(firing.headers["idempotency-key"], `${firing.body.incident_id}:firing`);
  assert.deepEqual({ ...firing.body, incident_id: "<id>" }, {
    version: 1,
    event: "alert.firing",
    monitor: "platform-monitor",
    alert: "orders-errors",
    incident_id: "<id>",
    service: "orders",
    condition: "error_rate > 0.05",
    metric: "error_rate",
    operator: ">",
    threshold: 0.05,
    for: "5m",
    value: 0.12,
    observed: { requests: 400, errors: 48, error_rate: 0.12, p99_latency_ms: 95.5 },
    window: { start: "2026-08-01T11:56:00.000Z", end: "2026-08-01T12:01:00.000Z" },
    started_at: "2026-08-01T12:01:00.000Z",
    resolved_at: null,
  });

  // The query: bearer token from the secret, the account, the service, the 5-minute window.
  const { queries } = await m.analytics();
  const q = queries.at(-1);
  assert.equal(q.url, `${API_BASE}/graphql`);
  assert.equal(q.authorization, `Bearer ${ANALYTICS_TOKEN}`);
  assert.deepEqual(q.body.variables, { accountTag: ACCOUNT_ID, scripts: ["orders"], end: "2026-08-01T12:01:00.000Z", start0: "2026-08-01T11:56:00.000Z" });

  await m.analytics({ scripts: { orders: { requests: 500, errors: 100, p99_ms: 90 } } });
  await m.tick(T0 + 2 * MINUTE);
  await m.tick(T0 + 3 * MINUTE);
  assert.equal(hook.posts.length, 1, "no second notification while the incident is open");
  const status = await m.status();
  assert.deepEqual(
    status.open_alerts.map((a) => [a.alert, a.incident_id, a.value, a.notification.state]),
    [["orders-errors", firing.body.incident_id, 0.2, "sent"]],
  );

  await m.analytics({ scripts: { orders: { requests: 500, errors: 5, p99_ms: 90 } } });
  await m.tick(T0 + 4 * MINUTE);
  assert.equal(hook.posts.length, 2);
  const resolved = hook.posts[1];
  assert.equal(resolved.headers["x-servicesdo-event"], "alert.resolved");
  assert.equal(resolved.headers["idempotency-key"], `${firing.body.incident_id}:resolved`);
  assert.deepEqual(
    (({ event, incident_id, value, observed, started_at, resolved_at }) => ({ event, incident_id, value, observed, started_at, resolved_at }))(resolved.body),
    {
      event: "alert.resolved",
      incident_id: firing.body.incident_id,
      value: 0.01,
      observed: { requests: 500, errors: 5, error_rate: 0.01, p99_latency_ms: 90 },
      started_at: "2026-08-01T12:01:00.000Z",
      resolved_at: "2026-08-01T12:04:00.000Z",
    },
  );
  await m.tick(T0 + 5 * MINUTE);
  assert.equal(hook.posts.length, 2);
  assert.deepEqual((await m.status()).open_alerts, []);

  // A new breach is a new incident.
  await m.analytics({ scripts: { orders: { requests: 500, errors: 100, p99_ms: 90 } } });
  await m.tick(T0 + 6 * MINUTE);
  assert.equal(hook.posts.length, 3);
  assert.notEqual(hook.posts[2].body.incident_id, firing.body.incident_id);
});

test("a webhook that fails is retried on later ticks with the same idempotency key, and resolved never overtakes firing", async (t) => {
  const hook = await startWebhook();
  t.after(() => hook.close());
  hook.statuses.push(500, 503);
  const config = baseConfig({
    account_id: ACCOUNT_ID,
    api_base: API_BASE,
    services: [svc("orders", { interval: "5m" })],
    alerts: [{ name: "orders-errors", service: "orders", condition: "error_rate > 0.05", for: "5m", webhook_url: hook.url }],
  });
  const m = await startMonitor({ config });
  t.after(() => m.dispose());
  await m.analytics({ scripts: { orders: { requests: 100, errors: 50, p99_ms: 10 } } });
  await m.tick(T0);
  assert.deepEqual(hook.posts.map((p) => [p.body.event, p.answered]), [["alert.firing", 500]]);
  let status = await m.status();
  assert.deepEqual(status.open_alerts[0].notification, { state: "pending", attempts: 1, last_error: "webhook answered 500" });
  // The condition clears before the firing notice got through: firing goes first, then resolved.
  await m.analytics({ scripts: { orders: { requests: 100, errors: 0, p99_ms: 10 } } });
  await m.tick(T0 + MINUTE);
  assert.deepEqual(hook.posts.map((p) => [p.body.event, p.answered]), [["alert.firing", 500], ["alert.firing", 503]], "the resolved notice waits behind the failed firing one");
  await m.tick(T0 + 2 * MINUTE);
  assert.deepEqual(hook.posts.map((p) => [p.body.event, p.answered]), [["alert.firing", 500], ["alert.firing", 503], ["alert.firing", 200], ["alert.resolved", 200]]);
  const keys = hook.posts.map((p) => p.headers["idempotency-key"]);
  const id = hook.posts[0].body.incident_id;
  assert.deepEqual(keys, [`${id}:firing`, `${id}:firing`, `${id}:firing`, `${id}:resolved`]);
  await m.tick(T0 + 3 * MINUTE);
  assert.equal(hook.posts.length, 4);
  status = await m.status();
  assert.deepEqual(status.undelivered_notifications, []);
});

test("analytics that cannot be read change no incident, and say why in /status", async (t) => {
  const hook = await startWebhook();
  t.after(() => hook.close());
  const config = baseConfig({
    account_id: ACCOUNT_ID,
    api_base: API_BASE,
    services: [svc("orders")],
    alerts: [{ name: "orders-errors", service: "orders", condition: "error_rate > 0.05", for: "5m", webhook_url: hook.url }],
  });
  const m = await startMonitor({ config });
  t.after(() => m.dispose());
  await m.analytics({ scripts: { orders: { requests: 100, errors: 50, p99_ms: 10 } } });
  await m.tick(T0);
  assert.equal(hook.posts.length, 1);
  await m.analytics({ error: "Unauthorized: the token cannot read this account's analytics" });
  let round = await m.tick(T0 + MINUTE);
  assert.equal(round.analytics_error, "GraphQL error: Unauthorized: the token cannot read this account's analytics");
  await m.analytics({ error: null, httpStatus: 502 });
  round = await m.tick(T0 + 2 * MINUTE);
  assert.equal(round.analytics_error, "the analytics API answered 502: analytics unavailable");
  const status = await m.status();
  assert.equal(status.open_alerts.length, 1, "the incident stays open: no data is not a resolution");
  assert.deepEqual(status.analytics, { at: "2026-08-01T12:02:00.000Z", error: "the analytics API answered 502: analytics unavailable" });
  assert.equal(status.services[0].status, "healthy", "probing went on");
  assert.equal(hook.posts.length, 1);
});

test("latency and traffic alerts: p99 from wall-time microseconds, and requests below a floor when there is no traffic at all", async (t) => {
  const hook = await startWebhook();
  t.after(() => hook.close());
  const config = baseConfig({
    account_id: ACCOUNT_ID,
    api_base: API_BASE,
    services: [svc("orders"), svc("payments", { interval: "5m" })],
    alerts: [
      { name: "orders-latency", service: "orders", condition: "p99_latency_ms >= 800", for: "10m", webhook_url: hook.url + "?latency" },
      { name: "payments-traffic", service: "payments", condition: "requests < 10", for: "15m", webhook_url: hook.url + "?traffic" },
      { name: "search-traffic", service: "search", condition: "requests < 10", for: "5m", webhook_url: hook.url + "?search" },
    ],
  });
  const m = await startMonitor({ config });
  t.after(() => m.dispose());
  await m.analytics({ scripts: { orders: { requests: 50, errors: 0, p99_ms: 912.25 }, payments: { requests: 120, errors: 0, p99_ms: 5 }, search: { requests: 10, errors: 0, p99_ms: 5 } } });
  await m.tick(T0);
  assert.deepEqual(hook.posts.map((p) => [p.path, p.body.alert, p.body.value]), [["/hooks/alerts?latency", "orders-latency", 912.25]]);
  const { queries } = await m.analytics();
  assert.deepEqual(queries.at(-1).body.variables, {
    accountTag: ACCOUNT_ID,
    scripts: ["orders", "payments", "search"],
    end: "2026-08-01T12:00:00.000Z",
    start0: "2026-08-01T11:55:00.000Z",
    start1: "2026-08-01T11:50:00.000Z",
    start2: "2026-08-01T11:45:00.000Z",
  });
  await m.analytics({ scripts: { orders: { requests: 50, errors: 0, p99_ms: 200 } } }); // payments and search: no rows
  await m.tick(T0 + MINUTE);
  assert.deepEqual(
    hook.posts.slice(1).map((p) => [p.body.alert, p.body.event, p.body.value]).sort(),
    [
      ["orders-latency", "alert.resolved", 200],
      ["payments-traffic", "alert.firing", 0],
      ["search-traffic", "alert.firing", 0],
    ],
  );
});

test("GET /status and POST /__run need MONITOR_TOKEN; /__run probes every service now", async (t) => {
  const config = baseConfig({ services: [svc("orders", { interval: "1h" })] });
  const m = await startMonitor({ config });
  t.after(() => m.dispose());
  assert.equal((await m.fetch("/status")).status, 401);
  assert.equal((await m.fetch("/status", { headers: { authorization: "Bearer wrong" } })).status, 401);
  assert.equal((await m.fetch("/__run", { method: "POST" })).status, 401);
  const before = (await m.service("orders")).hits;
  const run = await m.fetch("/__run", { method: "POST", headers: { authorization: `Bearer ${MONITOR_TOKEN}` } });
  assert.equal(run.status, 200);
  const summary = await run.json();
  assert.deepEqual([summary.forced, summary.probed, summary.health], [true, ["orders"], { orders: "healthy" }]);
  const run2 = await m.fetch("/__run", { method: "POST", headers: { authorization: `Bearer ${MONITOR_TOKEN}` } });
  assert.deepEqual((await run2.json()).probed, ["orders"], "forced rounds ignore the interval");
  assert.equal((await m.service("orders")).hits, before + 2);
  assert.equal((await m.status()).services[0].status, "healthy");
  assert.equal((await m.fetch("/nope")).status, 404);
  const health = await m.fetch("/health");
  assert.deepEqual(await health.json(), { status: "pass", monitor: "platform-monitor", services: 1, alerts: 0 });
});

test("without MONITOR_TOKEN, /status is open and /__run does not exist", async (t) => {
  const m = await startMonitor({ config: baseConfig({ services: [svc("orders")] }), token: null });
  t.after(() => m.dispose());
  await m.tick(T0);
  const res = await m.fetch("/status");
  assert.equal(res.status, 200);
  assert.equal((await res.json()).services[0].status, "healthy");
  const run = await m.fetch("/__run", { method: "POST" });
  assert.equal(run.status, 404);
  assert.equal((await run.json()).message, "POST /__run is disabled: bind the MONITOR_TOKEN secret to enable it");
});

test("a configuration that does not match the bindings fails loudly", async (t) => {
  const config = baseConfig({ services: [svc("orders")] });
  const broken = { ...config, services: [...config.services, svc("billing")] };
  const m = await startMonitor({ config, rawConfig: broken });
  t.after(() => m.dispose());
  const res = await m.fetch("/health");
  assert.equal(res.status, 500);
  assert.deepEqual(await res.json(), { status: "fail", error: "services[1].binding: this Worker has no service binding SERVICE_BILLING" });
  assert.equal((await m.scheduled(T0)).outcome, "exception");
});
