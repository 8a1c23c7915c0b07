// Rate limits: the Workers rate-limit binding for 10 s / 60 s periods and the Durable Object
// sliding window for any other period, both exact under parallel clients; 429 with
// Retry-After; keys isolated.
//
// Miniflare's rate-limit binding counts in fixed windows aligned to multiples of the period,
// so a burst that happens to straddle a boundary is legitimately split over two windows.
// inOneWindow reruns such a burst with a fresh key (never waits); the sliding window has no
// boundaries and needs no such guard.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startEdge, send, route, until } from "./harness.mjs";

const routes = [route("/users/*", "users")];
const KEYS = { alpha: "alpha-key-0123456789abcdef", beta: "beta-key-0123456789abcdef" };
// A fresh pair of keys for each attempt of a burst (see inOneWindow).
const WINDOW_KEYS = Object.fromEntries([0, 1, 2, 3, 4].flatMap((i) => [[`alpha${i}`, `alpha-${i}-key-0123456789`], [`beta${i}`, `beta-${i}-key-0123456789`]]));
let edge;

before(async () => {
  const rl = (requests, period, key, extra = {}) => ({ version: 1, routes, rate_limit: { requests, period, key }, ...extra });
  edge = await startEdge({
    gateways: [
      { name: "ip60", config: rl(5, 60, "ip"), rateLimit: { limit: 5, period: 60 } },
      { name: "tenant60", config: rl(20, 60, "header:x-tenant"), rateLimit: { limit: 20, period: 60 } },
      { name: "key10", apiKeys: WINDOW_KEYS, config: rl(3, 10, "api_key", { auth: { mode: "required", api_keys: true } }), rateLimit: { limit: 3, period: 10 } },
      { name: "do-hour", config: rl(20, 3600, "ip") },
      { name: "do-tenant", config: rl(2, 120, "header:x-tenant") },
      { name: "do-second", config: rl(3, 1, "ip") },
      { name: "do-key", apiKeys: KEYS, config: rl(2, 300, "api_key", { auth: { mode: "optional", api_keys: true } }) },
      { name: "no-binding", config: rl(5, 60, "ip") },
    ],
  });
});
after(() => edge.dispose());

let ipCounter = 0;
const freshIp = () => `198.51.${Math.floor(++ipCounter / 250)}.${(ipCounter % 250) + 1}`;

async function inOneWindow(periodSeconds, attempt) {
  const window = (t) => Math.floor(t / (periodSeconds * 1000));
  for (let i = 0; i < 5; i++) {
    const started = Date.now();
    const result = await attempt();
    if (window(started) === window(Date.now())) return result;
  }
  throw new Error("five bursts in a row straddled a window boundary");
}

const statuses = (responses) => responses.map((r) => r.status).sort((a, b) => a - b);
const count = (responses, status) => responses.filter((r) => r.status === status).length;

function assertLimited(res, retryAfter) {
  assert.equal(res.status, 429);
  assert.equal(res.headers["retry-after"], String(retryAfter));
  assert.equal(res.headers["x-upstream"], undefined);
  assert.deepEqual(res.json(), { error: "rate limit exceeded", request_id: res.headers["x-request-id"] });
}

test("binding (60 s): the 6th request of a client in the window → 429 with Retry-After", async () => {
  const gw = edge.url("ip60");
  const responses = await inOneWindow(60, async () => {
    const ip = freshIp();
    const out = [];
    for (let i = 0; i < 6; i++) out.push(await send(gw, { path: "/users/1", ip }));
    return out;
  });
  assert.deepEqual(responses.slice(0, 5).map((r) => r.status), [200, 200, 200, 200, 200]);
  assertLimited(responses[5], 60);
});

test("binding (60 s): exact under 40 parallel clients sharing one key", async () => {
  const gw = edge.url("tenant60");
  const responses = await inOneWindow(60, () => {
    const tenant = `t-${freshIp()}`;
    return Promise.all(Array.from({ length: 40 }, (_, i) => send(gw, { path: "/users/1", ip: `192.0.2.${i + 1}`, headers: { "x-tenant": tenant } })));
  });
  assert.equal(count(responses, 200), 20);
  assert.equal(count(responses, 429), 20);
});

test("binding: keys are isolated, and X-Forwarded-For does not make a new client", async () => {
  const gw = edge.url("ip60");
  const [spoofed, other] = await inOneWindow(60, async () => {
    const ip = freshIp();
    for (let i = 0; i < 5; i++) assert.equal((await send(gw, { path: "/users/1", ip })).status, 200);
    const spoofed = await send(gw, { path: "/users/1", ip, headers: { "x-forwarded-for": "192.0.2.99", "x-real-ip": "192.0.2.98", forwarded: "for=192.0.2.97" } });
    const other = await send(gw, { path: "/users/1", ip: freshIp() });
    return [spoofed, other];
  });
  assertLimited(spoofed, 60);
  assert.equal(other.status, 200);
});

test("binding (10 s) by api_key: each key has its own budget; refused credentials spend none", async () => {
  const gw = edge.url("key10");
  let attempt = 0;
  const [alpha, beta] = await inOneWindow(10, async () => {
    const pair = attempt++;
    const alpha = [];
    const beta = [];
    for (let i = 0; i < 4; i++) alpha.push(await send(gw, { path: "/users/1", headers: { "x-api-key": WINDOW_KEYS[`alpha${pair}`] } }));
    for (let i = 0; i < 5; i++) assert.equal((await send(gw, { path: "/users/1", headers: { "x-api-key": "wrong-key-0123456789" } })).status, 401);
    for (let i = 0; i < 4; i++) beta.push(await send(gw, { path: "/users/1", headers: { "x-api-key": WINDOW_KEYS[`beta${pair}`] } }));
    return [alpha, beta];
  });
  assert.deepEqual(alpha.map((r) => r.status), [200, 200, 200, 429]);
  assert.deepEqual(beta.map((r) => r.status), [200, 200, 200, 429]);
  assertLimited(alpha[3], 10);
});

test("Durable Object (1 h): exact under 60 parallel clients sharing one IP", async () => {
  const gw = edge.url("do-hour");
  const ip = freshIp();
  const responses = await Promise.all(Array.from({ length: 60 }, () => send(gw, { path: "/users/1", ip })));
  assert.equal(count(responses, 200), 20);
  assert.equal(count(responses, 429), 40);
  const retry = Number(responses.find((r) => r.status === 429).headers["retry-after"]);
  assert.ok(retry > 3590 && retry <= 3600, `Retry-After ${retry} is the time until the oldest request leaves the hour`);
  assert.equal((await send(gw, { path: "/users/1", ip: freshIp() })).status, 200, "another IP is not limited");
});

test("Durable Object: header keys are isolated; a request without the header counts by IP", async () => {
  const gw = edge.url("do-tenant");
  const ip = freshIp();
  const a = [], b = [];
  for (let i = 0; i < 3; i++) a.push((await send(gw, { path: "/users/1", ip, headers: { "x-tenant": "acme" } })).status);
  for (let i = 0; i < 3; i++) b.push((await send(gw, { path: "/users/1", ip, headers: { "x-tenant": "globex" } })).status);
  assert.deepEqual(a, [200, 200, 429]);
  assert.deepEqual(b, [200, 200, 429]);
  assert.equal((await send(gw, { path: "/users/1", ip })).status, 200, "no header: the IP's own budget");
});

test("Durable Object by api_key: anonymous clients count by IP, identities by key", async () => {
  const gw = edge.url("do-key");
  const ip = freshIp();
  const alpha = [];
  for (let i = 0; i < 3; i++) alpha.push((await send(gw, { path: "/users/1", ip, headers: { "x-api-key": KEYS.alpha } })).status);
  assert.deepEqual(alpha, [200, 200, 429]);
  assert.equal((await send(gw, { path: "/users/1", ip })).status, 200, "the same IP without a key has its own budget");
  assert.equal((await send(gw, { path: "/users/1", ip, headers: { "x-api-key": KEYS.beta } })).status, 200);
});

test("Durable Object (1 s): the window slides — room returns when the oldest request leaves it", async () => {
  const gw = edge.url("do-second");
  const ip = freshIp();
  const burst = await Promise.all(Array.from({ length: 5 }, () => send(gw, { path: "/users/1", ip })));
  assert.deepEqual(statuses(burst), [200, 200, 200, 429, 429]);
  assertLimited(burst.find((r) => r.status === 429), 1);
  // Room returns once the first requests leave the window. The refused requests polling for it
  // are not counted: if they were, the window would never empty while they keep coming.
  await until(async () => (await send(gw, { path: "/users/1", ip })).status === 200, { timeoutMs: 5000, what: "the window to slide" });
  // The request that found room holds one of the three places, so at most two more fit now.
  const after = await Promise.all(Array.from({ length: 5 }, () => send(gw, { path: "/users/1", ip })));
  assert.ok(count(after, 200) <= 2, `${count(after, 200)} of 5 passed; the window holds three`);
});

test("a rate limit whose binding is missing fails closed (500)", async () => {
  const res = await send(edge.url("no-binding"), { path: "/users/1" });
  assert.equal(res.status, 500);
  assert.equal(res.headers["x-upstream"], undefined);
});
