// Test harness: runs the BUNDLED gateway (dist/worker.js) in Miniflare beside upstream test
// Workers bound as services and an identity provider serving a JWKS, and sends real HTTP
// requests to it (node:http, so paths and headers go on the wire exactly as written).
//
// Each gateway gets a direct socket of its own: requests reach the gateway Worker as the client
// wrote them, without Miniflare's entry Worker resolving "%2e%2e" or "\" first. Requests carry
// CF-Connecting-IP as Cloudflare's edge would set it.
import { Miniflare } from "miniflare";
import http from "node:http";
import { createHmac, randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { dirname } from "node:path";
import { generateKeyPair, exportJWK, SignJWT } from "jose";

export const BUNDLE = fileURLToPath(new URL("../dist/worker.js", import.meta.url));
export const JWKS_URL = "https://idp.test/.well-known/jwks.json";
export const COMPATIBILITY_DATE = "2025-06-01";

// The upstream service: answers by path (after the gateway stripped its prefix), always with
// x-upstream: <service name> so a test can tell an upstream answer from a gateway answer.
const UPSTREAM = `
const failures = new Map();
const never = () => new Promise((resolve) => setTimeout(resolve, 60000));
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const tag = { "x-upstream": env.NAME };
    const [, first, second] = url.pathname.split("/");
    switch (first) {
      case "status":
        return new Response("upstream body " + second, { status: Number(second), headers: { ...tag, "content-type": "text/plain", "x-upstream-detail": "kept" } });
      case "throw":
        throw new Error("upstream exploded");
      case "hang":
        await never();
        return new Response("late", { headers: tag });
      case "flaky": {
        const id = request.headers.get("x-test-id");
        const seen = (failures.get(id) ?? 0) + 1;
        failures.set(id, seen);
        if (seen <= Number(request.headers.get("x-fail-times") ?? 0)) throw new Error("flaky attempt " + seen);
        return Response.json({ attempts: seen }, { headers: tag });
      }
      case "slow-once": {
        const id = request.headers.get("x-test-id");
        const seen = (failures.get(id) ?? 0) + 1;
        failures.set(id, seen);
        if (seen === 1) await never();
        return Response.json({ attempts: seen }, { headers: tag });
      }
      case "stream": {
        let timer;
        const body = new ReadableStream({
          start(controller) { controller.enqueue(new TextEncoder().encode("first chunk\\n")); },
          pull() { return new Promise((resolve) => { timer = setTimeout(resolve, 60000); }); },
          cancel() { clearTimeout(timer); },
        });
        return new Response(body, { headers: { ...tag, "content-type": "text/plain" } });
      }
      case "first-chunk": {
        const reader = request.body.getReader();
        const { value } = await reader.read();
        reader.releaseLock();
        return new Response("upstream read: " + new TextDecoder().decode(value), { headers: tag });
      }
      case "redirect":
        return new Response(null, { status: 302, headers: { ...tag, location: "https://evil.example/stolen" } });
      case "cors":
        return new Response("upstream with its own cors", { headers: { ...tag, "access-control-allow-origin": "*", "access-control-allow-credentials": "true" } });
    }
    const body = request.body ? await request.text() : null;
    return Response.json(
      { service: env.NAME, method: request.method, path: url.pathname, search: url.search, headers: Object.fromEntries(request.headers), body },
      { headers: tag },
    );
  },
};`;

// The identity provider, reached by the gateways' outbound fetches: serves the JWKS at
// JWKS_URL; any other URL answers 599 and says it was fetched (so a test can prove the
// gateway never fetched it).
const IDP = `
export default {
  fetch(request, env) {
    const url = new URL(request.url);
    if (url.href === "${JWKS_URL}") return new Response(env.JWKS, { headers: { "content-type": "application/json" } });
    if (url.pathname === "/down/jwks.json") return new Response("down", { status: 503 });
    return new Response("the gateway fetched " + url.href, { status: 599 });
  },
};`;

export const UPSTREAM_SERVICES = ["users", "orders", "admin", "public", "files"];
export const bindingOf = (service) => "SERVICE_" + service.toUpperCase().replace(/-/g, "_");

// route is a routes[] entry for one of the upstream services.
export const route = (path, service, extra = {}) => ({ path, service, binding: bindingOf(service), ...extra });

// apiKeysSecret builds the GATEWAY_API_KEYS secret for {id: key} with node's own HMAC (an
// implementation independent of the gateway's WebCrypto one).
export function apiKeysSecret(keys, salts = {}) {
  return JSON.stringify({
    version: 1,
    algorithm: "hmac-sha256",
    keys: Object.entries(keys).map(([id, key]) => {
      const salt = salts[id] ? Buffer.from(salts[id], "base64url") : randomBytes(16);
      return { id, salt: salt.toString("base64url"), hash: createHmac("sha256", salt).update(key, "utf8").digest("base64url") };
    }),
  });
}

// Signing keys for tests: an RSA key pair whose public half the identity provider serves.
export async function signingKeys() {
  const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: "test-key", alg: "RS256", use: "sig" };
  const other = await generateKeyPair("RS256", { extractable: true });
  return { publicKey, privateKey, jwk, otherPrivateKey: other.privateKey, jwks: JSON.stringify({ keys: [jwk] }) };
}

export const now = () => Math.floor(Date.now() / 1000);

// jwt signs claims (defaults: sub, exp in 5 minutes) with the given algorithm and key.
export async function jwt(claims, key, { alg = "RS256", kid = "test-key", header = {} } = {}) {
  const payload = { sub: "user-1", exp: now() + 300, ...claims };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  return new SignJWT(payload).setProtectedHeader({ alg, kid, ...header }).sign(key);
}

// rawJwt signs any header and payload with RS256 by hand (jose refuses some headers, such
// as unknown "crit" extensions, that an attacker can still send).
export async function rawJwt(header, payload, privateKey) {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const input = `${part(header)}.${part(payload)}`;
  const signature = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", privateKey, new TextEncoder().encode(input));
  return `${input}.${Buffer.from(signature).toString("base64url")}`;
}

// unsignedJwt builds a token by hand: any header, any payload, any signature.
export function unsignedJwt(header, payload, signature = "") {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part(header)}.${part(payload)}.${signature}`;
}

// startEdge starts one Miniflare instance with the given gateways:
//   { name, config, apiKeys?: {id: key} | secret string, jwtSecret?, rateLimit?: {limit, period} }
// extraWorkers are more Worker options (each gets a direct socket too).
// It resolves to { url(name) → direct URL of a gateway, "users" or an extra Worker, logs, dispose }.
export async function startEdge({ gateways, jwks = JSON.stringify({ keys: [] }), extraWorkers = [] }) {
  const logs = [];
  let pending = "";
  const collect = (chunk) => {
    pending += chunk;
    let nl;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      logs.push(line);
    }
  };
  const services = Object.fromEntries(UPSTREAM_SERVICES.map((s) => [bindingOf(s), s]));
  const workers = [
    ...gateways.map((g) => ({
      name: g.name,
      scriptPath: BUNDLE,
      modulesRoot: dirname(BUNDLE),
      modules: true,
      compatibilityDate: COMPATIBILITY_DATE,
      unsafeDirectSockets: [{ port: 0 }],
      bindings: {
        GATEWAY_CONFIG: g.config,
        ...(g.apiKeys ? { GATEWAY_API_KEYS: typeof g.apiKeys === "string" ? g.apiKeys : apiKeysSecret(g.apiKeys) } : {}),
        ...(g.jwtSecret ? { GATEWAY_JWT_SECRET: g.jwtSecret } : {}),
      },
      serviceBindings: { ...services, ...(g.extraServices ?? {}) },
      outboundService: "idp",
      durableObjects: { GATEWAY_RATE_COUNTER: { className: "GatewayRateCounter", useSQLite: true } },
      ...(g.rateLimit ? { ratelimits: { GATEWAY_RATE_LIMIT: { namespace_id: `rl-${g.name}`, simple: g.rateLimit } } } : {}),
    })),
    ...UPSTREAM_SERVICES.map((s) => ({
      name: s,
      modules: true,
      script: UPSTREAM,
      compatibilityDate: COMPATIBILITY_DATE,
      bindings: { NAME: s },
      ...(s === "users" ? { unsafeDirectSockets: [{ port: 0 }] } : {}),
    })),
    { name: "idp", modules: true, script: IDP, compatibilityDate: COMPATIBILITY_DATE, bindings: { JWKS: jwks } },
    ...extraWorkers.map((w) => ({ compatibilityDate: COMPATIBILITY_DATE, modules: true, unsafeDirectSockets: [{ port: 0 }], ...w })),
  ];
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    cf: false,
    handleRuntimeStdio(stdout, stderr) {
      stdout.on("data", collect);
      stderr.on("data", collect);
    },
    workers,
  });
  await mf.ready;
  const urls = {};
  for (const g of gateways) urls[g.name] = await mf.unsafeGetDirectURL(g.name);
  urls.users = await mf.unsafeGetDirectURL("users");
  for (const w of extraWorkers) urls[w.name] = await mf.unsafeGetDirectURL(w.name);
  return {
    mf,
    url: (name) => urls[name],
    logs,
    dispose: () => mf.dispose(),
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

// send makes one HTTP request. headers may hold arrays (sent as repeated header lines); body
// may be a string or an async iterable of chunks (sent chunked, as it comes).
export function send(base, { method = "GET", path = "/", headers = {}, body, ip = "203.0.113.7" } = {}) {
  const all = { "cf-connecting-ip": ip, ...headers };
  if ((typeof body === "string" || Buffer.isBuffer(body)) && !Object.keys(all).some((k) => /^(content-length|transfer-encoding)$/i.test(k))) {
    all["content-length"] = String(Buffer.byteLength(body));
  }
  for (const [k, v] of Object.entries(all)) if (v === undefined) delete all[k];
  // A request with a body gets a connection of its own: when an upstream answers without
  // reading the body, workerd closes the connection, which a pooled socket would race.
  const pool = body === undefined ? agent : false;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: base.hostname, port: base.port, method, path, headers: all, agent: pool }, (res) => {
      const chunks = [];
      res.on("data", (d) => chunks.push(d));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({
          status: res.statusCode,
          headers: res.headers,
          text,
          json() {
            return JSON.parse(text);
          },
        });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    if (body === undefined || typeof body === "string" || Buffer.isBuffer(body)) {
      req.end(body);
    } else {
      (async () => {
        for await (const chunk of body) req.write(chunk);
        req.end();
      })().catch(reject);
    }
  });
}

// open starts a request and resolves with the response as soon as its headers arrive, for
// tests that read a streamed body themselves.
export function open(base, { method = "GET", path = "/", headers = {}, ip = "203.0.113.7" } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: base.hostname, port: base.port, method, path, headers: { "cf-connecting-ip": ip, ...headers } }, resolve);
    req.on("error", reject);
    req.end();
  });
}

// until polls fn until it returns a truthy value or the deadline passes.
export async function until(fn, { timeoutMs = 5000, what = "condition" } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

// logLine waits for the gateway's log line of a request id.
export function logLine(edge, requestId) {
  return until(
    () => {
      for (const line of edge.logs) {
        if (!line.includes(requestId)) continue;
        try {
          const entry = JSON.parse(line);
          if (entry.type === "gateway.request" && entry.request_id === requestId) return entry;
        } catch {
          // not JSON: another Worker's output
        }
      }
      return null;
    },
    { what: `the log line of request ${requestId}` },
  );
}

export const baseConfig = (extra = {}) => ({
  version: 1,
  name: "test-gateway",
  routes: [route("/users/*", "users")],
  ...extra,
});
