// Forwarding a routed request to its service binding.
//
// - Only service bindings named by the configuration are ever fetched (no open proxy), with
//   redirect "manual" so an upstream's redirect goes back to the client instead of being
//   followed by the gateway.
// - Bodies stream both ways: the request body is handed over as a stream and the upstream's
//   body is returned as one; neither is read by the gateway. Status, headers and body of
//   upstream 4xx/5xx pass through untouched.
// - timeout_ms bounds each attempt until the upstream's response headers; a timeout is 504,
//   a failed fetch (the upstream threw or is unreachable) 502.
// - retries repeat a failed or timed-out attempt for idempotent methods without a body (a
//   streamed body cannot be sent twice without buffering it).
import { IDEMPOTENT_METHODS } from "./config.js";
import { rawSearch } from "./path.js";
import { errorResponse } from "./respond.js";
import { identityHeaderValue } from "./credentials.js";
import { API_KEY_HEADER } from "./auth.js";

// Inbound headers that would let a client speak for the gateway or steer an upstream: the
// gateway's own headers, version pinning, method overrides, and forwarding information
// (rewritten from what Cloudflare's edge established).
const STRIPPED = [
  "cloudflare-workers-version-overrides",
  "x-http-method-override",
  "x-http-method",
  "x-method-override",
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-forwarded-port",
  "x-forwarded-prefix",
  "x-real-ip",
  "x-original-url",
  "x-rewrite-url",
];
export const GATEWAY_HEADER_PREFIX = "x-gateway-";
export const IDENTITY_HEADER = "X-Gateway-Identity";
export const AUTH_METHOD_HEADER = "X-Gateway-Auth";
export const ROUTE_HEADER = "X-Gateway-Route";
export const VERSION_OVERRIDES_HEADER = "Cloudflare-Workers-Version-Overrides";

function upstreamHeaders(c, cfg, route) {
  const inbound = c.req.raw.headers;
  const headers = new Headers(inbound);
  for (const name of inbound.keys()) if (name.startsWith(GATEWAY_HEADER_PREFIX)) headers.delete(name);
  for (const name of STRIPPED) headers.delete(name);
  if (cfg.auth.mode !== "none" && !cfg.auth.forwardCredentials) {
    headers.delete("authorization");
    headers.delete(API_KEY_HEADER);
  }
  const ip = inbound.get("cf-connecting-ip");
  if (ip) headers.set("X-Forwarded-For", ip);
  const url = new URL(c.req.raw.url);
  headers.set("X-Forwarded-Proto", url.protocol.slice(0, -1));
  headers.set("X-Forwarded-Host", url.host);
  headers.set(cfg.requestIdHeader, c.get("requestId"));
  headers.set(ROUTE_HEADER, route.pattern);
  const identity = c.get("identity");
  headers.set(AUTH_METHOD_HEADER, identity ? identity.method : "none");
  if (identity) headers.set(IDENTITY_HEADER, identityHeaderValue(identity.id));
  if (route.versionId) headers.set(VERSION_OVERRIDES_HEADER, `${route.service}="${route.versionId}"`);
  return headers;
}

export function proxyHandler(cfg, route) {
  return async function proxy(c) {
    const req = c.req.raw;
    c.set("route", route);
    if (route.allowed && !route.allowed.has(req.method)) {
      return errorResponse(c, 405, `method ${req.method} is not allowed on ${route.pattern}`, { Allow: route.allow });
    }
    const target = c.env[route.binding];
    if (!target || typeof target.fetch !== "function") {
      c.set("error", `service binding ${route.binding} (service ${route.service}) is not bound`);
      return errorResponse(c, 502, `service ${route.service} is unavailable`);
    }
    const normalised = c.get("path");
    const kept = normalised.path.split("/").slice(1 + route.strip).filter(Boolean);
    const path = "/" + kept.join("/") + (normalised.trailingSlash && kept.length ? "/" : "");
    const url = new URL(req.url).origin + path + rawSearch(req.url);
    const headers = upstreamHeaders(c, cfg, route);
    const attempts = IDEMPOTENT_METHODS.has(req.method) && req.body === null ? 1 + route.retries : 1;
    let timedOut = false;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      c.set("attempts", attempt);
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), route.timeoutMs);
      try {
        const res = await target.fetch(url, { method: req.method, headers, body: req.body, redirect: "manual", signal: abort.signal });
        clearTimeout(timer);
        return passThrough(res, cfg, c.get("requestId"));
      } catch (err) {
        clearTimeout(timer);
        timedOut = abort.signal.aborted;
        c.set("error", timedOut ? `upstream timed out after ${route.timeoutMs} ms` : `upstream failed: ${err && err.message}`);
      }
    }
    return timedOut ? errorResponse(c, 504, `service ${route.service} did not answer in time`) : errorResponse(c, 502, `service ${route.service} failed`);
  };
}

// passThrough returns the upstream's response as it is: the same status, headers and body
// stream, in a Response whose headers the gateway may add to (the request id). With CORS configured the
// gateway's policy is the only one: an upstream's own Access-Control-* headers are dropped.
function passThrough(res, cfg, id) {
  const out = new Response(res.body, res);
  out.headers.set(cfg.requestIdHeader, id);
  if (cfg.cors) for (const name of [...out.headers.keys()]) if (name.startsWith("access-control-")) out.headers.delete(name);
  return out;
}
