// Access to the saga API. Two modes, chosen by the Worker's bindings:
//
//   API_KEY_HASH (secret) = "sha256:<salt hex>:<digest hex>", digest = SHA-256(salt ‖ key):
//     every request must carry the key as "Authorization: Bearer <key>" or "X-API-Key: <key>";
//     the digest of the presented key is compared in constant time.
//   API_ACCESS (variable) = "service_binding":
//     no key; the Worker must then have no route and no workers.dev address, so that only
//     Workers with a service binding to it can reach it (the provider deploys it that way).
//
// With neither, the API refuses every request: it never opens by omission.

const HEX = /^(?:[0-9a-f]{2})+$/;

function fromHex(hex) {
  return new Uint8Array(hex.match(/../g).map((b) => parseInt(b, 16)));
}

// parseKeyHash parses an API_KEY_HASH value, or returns null when it is malformed.
export function parseKeyHash(value) {
  const parts = String(value).trim().split(":");
  if (parts.length !== 3 || parts[0] !== "sha256" || !HEX.test(parts[1]) || parts[1].length < 32 || !HEX.test(parts[2]) || parts[2].length !== 64) return null;
  return { salt: fromHex(parts[1]), digest: fromHex(parts[2]) };
}

function presentedKey(request) {
  const auth = request.headers.get("authorization");
  if (auth) {
    const m = auth.match(/^Bearer\s+(\S+)\s*$/i);
    return m ? m[1] : null;
  }
  return request.headers.get("x-api-key");
}

// checkAccess returns null when the request may use the API, else {status, code, message}.
export async function checkAccess(request, env) {
  if (env.API_KEY_HASH) {
    const expected = parseKeyHash(env.API_KEY_HASH);
    if (!expected) return { status: 500, code: "api_key_hash_invalid", message: "the saga Worker's API_KEY_HASH is not of the form sha256:<salt hex, at least 16 bytes>:<SHA-256 hex>" };
    const key = presentedKey(request);
    if (!key) return { status: 401, code: "api_key_required", message: "this saga API needs an API key: send it as Authorization: Bearer <key> or X-API-Key: <key>" };
    const data = new Uint8Array(expected.salt.length + new TextEncoder().encode(key).length);
    data.set(expected.salt);
    data.set(new TextEncoder().encode(key), expected.salt.length);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    if (!crypto.subtle.timingSafeEqual(digest, expected.digest)) return { status: 401, code: "api_key_invalid", message: "the API key is not valid for this saga" };
    return null;
  }
  if (env.API_ACCESS === "service_binding") return null;
  return { status: 403, code: "api_access_not_configured", message: "the saga API is closed: give the Worker an API_KEY_HASH secret, or set API_ACCESS=service_binding and reach it only through service bindings" };
}
