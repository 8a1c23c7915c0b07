// The servicesdo API gateway: one fixed program, configured by the JSON binding GATEWAY_CONFIG
// (see README.md), in front of the services it reaches through service bindings.
//
// Middleware runs in a fixed order:
//   request id → logging → path normalisation → CORS → auth → rate limit → route → upstream
// so every response (errors included) carries the request id and is logged, a malformed path
// is refused before anything judges it, preflights are answered before auth, and unauthenticated
// requests never spend a client's rate limit.
import { Hono } from "hono";
import { cors } from "hono/cors";
import { requestId } from "hono/request-id";
import { HTTPException } from "hono/http-exception";
import { compileConfig } from "./config.js";
import { normalisePath, rawPath, PathError } from "./path.js";
import { authMiddleware } from "./auth.js";
import { rateLimitMiddleware } from "./ratelimit.js";
import { proxyHandler } from "./proxy.js";
import { errorResponse } from "./respond.js";

export { GatewayRateCounter } from "./ratelimit.js";

// Request ids longer than this, or with characters other than letters, digits, "_", "-" and
// "=", are replaced by a generated one.
const MAX_REQUEST_ID_LENGTH = 128;

// The normalised path of each request, computed once (Hono asks for it to route; the
// middleware reads it back).
const paths = new WeakMap();
function pathOf(request) {
  let p = paths.get(request);
  if (!p) {
    try {
      p = normalisePath(rawPath(request.url));
    } catch (err) {
      if (!(err instanceof PathError)) throw err;
      p = { error: err };
    }
    paths.set(request, p);
  }
  return p;
}

function logging(cfg) {
  const { enabled, sampleRate, redact } = cfg.logging;
  return async function logging_(c, next) {
    const started = Date.now();
    const sampled = enabled && sampleRate > 0 && (sampleRate >= 1 || Math.random() < sampleRate);
    await next();
    if (!sampled) return;
    const route = c.get("route");
    const identity = c.get("identity");
    const headers = {};
    for (const [name, value] of c.req.raw.headers) headers[name] = redact.has(name) ? "[redacted]" : value;
    console.log(
      JSON.stringify({
        type: "gateway.request",
        gateway: cfg.name,
        request_id: c.get("requestId"),
        method: c.req.method,
        path: c.get("path")?.path ?? null,
        route: route ? route.pattern : null,
        service: route ? route.service : null,
        status: c.res.status,
        duration_ms: Date.now() - started,
        auth: identity ? identity.method : "none",
        client: identity ? identity.id : null,
        attempts: c.get("attempts") ?? 0,
        rate_limited: c.get("rateLimited") ?? false,
        error: c.get("error") ?? null,
        headers,
      }),
    );
  };
}

async function normalised(c, next) {
  const p = pathOf(c.req.raw);
  if (p.error) {
    c.set("error", p.error.message);
    return errorResponse(c, p.error.status, p.error.message);
  }
  c.set("path", p);
  return next();
}

// A preflight is an OPTIONS request with Origin and Access-Control-Request-Method (Fetch
// standard); Hono's cors answers every OPTIONS, so other OPTIONS requests skip it and are
// routed like any method.
function corsPolicy(policy) {
  const handle = cors({
    origin: policy.any ? "*" : (origin) => (policy.origins.has(origin) ? origin : null),
    allowMethods: policy.methods,
    allowHeaders: policy.headers,
    exposeHeaders: policy.expose,
    credentials: policy.credentials,
    maxAge: policy.maxAge,
  });
  return function cors_(c, next) {
    const h = c.req.raw.headers;
    if (c.req.method === "OPTIONS" && !(h.has("origin") && h.has("access-control-request-method"))) return next();
    return handle(c, next);
  };
}

function buildApp(cfg) {
  const app = new Hono({
    getPath: (request) => {
      const p = pathOf(request);
      return p.error ? "/" : p.path;
    },
  });
  app.use(requestId({ headerName: cfg.requestIdHeader, limitLength: MAX_REQUEST_ID_LENGTH }));
  app.use(logging(cfg));
  app.use(normalised);
  if (cfg.cors) app.use(corsPolicy(cfg.cors));
  if (cfg.auth.mode !== "none") app.use(authMiddleware(cfg));
  if (cfg.rateLimit) app.use(rateLimitMiddleware(cfg));
  for (const route of cfg.routes) app.all(route.pattern, proxyHandler(cfg, route));
  app.notFound((c) => errorResponse(c, 404, "no route matches this path"));
  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse();
    c.set("error", err && err.message);
    return errorResponse(c, 500, "internal gateway error");
  });
  return app;
}

// One compiled gateway per configuration value, for the isolate's life.
let compiled = { raw: undefined, app: null, error: null };
function gatewayFor(env) {
  const raw = env.GATEWAY_CONFIG;
  if (compiled.raw !== raw || (!compiled.app && !compiled.error)) {
    try {
      compiled = { raw, app: buildApp(compileConfig(raw)), error: null };
    } catch (err) {
      compiled = { raw, app: null, error: err.message };
    }
  }
  return compiled;
}

export default {
  fetch(request, env, ctx) {
    const gateway = gatewayFor(env);
    if (gateway.error) {
      console.error(JSON.stringify({ type: "gateway.config_error", error: gateway.error }));
      return Response.json({ error: "the gateway is misconfigured", request_id: null }, { status: 500 });
    }
    return gateway.app.fetch(request, env, ctx);
  },
};
