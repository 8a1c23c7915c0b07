// Checking a presented credential: an API key against the salted hashes in the
// GATEWAY_API_KEYS secret, or a JWT (HS256 with the GATEWAY_JWT_SECRET secret, or RS256 with
// the keys of a JWKS URL).
//
// JWTs are verified with jose rather than Hono's JWT helper: Hono's verify checks claims before
// the signature (a forged token would be told "wrong audience"), has no clock tolerance and
// fetches the JWKS on every request; jose verifies the signature first, supports clock skew and
// caches the key set.
import { jwtVerify, createRemoteJWKSet } from "jose";

export const API_KEY_ALGORITHM = "hmac-sha256";
export const API_KEYS_VERSION = 1;

const encoder = new TextEncoder();

function base64url(s) {
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

// The parsed key records of one secret value, kept for the isolate's life.
let keysCache = { text: null, records: null };

// apiKeyRecords parses the GATEWAY_API_KEYS secret:
//   {"version":1,"algorithm":"hmac-sha256","keys":[{"id":"ci","salt":"<b64url>","hash":"<b64url>"}]}
// hash = HMAC-SHA256(key = salt bytes, message = UTF-8 of the API key). It throws on a malformed
// secret (the gateway then fails closed with 500).
export async function apiKeyRecords(text) {
  if (keysCache.text === text) return keysCache.records;
  if (typeof text !== "string") throw new Error("the GATEWAY_API_KEYS secret is not bound");
  const doc = JSON.parse(text);
  if (doc.version !== API_KEYS_VERSION || doc.algorithm !== API_KEY_ALGORITHM || !Array.isArray(doc.keys)) {
    throw new Error(`the GATEWAY_API_KEYS secret is not version ${API_KEYS_VERSION} ${API_KEY_ALGORITHM} key records`);
  }
  const records = await Promise.all(
    doc.keys.map(async (k) => {
      const hash = base64url(k.hash);
      if (typeof k.id !== "string" || !k.id || hash.length !== 32) throw new Error("the GATEWAY_API_KEYS secret has a malformed key record");
      const key = await crypto.subtle.importKey("raw", base64url(k.salt), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      return { id: k.id, key, hash };
    }),
  );
  keysCache = { text, records };
  return records;
}

// matchApiKey returns the id of the record the presented key hashes to, or null. Every record
// is hashed and compared in constant time, so the time taken says nothing about which record
// or how much of a digest matched.
export async function matchApiKey(records, presented) {
  const message = encoder.encode(presented);
  const digests = await Promise.all(records.map((r) => crypto.subtle.sign("HMAC", r.key, message)));
  let found = null;
  for (let i = 0; i < records.length; i++) {
    const equal = crypto.subtle.timingSafeEqual(new Uint8Array(digests[i]), records[i].hash);
    if (equal && found === null) found = records[i].id;
  }
  return found;
}

// A JWT in compact form: three base64url parts.
export const looksLikeJwt = (token) => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);

const remoteSets = new Map(); // JWKS URL → jose key set (caches keys, refetches on an unknown kid)
let hsCache = { secret: null, key: null };

async function verificationKey(jwt, env) {
  if (jwt.algorithm === "RS256") {
    let set = remoteSets.get(jwt.jwksUrl);
    if (!set) {
      set = createRemoteJWKSet(new URL(jwt.jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30000, cacheMaxAge: 600000 });
      remoteSets.set(jwt.jwksUrl, set);
    }
    return set;
  }
  const secret = env.GATEWAY_JWT_SECRET;
  if (typeof secret !== "string" || secret === "") throw new Error("the GATEWAY_JWT_SECRET secret is not bound");
  if (hsCache.secret !== secret) {
    hsCache = { secret, key: await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]) };
  }
  return hsCache.key;
}

// Errors of the identity provider (JWKS unreachable or unusable): the token could not be
// judged, which is not the client's fault.
const PROVIDER_ERRORS = new Set(["ERR_JWKS_TIMEOUT", "ERR_JWKS_INVALID", "ERR_JOSE_GENERIC"]);

// verifyJwt returns {ok: true, subject} or {ok: false, status, reason}: 401 for a token that is
// malformed, unsigned, signed with another algorithm or key, expired, not yet valid, from
// another issuer or without exp/sub; 403 for a valid token for another audience; 503 when the
// JWKS cannot be fetched.
export async function verifyJwt(token, jwt, env) {
  const key = await verificationKey(jwt, env);
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: [jwt.algorithm],
      issuer: jwt.issuer,
      audience: jwt.audiences,
      clockTolerance: jwt.clockSkew,
      requiredClaims: ["exp", "sub"],
    });
    if (typeof payload.sub !== "string" || payload.sub === "") return { ok: false, status: 401, reason: 'token has no "sub" claim' };
    return { ok: true, subject: payload.sub };
  } catch (err) {
    const code = err && err.code;
    if (code === "ERR_JWT_CLAIM_VALIDATION_FAILED" && err.claim === "aud") return { ok: false, status: 403, reason: "token is not for this audience" };
    if (code === "ERR_JWT_EXPIRED") return { ok: false, status: 401, reason: "token has expired" };
    if (code === "ERR_JWT_CLAIM_VALIDATION_FAILED") return { ok: false, status: 401, reason: `token claim "${err.claim}" is not accepted` };
    if (code === "ERR_JOSE_ALG_NOT_ALLOWED") return { ok: false, status: 401, reason: "token algorithm is not accepted" };
    if (code === "ERR_JWKS_NO_MATCHING_KEY" || code === "ERR_JWS_SIGNATURE_VERIFICATION_FAILED") return { ok: false, status: 401, reason: "token signature is not valid" };
    if (!code || PROVIDER_ERRORS.has(code)) return { ok: false, status: 503, reason: "the identity provider's keys could not be fetched" };
    return { ok: false, status: 401, reason: "token is malformed" };
  }
}

// identityHeaderValue makes an identity safe for a header: visible ASCII without "%" as it is,
// anything else percent-encoded (so a "%" in the value always means an encoding).
export const identityHeaderValue = (id) => (/^[\x21-\x24\x26-\x7e]+$/.test(id) ? id : encodeURIComponent(id));
