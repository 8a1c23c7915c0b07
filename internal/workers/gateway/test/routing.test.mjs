// Routing and forwarding: precedence, patterns, 404/405, prefix stripping, upstream failures
// and timeouts, retries, streaming, redirects, version pinning.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startEdge, send, open, route, until } from "./harness.mjs";

const VERSION = "5b1a7a0e-3f1c-4c9e-9a51-2f0d1c7e9b42";
let edge, gw, strict, broken;

before(async () => {
  edge = await startEdge({
    gateways: [
      {
        name: "gw",
        config: {
          version: 1,
          name: "routing",
          routes: [
            route("/*", "public"),
            route("/users/*", "users"),
            route("/users/:id", "admin"),
            route("/users/me", "orders"),
            route("/users/:id/files/*", "files"),
            route("/", "orders", { methods: ["GET"] }),
            route("/api/orders/*", "orders", { strip_prefix: "/api", methods: ["GET", "POST"] }),
            route("/v1/users/*", "users", { strip_prefix: "/v1/users", version_id: VERSION }),
            route("/slow/*", "users", { strip_prefix: "/slow", timeout_ms: 300 }),
            route("/retry/*", "users", { strip_prefix: "/retry", retries: 2, timeout_ms: 300 }),
            route("/do/*", "files", { strip_prefix: "/do" }),
            route("/ghost/*", "ghost", { binding: "SERVICE_GHOST" }),
          ],
        },
      },
      { name: "strict", config: { version: 1, routes: [route("/users/*", "users")] } },
      { name: "broken", config: { version: 1, routes: [{ path: "/users/*/x", service: "users", binding: "SERVICE_USERS" }] } },
    ],
  });
  gw = edge.url("gw");
  strict = edge.url("strict");
  broken = edge.url("broken");
});
after(() => edge.dispose());

const upstreamOf = (res) => res.headers["x-upstream"];

test("the most specific pattern wins: literal over :param over *, exact over *", async () => {
  const cases = [
    ["/users/me", "orders"],
    ["/users/42", "admin"],
    ["/users/42/files/a/b", "files"],
    ["/users/42/other", "users"],
    ["/users", "users"],
    ["/users/", "users"],
    ["/", "orders"],
    ["/elsewhere/x", "public"],
  ];
  for (const [path, service] of cases) {
    const res = await send(gw, { path });
    assert.equal(res.status, 200, path);
    assert.equal(upstreamOf(res), service, `${path} → ${service}`);
  }
});

test("literal segments match case-sensitively: /Users/me is not /users/me", async () => {
  const res = await send(gw, { path: "/Users/me" });
  assert.equal(upstreamOf(res), "public");
  assert.equal(res.json().path, "/Users/me");
});

test("the upstream sees the normalised path and the query string as sent", async () => {
  const res = await send(gw, { path: "/users//42/./files/%61b/?q=a%2Fb&x=1" });
  assert.equal(upstreamOf(res), "files");
  const seen = res.json();
  assert.equal(seen.path, "/users/42/files/ab/");
  assert.equal(seen.search, "?q=a%2Fb&x=1");
});

test("strip_prefix removes leading literal segments before forwarding", async () => {
  let res = await send(gw, { path: "/api/orders/7?full=1" });
  assert.equal(upstreamOf(res), "orders");
  assert.equal(res.json().path, "/orders/7");
  assert.equal(res.json().search, "?full=1");
  res = await send(gw, { path: "/v1/users" });
  assert.equal(res.json().path, "/");
});

test("unknown path → 404 JSON {error, request_id}", async () => {
  const res = await send(strict, { path: "/nothing/here" });
  assert.equal(res.status, 404);
  assert.equal(res.headers["content-type"], "application/json");
  assert.deepEqual(res.json(), { error: "no route matches this path", request_id: res.headers["x-request-id"] });
});

test("an invalid configuration fails closed with 500", async () => {
  const res = await send(broken, { path: "/users/1/x" });
  assert.equal(res.status, 500);
  assert.deepEqual(res.json(), { error: "the gateway is misconfigured", request_id: null });
  // workerd's stdout reaches the test after the response: wait for the line.
  await until(() => edge.logs.some((l) => l.includes("gateway.config_error") && l.includes('\\"*\\" must be the last segment')), {
    what: "the config_error log line",
  });
});

test("method not allowed → 405 with Allow; GET allows HEAD", async () => {
  let res = await send(gw, { method: "DELETE", path: "/api/orders/7" });
  assert.equal(res.status, 405);
  assert.equal(res.headers.allow, "GET, POST, HEAD");
  assert.equal(upstreamOf(res), undefined);
  const body = res.json();
  assert.match(body.error, /DELETE is not allowed/);
  assert.equal(body.request_id, res.headers["x-request-id"]);
  res = await send(gw, { method: "HEAD", path: "/api/orders/7" });
  assert.equal(res.status, 200);
  assert.equal(upstreamOf(res), "orders");
  res = await send(gw, { method: "POST", path: "/", body: "x" });
  assert.equal(res.status, 405);
  assert.equal(res.headers.allow, "GET, HEAD");
});

test("upstream 4xx/5xx status, headers and body pass through untouched", async () => {
  for (const code of [400, 404, 409, 418, 500, 503]) {
    const res = await send(gw, { path: `/do/status/${code}` });
    assert.equal(res.status, code);
    assert.equal(upstreamOf(res), "files");
    assert.equal(res.text, `upstream body ${code}`);
    assert.equal(res.headers["x-upstream-detail"], "kept");
    assert.equal(res.headers["content-type"], "text/plain");
  }
});

test("an upstream that throws → 502 JSON; one that does not answer in time → 504 JSON", async () => {
  let res = await send(gw, { path: "/do/throw" });
  assert.equal(res.status, 502);
  assert.deepEqual(Object.keys(res.json()).sort(), ["error", "request_id"]);
  assert.equal(res.json().error, "service files failed");
  res = await send(gw, { path: "/slow/hang" });
  assert.equal(res.status, 504);
  assert.equal(res.json().error, "service users did not answer in time");
});

test("a route whose service binding is missing → 502, not a crash", async () => {
  const res = await send(gw, { path: "/ghost/x" });
  assert.equal(res.status, 502);
  assert.equal(res.json().error, "service ghost is unavailable");
});

test("retries repeat failed and timed-out attempts of idempotent methods", async () => {
  let res = await send(gw, { path: "/retry/flaky", headers: { "x-test-id": "r1", "x-fail-times": "2" } });
  assert.equal(res.status, 200);
  assert.equal(res.json().attempts, 3);
  res = await send(gw, { path: "/retry/flaky", headers: { "x-test-id": "r2", "x-fail-times": "3" } });
  assert.equal(res.status, 502, "three attempts (1 + retries 2) all failed");
  res = await send(gw, { path: "/retry/slow-once", headers: { "x-test-id": "r3" } });
  assert.equal(res.status, 200);
  assert.equal(res.json().attempts, 2, "the first attempt timed out, the retry answered");
});

test("no retries for non-idempotent methods or requests with a body", async () => {
  let res = await send(gw, { method: "POST", path: "/retry/flaky", headers: { "x-test-id": "p1", "x-fail-times": "1" }, body: "x" });
  assert.equal(res.status, 502);
  res = await send(gw, { method: "POST", path: "/retry/flaky", headers: { "x-test-id": "p1", "x-fail-times": "1" }, body: "x" });
  assert.equal(res.status, 200);
  assert.equal(res.json().attempts, 2, "each POST reached the upstream exactly once");
  res = await send(gw, { method: "PUT", path: "/retry/flaky", headers: { "x-test-id": "p2", "x-fail-times": "1" }, body: "payload" });
  assert.equal(res.status, 502, "a PUT with a body is streamed once, not retried");
});

test("response bodies stream: the first chunk arrives while the upstream is still writing", async () => {
  const res = await open(gw, { path: "/do/stream" });
  assert.equal(res.statusCode, 200);
  const first = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no chunk within 5 s: the body was buffered")), 5000);
    res.once("data", (d) => {
      clearTimeout(timer);
      resolve(d.toString());
    });
  });
  assert.equal(first, "first chunk\n");
  res.destroy();
});

test("request bodies stream: the upstream reads the first chunk before the client finished sending", async () => {
  let release;
  const released = new Promise((r) => (release = r));
  async function* body() {
    yield "chunk-one";
    await released; // the rest is only sent once the response has arrived
    yield "chunk-two";
  }
  const pending = send(gw, { method: "POST", path: "/do/first-chunk", headers: { "content-type": "text/plain", "transfer-encoding": "chunked" }, body: body() });
  const timer = setTimeout(release, 5000); // the bound: a buffering gateway would answer only after this
  const started = Date.now();
  const res = await pending;
  clearTimeout(timer);
  release();
  assert.equal(res.status, 200);
  assert.equal(res.text, "upstream read: chunk-one");
  assert.ok(Date.now() - started < 5000, "the response came before the body was complete");
});

test("upstream redirects go back to the client; the gateway does not follow them", async () => {
  const res = await send(gw, { path: "/do/redirect" });
  assert.equal(res.status, 302);
  assert.equal(res.headers.location, "https://evil.example/stolen");
});

test("version_id pins the route: the upstream gets Cloudflare-Workers-Version-Overrides", async () => {
  let res = await send(gw, { path: "/v1/users/1" });
  assert.equal(res.json().headers["cloudflare-workers-version-overrides"], `users="${VERSION}"`);
  res = await send(gw, { path: "/v1/users/1", headers: { "cloudflare-workers-version-overrides": 'users="attacker"' } });
  assert.equal(res.json().headers["cloudflare-workers-version-overrides"], `users="${VERSION}"`);
  res = await send(gw, { path: "/users/1/x", headers: { "cloudflare-workers-version-overrides": 'users="attacker"' } });
  assert.equal(res.json().headers["cloudflare-workers-version-overrides"], undefined, "a client cannot pin versions itself");
});

test("the upstream is told the route and forwarding facts the gateway established", async () => {
  const res = await send(gw, { path: "/users/1/x", ip: "198.51.100.9", headers: { "x-forwarded-for": "10.0.0.1", "x-forwarded-host": "evil.example", "x-gateway-route": "/admin/*" } });
  const h = res.json().headers;
  assert.equal(h["x-gateway-route"], "/users/*");
  assert.equal(h["x-forwarded-for"], "198.51.100.9");
  assert.equal(h["x-forwarded-host"], gw.host);
  assert.equal(h["x-forwarded-proto"], "http");
  assert.equal(h["x-gateway-auth"], "none");
});

test("the request id is generated, returned and forwarded; a valid inbound id is kept", async () => {
  let res = await send(gw, { path: "/users/1/x" });
  const id = res.headers["x-request-id"];
  assert.match(id, /^[0-9a-f-]{36}$/);
  assert.equal(res.json().headers["x-request-id"], id);
  res = await send(gw, { path: "/users/1/x", headers: { "x-request-id": "client-id-123" } });
  assert.equal(res.headers["x-request-id"], "client-id-123");
  assert.equal(res.json().headers["x-request-id"], "client-id-123");
  res = await send(gw, { path: "/users/1/x", headers: { "x-request-id": "bad id\twith spaces" } });
  assert.notEqual(res.headers["x-request-id"], "bad id\twith spaces");
  assert.match(res.headers["x-request-id"], /^[0-9a-f-]{36}$/);
});
