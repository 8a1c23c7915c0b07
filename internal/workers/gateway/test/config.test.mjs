// Pure parts of the program, tested directly from src: path normalisation, pattern parsing and
// precedence, configuration compilation. (Everything else runs the bundle in Miniflare.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { normalisePath, rawPath, rawSearch, parsePattern, compareRank, PathError, PatternError } from "../src/path.js";
import { compileConfig, ConfigError } from "../src/config.js";
import { readFileSync } from "node:fs";

const testdata = (name) => JSON.parse(readFileSync(new URL(`../testdata/${name}`, import.meta.url), "utf8"));

test("the pattern vectors shared with the Go validation", () => {
  const { valid, invalid, precedence } = testdata("patterns.json");
  for (const { pattern, shape } of valid) assert.equal(parsePattern(pattern).shape, shape, pattern);
  for (const pattern of invalid) assert.throws(() => parsePattern(pattern), PatternError, JSON.stringify(pattern));
  const shuffled = [...precedence].reverse();
  assert.deepEqual(shuffled.map(parsePattern).sort(compareRank).map((p) => p.pattern), precedence);
});

test("the documented example configuration compiles", () => {
  const cfg = compileConfig(testdata("config-example.json"));
  assert.deepEqual(cfg.routes.map((r) => r.pattern), ["/v1/orders/*", "/orders/:id", "/health", "/users/*"]);
  assert.equal(cfg.auth.jwt.algorithm, "RS256");
  assert.equal(cfg.rateLimit.useBinding, true);
});

test("rawPath and rawSearch read the URL as written", () => {
  assert.equal(rawPath("http://h/a/%2e%2e/b?x=/../y#f"), "/a/%2e%2e/b");
  assert.equal(rawPath("http://h"), "/");
  assert.equal(rawPath("http://h?q"), "/");
  assert.equal(rawPath("http://h//evil.com/x"), "//evil.com/x");
  assert.equal(rawPath("http://h/a\\b"), "/a\\b");
  assert.equal(rawSearch("http://h/a?x=%2F#frag"), "?x=%2F");
  assert.equal(rawSearch("http://h/a#f?x"), "");
});

test("normalisePath: canonical forms", () => {
  const cases = [
    ["/", "/", false],
    ["/users", "/users", false],
    ["/users/", "/users", true],
    ["//users///42//", "/users/42", true],
    ["/a/./b/../c", "/a/c", false],
    ["/a/%2e%2E/c", "/c", false],
    ["/a\\b\\c", "/a/b/c", false],
    ["/%75sers/42", "/users/42", false],
    ["/files/a%20b", "/files/a%20b", false],
    ["/files/a b", "/files/a%20b", false],
    ["/x/%3a%40%2b%24%26%2c%3b%3d", "/x/:@+$&,;=", false],
    ["/x/%3F%23", "/x/%3F%23", false],
    ["/caf%C3%A9", "/caf%C3%A9", false],
    ["/a/b/..", "/a", true],
  ];
  for (const [raw, path, trailing] of cases) {
    const got = normalisePath(raw);
    assert.equal(got.path, path, raw);
    assert.equal(got.trailingSlash, trailing, `${raw} trailing slash`);
  }
});

test("normalisePath: ambiguous spellings are refused", () => {
  const refused = [
    ["/a%2fb", 400],
    ["/a%5Cb", 400],
    ["/%2e%2e/x", 400],
    ["/a/%2e%2e/%2e%2e/x", 400],
    ["/a/%252e", 400],
    ["/a/%zz", 400],
    ["/a/%c0%ae", 400],
    ["/a/%00", 400],
    ["/a/%7f", 400],
    ["/a/..;/b", 400],
    ["/a/.;x/b", 400],
    ["/a./b", 400],
    ["/a.../b", 400],
    ["/a%20/b", 400],
    ["/a/%EF%BC%8E%EF%BC%8E", 400],
    ["/a/%EF%BC%8F", 400],
    ["/" + "a".repeat(5000), 414],
  ];
  for (const [raw, status] of refused) {
    assert.throws(() => normalisePath(raw), (err) => err instanceof PathError && err.status === status, raw);
  }
});

test("parsePattern: syntax", () => {
  for (const ok of ["/", "/*", "/users", "/users/*", "/users/:id", "/users/:id/orders/:order_id", "/v1.2/x~y/*"]) assert.equal(parsePattern(ok).pattern, ok);
  const bad = {
    users: /must start with "\/"/,
    "/users/": /must not end with "\/"/,
    "/users//x": /empty segment/,
    "/users/*/x": /"\*" must be the last segment/,
    "/users/:": /parameter ":"/,
    "/users/:1d": /parameter ":1d"/,
    "/users/:id/:id": /names parameter :id twice/,
    "/users/a*": /may contain only/,
    "/users/{id}": /may contain only/,
    "/users/..": /may contain only/,
    "/users/x.": /may contain only/,
    "/users/a%20b": /may contain only/,
    "/users/:id{[0-9]+}": /parameter/,
  };
  for (const [p, message] of Object.entries(bad)) assert.throws(() => parsePattern(p), (err) => err instanceof PatternError && message.test(err.message), p);
  assert.equal(parsePattern("/users/:id").shape, parsePattern("/users/:name").shape);
});

test("precedence: literal > :param > end of pattern > *, from the left", () => {
  const patterns = ["/*", "/users/*", "/users/:id", "/users/me", "/users", "/", "/users/:id/*", "/:tenant/users"];
  const sorted = patterns.map(parsePattern).sort(compareRank).map((p) => p.pattern);
  assert.deepEqual(sorted, ["/users/me", "/users/:id", "/users/:id/*", "/users", "/users/*", "/:tenant/users", "/", "/*"]);
});

test("compileConfig refuses what the program cannot serve, naming the field", () => {
  const base = { version: 1, routes: [{ path: "/users/*", service: "users", binding: "SERVICE_USERS" }] };
  const r = (extra) => ({ ...base, routes: [{ ...base.routes[0], ...extra }] });
  const bad = [
    [null, /GATEWAY_CONFIG: is not a JSON object/],
    [{ ...base, version: 2 }, /^version: is 2/],
    [{ ...base, routes: [...base.routes, { path: "/users/*", service: "b", binding: "B" }] }, /routes\[1\].path: \/users\/\* matches the same requests as routes\[0\].path/],
    [r({ path: "/users/*/x" }), /routes\[0\].path: pattern/],
    [r({ binding: "GATEWAY_CONFIG" }), /routes\[0\].binding/],
    [r({ binding: "bad-name" }), /routes\[0\].binding/],
    [r({ methods: ["POST"], retries: 1 }), /routes\[0\].retries: applies to idempotent methods only/],
    [r({ retries: 9 }), /routes\[0\].retries: must be an integer from 0 to 5/],
    [r({ strip_prefix: "/orders" }), /routes\[0\].strip_prefix/],
    [r({ timeout_ms: 0 }), /routes\[0\].timeout_ms/],
    [{ ...base, cors: { allowed_origins: ["*"], allow_credentials: true } }, /cors.allow_credentials: requires an explicit origin list/],
    [{ ...base, cors: { allowed_origins: ["*", "https://a.example"] } }, /cors.allowed_origins: "\*" cannot be combined/],
    [{ ...base, cors: { allowed_origins: ["https://a.example/path"] } }, /cors.allowed_origins\[0\]/],
    [{ ...base, auth: { mode: "required" } }, /auth.mode: required needs api_keys or jwt/],
    [{ ...base, auth: { mode: "sometimes" } }, /auth.mode/],
    [{ ...base, auth: { mode: "required", jwt: { jwks_url: "http://idp.example/jwks" } } }, /auth.jwt.jwks_url: must be an https URL/],
    [{ ...base, auth: { mode: "required", jwt: {} } }, /auth.jwt: needs jwks_url \(RS256\) or hs256 \(HS256\)/],
    [{ ...base, auth: { mode: "required", jwt: { hs256: true, jwks_url: "https://x" } } }, /auth.jwt: set jwks_url \(RS256\) or hs256 \(HS256\), not both/],
    [{ ...base, rate_limit: { requests: 0, period: 60 } }, /rate_limit.requests: must be an integer from 1/],
    [{ ...base, rate_limit: { requests: 5, period: 0 } }, /rate_limit.period/],
    [{ ...base, rate_limit: { requests: 5, period: 60, key: "cookie" } }, /rate_limit.key/],
    [{ ...base, logging: { sample_rate: 2 } }, /logging.sample_rate/],
  ];
  for (const [cfg, message] of bad) assert.throws(() => compileConfig(cfg), (err) => err instanceof ConfigError && message.test(err.message), JSON.stringify(cfg));
});

test("compileConfig: defaults and route order", () => {
  const cfg = compileConfig({
    version: 1,
    routes: [
      { path: "/*", service: "web", binding: "SERVICE_WEB" },
      { path: "/users/:id", service: "users", binding: "SERVICE_USERS", methods: ["get"] },
    ],
    rate_limit: { requests: 10, period: 60 },
  });
  assert.deepEqual(cfg.routes.map((r) => r.pattern), ["/users/:id", "/*"]);
  assert.equal(cfg.routes[0].allow, "GET, HEAD");
  assert.equal(cfg.routes[1].timeoutMs, 30000);
  assert.equal(cfg.requestIdHeader, "X-Request-Id");
  assert.equal(cfg.auth.mode, "none");
  assert.equal(cfg.rateLimit.useBinding, true);
  assert.equal(cfg.rateLimit.key, "ip");
  assert.equal(compileConfig({ version: 1, routes: [], rate_limit: { requests: 10, period: 30 } }).rateLimit.useBinding, false);
  assert.equal(cfg.logging.enabled, false);
});
