// CORS: preflights answered by the gateway, allowed origins echoed with Vary: Origin,
// credentials only with an explicit origin list, the upstream's own CORS headers replaced.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startEdge, send, route, until } from "./harness.mjs";

const SHOP = "https://shop.example.com";
let edge, listed, any;

before(async () => {
  edge = await startEdge({
    gateways: [
      {
        name: "listed",
        apiKeys: { ci: "cors-gateway-key-0123456789" },
        config: {
          version: 1,
          routes: [route("/users/*", "users")],
          cors: {
            allowed_origins: [SHOP, "http://localhost:3000"],
            allowed_methods: ["GET", "POST"],
            allowed_headers: ["Content-Type", "Authorization"],
            expose_headers: ["X-Request-Id", "X-Upstream"],
            allow_credentials: true,
            max_age: 600,
          },
          auth: { mode: "required", api_keys: true },
        },
      },
      { name: "null-listed", config: { version: 1, routes: [route("/users/*", "users")], cors: { allowed_origins: ["null", SHOP] } } },
      { name: "any", config: { version: 1, routes: [route("/users/*", "users")], cors: { allowed_origins: ["*"] } } },
    ],
  });
  listed = edge.url("listed");
  any = edge.url("any");
});
after(() => edge.dispose());

const preflight = (origin, extra = {}) => ({
  method: "OPTIONS",
  path: "/users/1",
  headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type", ...extra },
});

test("a preflight from an allowed origin is answered by the gateway, before auth, without the upstream", async () => {
  const res = await send(listed, preflight(SHOP));
  assert.equal(res.status, 204);
  assert.equal(res.headers["x-upstream"], undefined);
  assert.equal(res.headers["access-control-allow-origin"], SHOP);
  assert.equal(res.headers["access-control-allow-methods"], "GET,POST");
  assert.equal(res.headers["access-control-allow-headers"], "Content-Type,Authorization");
  assert.equal(res.headers["access-control-allow-credentials"], "true");
  assert.equal(res.headers["access-control-max-age"], "600");
  assert.match(res.headers.vary, /Origin/);
  assert.ok(res.headers["x-request-id"]);
});

test("a preflight from any other origin gets no Access-Control-Allow-Origin", async () => {
  for (const origin of ["https://evil.example.com", "https://evil.example.com.shop.example.com", "https://shop.example.com.evil.com", "null", "https://SHOP.example.com", "http://shop.example.com", "https://shop.example.com:8443"]) {
    const res = await send(listed, preflight(origin));
    assert.equal(res.status, 204, origin);
    assert.equal(res.headers["access-control-allow-origin"], undefined, origin);
    assert.equal(res.headers["x-upstream"], undefined);
  }
});

test("an actual request from an allowed origin gets the origin, credentials, exposed headers and Vary: Origin", async () => {
  const res = await send(listed, { path: "/users/1", headers: { origin: SHOP, "x-api-key": "cors-gateway-key-0123456789" } });
  assert.equal(res.status, 200);
  assert.equal(res.headers["access-control-allow-origin"], SHOP);
  assert.equal(res.headers["access-control-allow-credentials"], "true");
  assert.equal(res.headers["access-control-expose-headers"], "X-Request-Id,X-Upstream");
  assert.match(res.headers.vary, /Origin/);
});

test("gateway errors carry CORS headers too, so a browser can read them", async () => {
  const res = await send(listed, { path: "/users/1", headers: { origin: SHOP } });
  assert.equal(res.status, 401);
  assert.equal(res.headers["access-control-allow-origin"], SHOP);
  assert.match(res.headers.vary, /Origin/);
});

test("an upstream's own CORS headers are replaced by the gateway's policy", async () => {
  let res = await send(listed, { path: "/users/cors", headers: { origin: "https://evil.example.com", "x-api-key": "cors-gateway-key-0123456789" } });
  assert.equal(res.headers["x-upstream"], "users");
  assert.equal(res.headers["access-control-allow-origin"], undefined, "the upstream's * is dropped");
  res = await send(listed, { path: "/users/cors", headers: { origin: SHOP, "x-api-key": "cors-gateway-key-0123456789" } });
  assert.equal(res.headers["access-control-allow-origin"], SHOP);
});

test('"*" allows any origin without credentials', async () => {
  let res = await send(any, preflight("https://anyone.example"));
  assert.equal(res.status, 204);
  assert.equal(res.headers["access-control-allow-origin"], "*");
  assert.equal(res.headers["access-control-allow-credentials"], undefined);
  res = await send(any, { path: "/users/1", headers: { origin: "null" } });
  assert.equal(res.headers["access-control-allow-origin"], "*");
  assert.equal(res.headers["access-control-allow-credentials"], undefined);
});

test('a configuration that lists "null" is refused: the gateway fails closed', async () => {
  const gw = edge.url("null-listed");
  for (const request of [preflight("null"), preflight(SHOP), { path: "/users/1", headers: { origin: "null" } }]) {
    const res = await send(gw, request);
    assert.equal(res.status, 500);
    assert.equal(res.headers["access-control-allow-origin"], undefined);
  }
  // workerd's stdout reaches the test after the response: wait for the line.
  await until(() => edge.logs.some((l) => l.includes("gateway.config_error") && l.includes("cors.allowed_origins[0]")), {
    what: "the config_error log line",
  });
});

test("an OPTIONS request that is not a preflight is routed to the upstream", async () => {
  const res = await send(any, { method: "OPTIONS", path: "/users/1" });
  assert.equal(res.headers["x-upstream"], "users");
  assert.equal(res.json().method, "OPTIONS");
});
