// Auth: API keys against salted hashes (the vectors shared with the Go tests), JWTs with
// HS256 and with RS256 through a JWKS served by a test Worker, modes, public paths, identity
// forwarding. Token times are set through claims; nothing waits for a clock.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { SignJWT } from "jose";
import { startEdge, send, route, signingKeys, jwt, unsignedJwt, now, apiKeysSecret, JWKS_URL } from "./harness.mjs";

const vectors = JSON.parse(readFileSync(new URL("../testdata/api-key-vectors.json", import.meta.url), "utf8")).vectors;
const vectorSecret = JSON.stringify({ version: 1, algorithm: "hmac-sha256", keys: vectors.map(({ id, salt, hash }) => ({ id, salt, hash })) });
const HS_SECRET = "an-hs256-secret-of-at-least-32-bytes!";
const ISSUER = "https://issuer.test";

let edge, keys, hs, rs;
let k; // signing keys

const routes = [route("/users/*", "users"), route("/health", "public"), route("/docs/*", "public")];
const jwtConfig = (extra) => ({ issuer: ISSUER, audiences: ["api://orders", "api://users"], clock_skew: 60, ...extra });

before(async () => {
  k = await signingKeys();
  edge = await startEdge({
    jwks: k.jwks,
    gateways: [
      { name: "keys", apiKeys: vectorSecret, config: { version: 1, name: "keys", routes, auth: { mode: "required", api_keys: true, public_paths: ["/health", "/docs/*"] } } },
      { name: "hs", jwtSecret: HS_SECRET, config: { version: 1, name: "hs", routes, auth: { mode: "required", jwt: jwtConfig({ hs256: true }) } } },
      {
        name: "rs",
        apiKeys: { ci: "rs-gateway-key-0123456789" },
        config: { version: 1, name: "rs", routes, auth: { mode: "required", api_keys: true, jwt: jwtConfig({ jwks_url: JWKS_URL }) } },
      },
      { name: "optional", apiKeys: { ci: "optional-key-0123456789" }, config: { version: 1, routes, auth: { mode: "optional", api_keys: true } } },
      { name: "forward", apiKeys: { ci: "forward-key-0123456789" }, config: { version: 1, routes, auth: { mode: "required", api_keys: true, forward_credentials: true } } },
      { name: "idp-down", config: { version: 1, routes, auth: { mode: "required", jwt: jwtConfig({ jwks_url: "https://idp.test/down/jwks.json" }) } } },
      { name: "no-secret", config: { version: 1, routes, auth: { mode: "required", api_keys: true } } },
    ],
  });
  keys = edge.url("keys");
  hs = edge.url("hs");
  rs = edge.url("rs");
});
after(() => edge.dispose());

const bearer = (token) => ({ authorization: `Bearer ${token}` });
const hsKey = new TextEncoder().encode(HS_SECRET);
const hsToken = (claims = {}, opts = {}) => jwt({ iss: ISSUER, aud: "api://orders", ...claims }, opts.key ?? hsKey, { alg: "HS256", ...opts });
const rsToken = (claims = {}, opts = {}) => jwt({ iss: ISSUER, aud: "api://users", ...claims }, opts.key ?? k.privateKey, opts);

function assertChallenge(res, error) {
  assert.equal(res.status, 401);
  const challenge = res.headers["www-authenticate"];
  assert.ok(challenge, "401 carries WWW-Authenticate");
  assert.match(challenge, /^Bearer realm="[^"]*"/);
  if (error) assert.match(challenge, new RegExp(`error="${error}"`));
  assert.equal(res.headers["x-upstream"], undefined, "the upstream was not called");
  assert.deepEqual(Object.keys(res.json()).sort(), ["error", "request_id"]);
}

test("every shared test vector authenticates, in X-API-Key and as a Bearer token", async () => {
  for (const v of vectors) {
    for (const headers of [{ "x-api-key": v.key }, bearer(v.key)]) {
      const res = await send(keys, { path: "/users/1", headers });
      assert.equal(res.status, 200, `${v.id} via ${Object.keys(headers)[0]}`);
      const seen = res.json().headers;
      assert.equal(seen["x-gateway-identity"], v.id);
      assert.equal(seen["x-gateway-auth"], "api_key");
      assert.equal(seen["x-api-key"], undefined, "the key is not forwarded");
      assert.equal(seen.authorization, undefined, "the key is not forwarded");
    }
  }
});

test("near-miss keys are refused with 401 and a Bearer challenge", async () => {
  const key = vectors[0].key;
  const wrong = [key.slice(0, -1), key + "x", key.toUpperCase(), "x" + key.slice(1), vectors[1].key.slice(0, -1), "sdo_live_", key.split("").reverse().join("")];
  for (const candidate of wrong) {
    const res = await send(keys, { path: "/users/1", headers: { "x-api-key": candidate } });
    assertChallenge(res, "invalid_token");
    assert.equal(res.json().error, "API key is not valid");
  }
});

test("missing credentials → 401 with WWW-Authenticate; public paths need none", async () => {
  let res = await send(keys, { path: "/users/1" });
  assertChallenge(res);
  assert.equal(res.headers["www-authenticate"], 'Bearer realm="keys"');
  assert.equal(res.json().request_id, res.headers["x-request-id"]);
  for (const path of ["/health", "/docs/a/b"]) {
    res = await send(keys, { path, headers: { "x-gateway-identity": "admin", "x-gateway-auth": "api_key" } });
    assert.equal(res.status, 200, path);
    const seen = res.json().headers;
    assert.equal(seen["x-gateway-identity"], undefined, "an inbound identity header is stripped");
    assert.equal(seen["x-gateway-auth"], "none");
  }
  res = await send(keys, { path: "/healthz" });
  assert.equal(res.status, 401, "a public path is matched as a pattern, not as a prefix");
});

test("an identity header sent by the client never reaches the upstream as the identity", async () => {
  const res = await send(keys, { path: "/users/1", headers: { "x-api-key": vectors[0].key, "x-gateway-identity": "admin", "X-Gateway-Auth": "jwt" } });
  const seen = res.json().headers;
  assert.equal(seen["x-gateway-identity"], "ci");
  assert.equal(seen["x-gateway-auth"], "api_key");
});

test("HS256: a valid token passes and forwards its subject", async () => {
  const res = await send(hs, { path: "/users/1", headers: bearer(await hsToken({ sub: "alice" })) });
  assert.equal(res.status, 200);
  assert.equal(res.json().headers["x-gateway-identity"], "alice");
  assert.equal(res.json().headers["x-gateway-auth"], "jwt");
  assert.equal(res.json().headers.authorization, undefined);
});

test("a valid token for another audience → 403; another issuer → 401", async () => {
  let res = await send(hs, { path: "/users/1", headers: bearer(await hsToken({ aud: "api://billing" })) });
  assert.equal(res.status, 403);
  assert.equal(res.json().error, "token is not for this audience");
  assert.match(res.headers["www-authenticate"], /error="insufficient_scope"/);
  res = await send(hs, { path: "/users/1", headers: bearer(await hsToken({ iss: "https://other.test" })) });
  assertChallenge(res, "invalid_token");
  res = await send(hs, { path: "/users/1", headers: bearer(await hsToken({ aud: "api://billing" }, { key: new TextEncoder().encode("another-secret-of-32-bytes-or-more!!") })) });
  assertChallenge(res, "invalid_token");
  assert.equal(res.json().error, "token signature is not valid", "a forged token is never told its audience is wrong");
});

test("exp and nbf are checked with the configured clock skew (60 s)", async () => {
  const cases = [
    [{ exp: now() - 120 }, 401, "token has expired"],
    [{ exp: now() - 30 }, 200],
    [{ nbf: now() + 120 }, 401, 'token claim "nbf" is not accepted'],
    [{ nbf: now() + 30 }, 200],
    [{ exp: undefined }, 401],
    [{ sub: undefined }, 401],
  ];
  for (const [claims, status, error] of cases) {
    const res = await send(hs, { path: "/users/1", headers: bearer(await hsToken(claims)) });
    assert.equal(res.status, status, JSON.stringify(claims));
    if (error) assert.equal(res.json().error, error);
  }
});

test("RS256 through the JWKS: valid passes; another key, an unknown kid, alg none and HS/RS confusion fail", async () => {
  let res = await send(rs, { path: "/users/1", headers: bearer(await rsToken({ sub: "svc-reporting" })) });
  assert.equal(res.status, 200);
  assert.equal(res.json().headers["x-gateway-identity"], "svc-reporting");
  const confused = await new SignJWT({ sub: "admin", iss: ISSUER, aud: "api://users", exp: now() + 300 })
    .setProtectedHeader({ alg: "HS256", kid: "test-key" })
    .sign(new TextEncoder().encode(JSON.stringify(k.jwk)));
  const bad = [
    ["another key, same kid", await rsToken({}, { key: k.otherPrivateKey }), "token signature is not valid"],
    ["unknown kid", await rsToken({}, { kid: "nobody" }), "token signature is not valid"],
    ["alg none", unsignedJwt({ alg: "none", typ: "JWT" }, { sub: "admin", iss: ISSUER, aud: "api://users", exp: now() + 300 }), "token algorithm is not accepted"],
    ["alg none, signature kept", unsignedJwt({ alg: "none", kid: "test-key" }, { sub: "admin", iss: ISSUER, aud: "api://users", exp: now() + 300 }, "c2ln"), "token algorithm is not accepted"],
    ["HS256 signed with the RSA public key", confused, "token algorithm is not accepted"],
    ["expired", await rsToken({ exp: now() - 600 }), "token has expired"],
  ];
  for (const [what, token, error] of bad) {
    res = await send(rs, { path: "/users/1", headers: bearer(token) });
    assertChallenge(res, "invalid_token");
    assert.equal(res.json().error, error, what);
  }
  res = await send(hs, { path: "/users/1", headers: bearer(await rsToken({ aud: "api://orders" })) });
  assertChallenge(res, "invalid_token");
  assert.equal(res.json().error, "token algorithm is not accepted", "an HS256 gateway refuses an RS256 token");
});

test("a gateway with both API keys and JWT tells them apart", async () => {
  let res = await send(rs, { path: "/users/1", headers: { "x-api-key": "rs-gateway-key-0123456789" } });
  assert.equal(res.status, 200);
  assert.equal(res.json().headers["x-gateway-auth"], "api_key");
  res = await send(rs, { path: "/users/1", headers: bearer("rs-gateway-key-0123456789") });
  assert.equal(res.json().headers["x-gateway-auth"], "api_key");
  res = await send(rs, { path: "/users/1", headers: { ...bearer(await rsToken()), "x-api-key": "rs-gateway-key-0123456789" } });
  assertChallenge(res, "invalid_request");
});

test("the JWKS cannot be fetched → 503, not a pass and not a 401", async () => {
  const res = await send(edge.url("idp-down"), { path: "/users/1", headers: bearer(await rsToken()) });
  assert.equal(res.status, 503);
  assert.equal(res.json().error, "the identity provider's keys could not be fetched");
});

test("mode optional: anonymous passes, a bad credential does not", async () => {
  const optional = edge.url("optional");
  let res = await send(optional, { path: "/users/1" });
  assert.equal(res.status, 200);
  assert.equal(res.json().headers["x-gateway-auth"], "none");
  res = await send(optional, { path: "/users/1", headers: { "x-api-key": "optional-key-0123456789" } });
  assert.equal(res.json().headers["x-gateway-identity"], "ci");
  res = await send(optional, { path: "/users/1", headers: { "x-api-key": "optional-key-012345678" } });
  assertChallenge(res, "invalid_token");
});

test("forward_credentials passes the verified credential on", async () => {
  const res = await send(edge.url("forward"), { path: "/users/1", headers: { "x-api-key": "forward-key-0123456789" } });
  assert.equal(res.json().headers["x-api-key"], "forward-key-0123456789");
});

test("a subject with characters a header cannot carry is percent-encoded", async () => {
  const res = await send(hs, { path: "/users/1", headers: bearer(await hsToken({ sub: "zoë 100%" })) });
  assert.equal(res.status, 200);
  assert.equal(res.json().headers["x-gateway-identity"], encodeURIComponent("zoë 100%"));
});

test("required API keys without the secret bound fail closed (500)", async () => {
  const res = await send(edge.url("no-secret"), { path: "/users/1", headers: { "x-api-key": "anything-0123456789" } });
  assert.equal(res.status, 500);
  assert.equal(res.json().error, "internal gateway error");
});

test("apiKeysSecret (node's HMAC) and the shared vectors agree", () => {
  for (const v of vectors) assert.equal(JSON.parse(apiKeysSecret({ [v.id]: v.key }, { [v.id]: v.salt })).keys[0].hash, v.hash);
});
