// The gateway's configuration: the JSON binding GATEWAY_CONFIG, written by the provider
// (internal/workers/gateway.go has the same shape as Go types and validates it at plan time).
// compileConfig checks what the program relies on and fills defaults, so a hand-made or stale
// configuration fails closed with a clear message instead of half-working. README.md documents
// every field.
import { parsePattern, compareRank, PatternError } from "./path.js";

export const CONFIG_VERSION = 1;

// Binding names the program reads besides the route targets.
export const BINDINGS = {
  config: "GATEWAY_CONFIG",
  apiKeys: "GATEWAY_API_KEYS",
  jwtSecret: "GATEWAY_JWT_SECRET",
  rateLimit: "GATEWAY_RATE_LIMIT",
  rateCounter: "GATEWAY_RATE_COUNTER",
};

export const IDEMPOTENT_METHODS = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);
// Periods the Workers rate-limit binding supports; any other uses the Durable Object counter.
export const BINDING_PERIODS = new Set([10, 60]);
export const MAX_PERIOD = 86400;

const DEFAULT_TIMEOUT_MS = 30000;
const DEFAULT_REQUEST_ID_HEADER = "X-Request-Id";
const DEFAULT_CORS_METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH"];
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/; // an HTTP token (RFC 9110): header and method names
const BINDING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class ConfigError extends Error {}

const fail = (field, message) => {
  throw new ConfigError(`${field}: ${message}`);
};
const list = (v, field) => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(field, "must be a list");
  return v;
};
const int = (v, field, min, max, dflt) => {
  if (v === undefined || v === null) return dflt;
  if (!Number.isInteger(v) || v < min || v > max) fail(field, `must be an integer from ${min} to ${max}`);
  return v;
};
const tokens = (v, field) =>
  list(v, field).map((t, i) => {
    if (typeof t !== "string" || !TOKEN.test(t)) fail(`${field}[${i}]`, `${JSON.stringify(t)} is not a valid HTTP token`);
    return t;
  });

export function compileConfig(raw) {
  if (typeof raw !== "object" || raw === null) fail(BINDINGS.config, "is not a JSON object (bind the gateway configuration as a JSON binding)");
  if (raw.version !== CONFIG_VERSION) fail("version", `is ${JSON.stringify(raw.version)}; this program reads version ${CONFIG_VERSION}`);
  const name = typeof raw.name === "string" && raw.name ? raw.name : "gateway";
  const requestIdHeader = raw.request_id_header ?? DEFAULT_REQUEST_ID_HEADER;
  if (typeof requestIdHeader !== "string" || !TOKEN.test(requestIdHeader)) fail("request_id_header", "must be a header name");

  const routes = list(raw.routes, "routes").map((r, i) => compileRoute(r, `routes[${i}]`));
  const shapes = new Map();
  routes.forEach((r, i) => {
    if (shapes.has(r.shape)) fail(`routes[${i}].path`, `${r.pattern} matches the same requests as routes[${shapes.get(r.shape)}].path`);
    shapes.set(r.shape, i);
  });
  // Registration order is precedence order (Hono tries handlers in the order they were added);
  // sort is stable, so equal ranks keep configuration order.
  const ordered = routes.slice().sort(compareRank);

  return {
    name,
    requestIdHeader,
    routes: ordered,
    cors: compileCors(raw.cors, requestIdHeader),
    auth: compileAuth(raw.auth),
    rateLimit: compileRateLimit(raw.rate_limit),
    logging: compileLogging(raw.logging),
  };
}

function pattern(p, field) {
  try {
    return parsePattern(p);
  } catch (err) {
    if (err instanceof PatternError) fail(field, err.message);
    throw err;
  }
}

function compileRoute(r, field) {
  if (typeof r !== "object" || r === null) fail(field, "must be an object");
  const parsed = pattern(r.path, `${field}.path`);
  if (typeof r.service !== "string" || !r.service) fail(`${field}.service`, "must name the target service");
  if (typeof r.binding !== "string" || !BINDING_NAME.test(r.binding) || Object.values(BINDINGS).includes(r.binding)) {
    fail(`${field}.binding`, `${JSON.stringify(r.binding)} must be the name of the service binding to ${r.service}`);
  }
  const methods = tokens(r.methods, `${field}.methods`).map((m) => m.toUpperCase());
  const allowed = methods.length ? new Set(methods) : null;
  if (allowed && allowed.has("GET")) allowed.add("HEAD");
  let strip = 0;
  if (r.strip_prefix !== undefined && r.strip_prefix !== null && r.strip_prefix !== "") {
    const prefix = typeof r.strip_prefix === "string" && r.strip_prefix !== "/" ? r.strip_prefix.slice(1).split("/") : null;
    if (!prefix || prefix.some((s, i) => parsed.literalPrefix[i] !== s)) {
      fail(`${field}.strip_prefix`, `${JSON.stringify(r.strip_prefix)} must be leading literal segments of ${r.path}`);
    }
    strip = prefix.length;
  }
  const retries = int(r.retries, `${field}.retries`, 0, 5, 0);
  if (retries > 0 && methods.some((m) => !IDEMPOTENT_METHODS.has(m))) fail(`${field}.retries`, "applies to idempotent methods only");
  if (r.version_id !== undefined && r.version_id !== null && (typeof r.version_id !== "string" || !/^[A-Za-z0-9-]{1,64}$/.test(r.version_id))) {
    fail(`${field}.version_id`, "must be a Workers version id");
  }
  return {
    ...parsed,
    service: r.service,
    binding: r.binding,
    allowed,
    allow: allowed ? [...allowed].join(", ") : "",
    strip,
    timeoutMs: int(r.timeout_ms, `${field}.timeout_ms`, 1, 600000, DEFAULT_TIMEOUT_MS),
    retries,
    versionId: r.version_id || null,
  };
}

function compileCors(c, requestIdHeader) {
  if (c === undefined || c === null) return null;
  const origins = list(c.allowed_origins, "cors.allowed_origins");
  const any = origins.includes("*");
  if (any && origins.length > 1) fail("cors.allowed_origins", '"*" cannot be combined with other origins');
  for (const [i, o] of origins.entries()) {
    // Only scheme://host[:port]: never "null" (sandboxed frames and file: pages, which any site can produce).
    if (o !== "*" && (typeof o !== "string" || !/^https?:\/\/[^/?#\s]+$/.test(o))) fail(`cors.allowed_origins[${i}]`, `${JSON.stringify(o)} must be scheme://host[:port]`);
  }
  if (c.allow_credentials && any) fail("cors.allow_credentials", 'requires an explicit origin list, not "*"');
  const allowedHeaders = tokens(c.allowed_headers, "cors.allowed_headers");
  return {
    any,
    origins: new Set(origins), // compared exactly: browsers send the serialised (lowercase) origin
    methods: c.allowed_methods ? tokens(c.allowed_methods, "cors.allowed_methods").map((m) => m.toUpperCase()) : DEFAULT_CORS_METHODS,
    // Never reflect Access-Control-Request-Headers wholesale: without a list, the headers a
    // gateway client needs.
    headers: allowedHeaders.length ? allowedHeaders : ["Authorization", "Content-Type", "X-API-Key", requestIdHeader],
    expose: tokens(c.expose_headers, "cors.expose_headers"),
    credentials: Boolean(c.allow_credentials),
    maxAge: int(c.max_age, "cors.max_age", 0, 86400, undefined),
  };
}

function compileAuth(a) {
  if (a === undefined || a === null) return { mode: "none", apiKeys: false, jwt: null, publicPaths: [], forwardCredentials: false };
  const mode = a.mode ?? "none";
  if (!["none", "optional", "required"].includes(mode)) fail("auth.mode", `${JSON.stringify(mode)} must be none, optional or required`);
  const jwt = compileJwt(a.jwt);
  const apiKeys = Boolean(a.api_keys);
  if (mode === "required" && !apiKeys && !jwt) fail("auth.mode", "required needs api_keys or jwt");
  const publicPaths = list(a.public_paths, "auth.public_paths").map((p, i) => pattern(p, `auth.public_paths[${i}]`).pattern);
  return { mode, apiKeys, jwt, publicPaths, forwardCredentials: Boolean(a.forward_credentials) };
}

function compileJwt(j) {
  if (j === undefined || j === null) return null;
  // RS256 with the keys at jwks_url, or HS256 with the GATEWAY_JWT_SECRET secret.
  if (j.jwks_url && j.hs256) fail("auth.jwt", "set jwks_url (RS256) or hs256 (HS256), not both");
  if (!j.jwks_url && !j.hs256) fail("auth.jwt", "needs jwks_url (RS256) or hs256 (HS256)");
  if (j.jwks_url) {
    let url;
    try {
      url = new URL(j.jwks_url);
    } catch {
      fail("auth.jwt.jwks_url", "must be an https URL");
    }
    if (url.protocol !== "https:") fail("auth.jwt.jwks_url", "must be an https URL");
  }
  const audiences = list(j.audiences, "auth.jwt.audiences");
  if (audiences.some((a) => typeof a !== "string" || !a)) fail("auth.jwt.audiences", "must be non-empty strings");
  if (j.issuer !== undefined && j.issuer !== null && typeof j.issuer !== "string") fail("auth.jwt.issuer", "must be a string");
  return {
    algorithm: j.jwks_url ? "RS256" : "HS256",
    jwksUrl: j.jwks_url || null,
    issuer: j.issuer || undefined,
    audiences: audiences.length ? audiences : undefined,
    clockSkew: int(j.clock_skew, "auth.jwt.clock_skew", 0, 300, 0),
  };
}

function compileRateLimit(r) {
  if (r === undefined || r === null) return null;
  const requests = int(r.requests, "rate_limit.requests", 1, 1000000, undefined);
  if (requests === undefined) fail("rate_limit.requests", "is required");
  const period = int(r.period, "rate_limit.period", 1, MAX_PERIOD, undefined);
  if (period === undefined) fail("rate_limit.period", "is required");
  const key = r.key ?? "ip";
  let header = null;
  if (typeof key === "string" && key.startsWith("header:")) {
    header = key.slice("header:".length);
    if (!TOKEN.test(header)) fail("rate_limit.key", `${JSON.stringify(key)}: "header:" must be followed by a header name`);
  } else if (key !== "ip" && key !== "api_key") {
    fail("rate_limit.key", `${JSON.stringify(key)} must be ip, api_key or header:<name>`);
  }
  return { requests, period, key, header, useBinding: BINDING_PERIODS.has(period) };
}

// Headers whose values never reach a log line, whatever redact_headers says.
export const ALWAYS_REDACTED = ["authorization", "proxy-authorization", "x-api-key", "cookie"];

function compileLogging(l) {
  if (l === undefined || l === null) return { enabled: false, sampleRate: 0, redact: new Set(ALWAYS_REDACTED) };
  const rate = l.sample_rate ?? 1;
  if (typeof rate !== "number" || !(rate >= 0 && rate <= 1)) fail("logging.sample_rate", "must be a number from 0 to 1");
  const redact = tokens(l.redact_headers, "logging.redact_headers").map((h) => h.toLowerCase());
  return { enabled: l.enabled !== false, sampleRate: rate, redact: new Set([...ALWAYS_REDACTED, ...redact]) };
}
