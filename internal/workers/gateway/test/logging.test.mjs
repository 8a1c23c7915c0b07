// Logging: one JSON line per request with request id, route, service, status, duration and
// client key id — never the key or the token; redaction; sampling; request id propagation.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startEdge, send, route, logLine, jwt } from "./harness.mjs";

const KEY = "logging-secret-key-0123456789";
const HS_SECRET = "logging-hs256-secret-of-32-bytes-or-more";
let edge;

before(async () => {
  const routes = [route("/users/*", "users"), route("/orders/:id", "orders")];
  edge = await startEdge({
    gateways: [
      {
        name: "logged",
        apiKeys: { "ci-bot": KEY },
        jwtSecret: HS_SECRET,
        config: {
          version: 1,
          name: "logged",
          request_id_header: "X-Correlation-Id",
          routes,
          auth: { mode: "optional", api_keys: true, jwt: { hs256: true } },
          logging: { enabled: true, sample_rate: 1, redact_headers: ["X-Session"] },
        },
      },
      { name: "silent", config: { version: 1, name: "silent", routes, logging: { enabled: true, sample_rate: 0 } } },
      { name: "disabled", config: { version: 1, name: "disabled", routes, logging: { enabled: false, sample_rate: 1 } } },
      { name: "half", config: { version: 1, name: "half", routes, logging: { enabled: true, sample_rate: 0.5 } } },
    ],
  });
});
after(() => edge.dispose());

const linesOf = (gateway) =>
  edge.logs.filter((l) => l.includes('"type":"gateway.request"')).map((l) => JSON.parse(l)).filter((e) => e.gateway === gateway);

test("one JSON line per request with id, route, service, status, duration and client", async () => {
  const res = await send(edge.url("logged"), { path: "/orders/42?secret=query", headers: { "x-api-key": KEY } });
  assert.equal(res.status, 200);
  const id = res.headers["x-correlation-id"];
  const entry = await logLine(edge, id);
  assert.equal(entry.gateway, "logged");
  assert.equal(entry.method, "GET");
  assert.equal(entry.path, "/orders/42", "the path without its query string");
  assert.equal(entry.route, "/orders/:id");
  assert.equal(entry.service, "orders");
  assert.equal(entry.status, 200);
  assert.equal(typeof entry.duration_ms, "number");
  assert.ok(entry.duration_ms >= 0);
  assert.equal(entry.auth, "api_key");
  assert.equal(entry.client, "ci-bot");
  assert.equal(entry.attempts, 1);
  assert.equal(edge.logs.filter((l) => l.includes(id)).length, 1, "exactly one line for the request");
});

test("the key, the token and redacted headers never appear in a log line", async () => {
  const token = await jwt({ sub: "user-77" }, new TextEncoder().encode(HS_SECRET), { alg: "HS256" });
  const a = await send(edge.url("logged"), { path: "/users/1", headers: { "x-api-key": KEY, cookie: "session=abc123", "x-session": "s3cr3t-session" } });
  const b = await send(edge.url("logged"), { path: "/users/1", headers: { authorization: `Bearer ${token}` } });
  const c = await send(edge.url("logged"), { path: "/users/1", headers: { "x-api-key": KEY + "-wrong" } });
  assert.equal(c.status, 401);
  const entries = await Promise.all([a, b, c].map((r) => logLine(edge, r.headers["x-correlation-id"])));
  assert.equal(entries[1].client, "user-77");
  assert.equal(entries[1].auth, "jwt");
  assert.equal(entries[0].headers["x-api-key"], "[redacted]");
  assert.equal(entries[0].headers.cookie, "[redacted]");
  assert.equal(entries[0].headers["x-session"], "[redacted]");
  assert.equal(entries[1].headers.authorization, "[redacted]");
  assert.equal(entries[2].status, 401);
  assert.equal(entries[2].client, null);
  const all = edge.logs.join("\n");
  for (const secret of [KEY, token, token.split(".")[2], "abc123", "s3cr3t-session", HS_SECRET]) assert.ok(!all.includes(secret), `a log line contains ${secret.slice(0, 12)}…`);
});

test("gateway errors are logged with their reason", async () => {
  const res = await send(edge.url("logged"), { path: "/users/%2e%2e%2fadmin" });
  assert.equal(res.status, 400);
  const entry = await logLine(edge, res.headers["x-correlation-id"]);
  assert.equal(entry.status, 400);
  assert.equal(entry.route, null);
  assert.equal(entry.path, null);
  assert.equal(entry.error, "path has an encoded '/' or '\\'");
});

test("sample_rate 0 and enabled false log nothing; 0.5 logs about half", async () => {
  for (const name of ["silent", "disabled"]) {
    for (let i = 0; i < 20; i++) assert.equal((await send(edge.url(name), { path: "/users/1" })).status, 200);
  }
  const ids = [];
  for (let i = 0; i < 200; i++) ids.push((await send(edge.url("half"), { path: "/users/1" })).headers["x-request-id"]);
  // A marker request on the always-logged gateway: once its line is in, earlier lines are too.
  const marker = await send(edge.url("logged"), { path: "/users/marker" });
  await logLine(edge, marker.headers["x-correlation-id"]);
  assert.equal(linesOf("silent").length, 0);
  assert.equal(linesOf("disabled").length, 0);
  const logged = linesOf("half").length;
  assert.ok(logged > 60 && logged < 140, `${logged} of 200 requests logged at sample_rate 0.5`);
  assert.ok(linesOf("half").every((e) => ids.includes(e.request_id)));
});

test("the request id header is configurable; a valid inbound id is propagated, an invalid one replaced", async () => {
  let res = await send(edge.url("logged"), { path: "/users/1", headers: { "x-correlation-id": "trace-abc_123=" } });
  assert.equal(res.headers["x-correlation-id"], "trace-abc_123=");
  assert.equal(res.json().headers["x-correlation-id"], "trace-abc_123=");
  assert.equal((await logLine(edge, "trace-abc_123=")).status, 200);
  for (const bad of ["has spaces", "x".repeat(200), "semi;colon", "quote\"d"]) {
    res = await send(edge.url("logged"), { path: "/users/1", headers: { "x-correlation-id": bad } });
    assert.match(res.headers["x-correlation-id"], /^[0-9a-f-]{36}$/, bad);
  }
});
