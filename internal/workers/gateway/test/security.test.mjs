// Security suite: crafted requests that must all be denied (an error from the gateway, the
// upstream never called) or neutralised (the upstream called, but with the trick undone).
//
// The gateway under attack requires auth except on /public/* and /health, and /admin/* is a
// GET-only route; an attacker without credentials wants to reach /admin, and one with a key
// wants to act as someone else or to steer the upstream.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { startEdge, send, route, signingKeys, jwt, rawJwt, unsignedJwt, now, JWKS_URL } from "./harness.mjs";

const KEY = "security-suite-key-0123456789";
const SHOP = "https://shop.example.com";
const ISSUER = "https://issuer.test";
let edge, gw, k;

before(async () => {
  k = await signingKeys();
  edge = await startEdge({
    jwks: k.jwks,
    gateways: [
      {
        name: "secure",
        apiKeys: { ci: KEY },
        config: {
          version: 1,
          name: "secure",
          routes: [route("/public/*", "public"), route("/health", "public"), route("/users/*", "users"), route("/admin/*", "admin", { methods: ["GET"] })],
          cors: { allowed_origins: [SHOP], allow_credentials: true },
          auth: {
            mode: "required",
            api_keys: true,
            jwt: { jwks_url: JWKS_URL, issuer: ISSUER, audiences: ["api://shop"], clock_skew: 30 },
            public_paths: ["/public/*", "/health"],
          },
        },
      },
    ],
  });
  gw = edge.url("secure");
});
after(() => edge.dispose());

const key = { "x-api-key": KEY };
const bearer = (t) => ({ authorization: `Bearer ${t}` });
const claims = (extra = {}) => ({ iss: ISSUER, aud: "api://shop", sub: "mallory", ...extra });

// Outcomes.
const denied = (status) => (res) => {
  assert.equal(res.headers["x-upstream"], undefined, "the upstream must not be called");
  if (status) assert.equal(res.status, status);
  else assert.ok(res.status >= 400 && res.status < 500, `status ${res.status} is a refusal`);
};
const neutralised = (check) => (res) => {
  assert.equal(res.status, 200);
  assert.ok(res.headers["x-upstream"], "the upstream answered");
  check(res.json(), res);
};
const noCorsGrant = (res) => {
  assert.equal(res.headers["access-control-allow-origin"], undefined, "no Access-Control-Allow-Origin for a foreign origin");
};

async function cases() {
  const tokens = {
    none: unsignedJwt({ alg: "none", typ: "JWT" }, { ...claims(), exp: now() + 300 }),
    None: unsignedJwt({ alg: "None" }, { ...claims(), exp: now() + 300 }),
    NONE: unsignedJwt({ alg: "NONE", kid: "test-key" }, { ...claims(), exp: now() + 300 }, "AAAA"),
    hsWithPublicKey: await new SignJWT({ ...claims(), exp: now() + 300 }).setProtectedHeader({ alg: "HS256", kid: "test-key" }).sign(new TextEncoder().encode(JSON.stringify(k.jwk))),
    expired: await jwt(claims({ exp: now() - 3600 }), k.privateKey),
    expiredJustBeyondSkew: await jwt(claims({ exp: now() - 45 }), k.privateKey),
    notYetValid: await jwt(claims({ nbf: now() + 3600 }), k.privateKey),
    issuedByOther: await jwt(claims({ iss: "https://evil.test" }), k.privateKey),
    otherKey: await jwt(claims(), k.otherPrivateKey),
    kidTraversal: await jwt(claims(), k.otherPrivateKey, { kid: "../../../etc/passwd" }),
    jku: await jwt(claims(), k.otherPrivateKey, { header: { jku: "https://evil.example/jwks.json" } }),
    crit: await rawJwt({ alg: "RS256", kid: "test-key", crit: ["exp-ext"], "exp-ext": true }, { ...claims(), exp: now() + 300 }, k.privateKey),
    wrongAudience: await jwt(claims({ aud: ["api://billing", "api://other"] }), k.privateKey),
    valid: await jwt(claims(), k.privateKey),
  };
  const [h, p] = tokens.valid.split(".");
  tokens.stripped = `${h}.${p}.`;
  tokens.payloadSwapped = `${h}.${Buffer.from(JSON.stringify({ ...claims({ sub: "admin" }), exp: now() + 300 })).toString("base64url")}.${tokens.valid.split(".")[2]}`;

  return [
    // Path traversal towards /admin from the public area, without credentials.
    ["dot-dot from a public path", { path: "/public/../admin/secrets" }, denied(401)],
    ["%2e%2e from a public path", { path: "/public/%2e%2e/admin/secrets" }, denied(401)],
    ["%2E%2E (upper case)", { path: "/public/%2E%2E/admin/secrets" }, denied(401)],
    ["mixed .%2e", { path: "/public/.%2e/admin/secrets" }, denied(401)],
    ["backslashes", { path: "/public\\..\\admin\\secrets" }, denied(401)],
    ["encoded slash %2f", { path: "/public/..%2fadmin/secrets" }, denied(400)],
    ["encoded slash %2F in one segment", { path: "/public/%2e%2e%2Fadmin" }, denied(400)],
    ["encoded backslash %5c", { path: "/public/..%5cadmin" }, denied(400)],
    ["double encoding %252e", { path: "/public/%252e%252e/admin" }, denied(400)],
    ["double-encoded slash %252f", { path: "/public/..%252fadmin" }, denied(400)],
    ["Tomcat ..;", { path: "/public/..;/admin/secrets" }, denied(400)],
    ["Tomcat .;", { path: "/public/.;/admin" }, denied(400)],
    ["encoded ..;", { path: "/public/%2e%2e;x/admin" }, denied(400)],
    ["above the root (resolved by the runtime)", { path: "/../admin/secrets" }, denied(401)],
    ["above the root, encoded", { path: "/%2e%2e/admin/secrets" }, denied(400)],
    ["above the root through a public path", { path: "/public/%2e%2e/%2e%2e/admin" }, denied(400)],
    ["double slashes", { path: "//admin//secrets" }, denied(401)],
    ["slashes around dot-dot (the runtime keeps /public)", { path: "/public//..//admin" }, neutralised((seen) => {
      assert.equal(seen.service, "public");
      assert.equal(seen.path, "/public/admin");
    })],
    ["slashes around encoded dot-dot", { path: "/public//%2e%2e//admin" }, denied(401)],
    ["trailing dot", { path: "/admin./secrets" }, denied(400)],
    ["encoded trailing dot", { path: "/admin%2e/secrets" }, denied(400)],
    ["trailing dots on a public-looking segment", { path: "/public../x" }, denied(400)],
    ["trailing whitespace", { path: "/admin%20/secrets" }, denied(400)],
    ["mixed case does not skip auth", { path: "/ADMIN/secrets" }, denied(401)],
    ["mixed case does not reach a route", { path: "/ADMIN/secrets", headers: key }, denied(404)],
    ["mixed case does not make a path public", { path: "/Public/x" }, denied(401)],
    ["mixed case public prefix with dot-dot", { path: "/PUBLIC/../admin" }, denied(401)],
    ["NUL byte", { path: "/public/%00/x" }, denied(400)],
    ["CRLF injection", { path: "/public/%0d%0aSet-Cookie:%20x=1" }, denied(400)],
    ["fullwidth dots", { path: "/public/%EF%BC%8E%EF%BC%8E/admin" }, denied(400)],
    ["overlong UTF-8 dots", { path: "/public/%c0%ae%c0%ae/admin" }, denied(400)],
    ["broken percent-encoding", { path: "/public/%zz/admin" }, denied(400)],
    ["oversized path", { path: "/public/" + "a/".repeat(2100) }, denied(414)],
    ["dot-dot from the health check", { path: "/health/../admin/secrets" }, denied(401)],
    ["traversal in the query string", { path: "/public/x?/../../admin/secrets" }, neutralised((seen) => assert.equal(seen.path, "/public/x"))],
    ["semicolon parameters stay part of the segment", { path: "/public;x/../admin" }, denied(401)],

    // Credentials and headers.
    ["duplicate Authorization headers", { path: "/users/1", headers: { authorization: [`Bearer ${KEY}`, `Bearer ${KEY}`] } }, denied(401)],
    ["conflicting Authorization headers", { path: "/users/1", headers: { authorization: [`Bearer ${tokens.valid}`, "Bearer forged"] } }, denied(401)],
    ["duplicate X-API-Key headers", { path: "/users/1", headers: { "x-api-key": [KEY, KEY] } }, denied(401)],
    ["Authorization and X-API-Key together", { path: "/users/1", headers: { ...key, ...bearer(tokens.valid) } }, denied(401)],
    ["oversized Authorization", { path: "/users/1", headers: { authorization: "Bearer " + "A".repeat(9000) } }, denied(401)],
    ["oversized X-API-Key", { path: "/users/1", headers: { "x-api-key": KEY + "x".repeat(600) } }, denied(401)],
    ["Basic credentials", { path: "/users/1", headers: { authorization: "Basic " + Buffer.from("admin:admin").toString("base64") } }, denied(401)],
    ["empty Bearer", { path: "/users/1", headers: { authorization: "Bearer " } }, denied(401)],
    ["Bearer with two tokens", { path: "/users/1", headers: { authorization: `Bearer ${KEY} ${KEY}` } }, denied(401)],
    ["a JWT sent as an API key", { path: "/users/1", headers: { "x-api-key": tokens.valid } }, denied(401)],
    ["forged identity header", { path: "/users/1", headers: { ...key, "x-gateway-identity": "admin", "X-Gateway-Auth": "jwt" } }, neutralised((seen) => {
      assert.equal(seen.headers["x-gateway-identity"], "ci");
      assert.equal(seen.headers["x-gateway-auth"], "api_key");
    })],
    ["forged identity on a public path", { path: "/public/x", headers: { "x-gateway-identity": "admin", "x-gateway-auth": "api_key", "x-gateway-anything": "1" } }, neutralised((seen) => {
      assert.equal(seen.headers["x-gateway-identity"], undefined);
      assert.equal(seen.headers["x-gateway-auth"], "none");
      assert.equal(seen.headers["x-gateway-anything"], undefined);
    })],
    ["X-Forwarded-For spoofing", { path: "/public/x", ip: "203.0.113.50", headers: { "x-forwarded-for": "127.0.0.1, 10.0.0.1" } }, neutralised((seen) => assert.equal(seen.headers["x-forwarded-for"], "203.0.113.50"))],
    ["X-Forwarded-Host spoofing", { path: "/public/x", headers: { "x-forwarded-host": "admin.internal" } }, neutralised((seen) => assert.equal(seen.headers["x-forwarded-host"], gw.host))],
    ["X-Forwarded-Proto spoofing", { path: "/public/x", headers: { "x-forwarded-proto": "https" } }, neutralised((seen) => assert.equal(seen.headers["x-forwarded-proto"], "http"))],
    ["Forwarded and X-Real-IP spoofing", { path: "/public/x", headers: { forwarded: "for=127.0.0.1;host=admin.internal", "x-real-ip": "127.0.0.1", "x-forwarded-port": "8443", "x-forwarded-prefix": "/admin" } }, neutralised((seen) => {
      for (const h of ["forwarded", "x-real-ip", "x-forwarded-port", "x-forwarded-prefix"]) assert.equal(seen.headers[h], undefined, h);
    })],
    ["X-Original-URL / X-Rewrite-URL", { path: "/public/x", headers: { "x-original-url": "/admin/secrets", "x-rewrite-url": "/admin/secrets" } }, neutralised((seen) => {
      assert.equal(seen.headers["x-original-url"], undefined);
      assert.equal(seen.headers["x-rewrite-url"], undefined);
    })],
    ["method override on an allowed method", { path: "/admin/x", headers: { ...key, "x-http-method-override": "DELETE", "x-http-method": "DELETE", "x-method-override": "DELETE" } }, neutralised((seen) => {
      assert.equal(seen.method, "GET");
      for (const h of ["x-http-method-override", "x-http-method", "x-method-override"]) assert.equal(seen.headers[h], undefined, h);
    })],
    ["method override does not bypass 405", { method: "POST", path: "/admin/x", headers: { ...key, "x-http-method-override": "GET" }, body: "{}" }, denied(405)],
    ["client-chosen version override", { path: "/users/1", headers: { ...key, "cloudflare-workers-version-overrides": 'users="00000000-0000-0000-0000-000000000000"' } }, neutralised((seen) => assert.equal(seen.headers["cloudflare-workers-version-overrides"], undefined))],
    ["request id injection", { path: "/public/x", headers: { "x-request-id": "<script>alert(1)</script>" } }, neutralised((seen, res) => {
      assert.match(res.headers["x-request-id"], /^[0-9a-f-]{36}$/);
      assert.equal(seen.headers["x-request-id"], res.headers["x-request-id"]);
    })],
    ["absolute-form request target (no open proxy)", { path: "http://evil.example/admin/secrets" }, (res) => {
      assert.notEqual(res.status, 200);
      assert.equal(res.headers["x-upstream"], undefined);
      assert.ok(!res.text.includes("the gateway fetched"), "the gateway did not fetch the foreign URL");
    }],

    // CORS origin tricks.
    ["origin with the allowed origin as a prefix label", { path: "/public/x", headers: { origin: "https://evil.example.com.shop.example.com" } }, noCorsGrant],
    ["origin with the allowed origin as a prefix", { path: "/public/x", headers: { origin: "https://shop.example.com.evil.com" } }, noCorsGrant],
    ["null origin", { path: "/public/x", headers: { origin: "null" } }, noCorsGrant],
    ["scheme downgrade", { path: "/public/x", headers: { origin: "http://shop.example.com" } }, noCorsGrant],
    ["trailing slash origin", { path: "/public/x", headers: { origin: "https://shop.example.com/" } }, noCorsGrant],
    ["preflight from a foreign origin", { method: "OPTIONS", path: "/admin/x", headers: { origin: "https://evil.example", "access-control-request-method": "DELETE" } }, (res) => {
      assert.equal(res.headers["x-upstream"], undefined, "answered by the gateway");
      noCorsGrant(res);
    }],

    // JWT tricks.
    ['alg "none"', { path: "/users/1", headers: bearer(tokens.none) }, denied(401)],
    ['alg "None"', { path: "/users/1", headers: bearer(tokens.None) }, denied(401)],
    ['alg "NONE" with a signature', { path: "/users/1", headers: bearer(tokens.NONE) }, denied(401)],
    ["HS256 signed with the RSA public key", { path: "/users/1", headers: bearer(tokens.hsWithPublicKey) }, denied(401)],
    ["expired token", { path: "/users/1", headers: bearer(tokens.expired) }, denied(401)],
    ["expired just beyond the clock skew", { path: "/users/1", headers: bearer(tokens.expiredJustBeyondSkew) }, denied(401)],
    ["not yet valid token", { path: "/users/1", headers: bearer(tokens.notYetValid) }, denied(401)],
    ["another issuer", { path: "/users/1", headers: bearer(tokens.issuedByOther) }, denied(401)],
    ["signed by another key", { path: "/users/1", headers: bearer(tokens.otherKey) }, denied(401)],
    ["kid path traversal", { path: "/users/1", headers: bearer(tokens.kidTraversal) }, denied(401)],
    ["jku pointing at the attacker's keys", { path: "/users/1", headers: bearer(tokens.jku) }, denied(401)],
    ["unknown critical header", { path: "/users/1", headers: bearer(tokens.crit) }, denied(401)],
    ["signature stripped", { path: "/users/1", headers: bearer(tokens.stripped) }, denied(401)],
    ["payload swapped under a valid signature", { path: "/users/1", headers: bearer(tokens.payloadSwapped) }, denied(401)],
    ["valid token, wrong audience", { path: "/users/1", headers: bearer(tokens.wrongAudience) }, denied(403)],
    ["the valid token works (control)", { path: "/users/1", headers: bearer(tokens.valid) }, neutralised((seen) => assert.equal(seen.headers["x-gateway-identity"], "mallory"))],
  ];
}

test("security suite: every crafted request is denied or neutralised", async (t) => {
  const all = await cases();
  assert.ok(all.length >= 40, `the suite has ${all.length} requests`);
  for (const [name, request, check] of all) {
    await t.test(name, async () => {
      const res = await send(gw, request);
      check(res);
    });
  }
});
