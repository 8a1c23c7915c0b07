// The monitor's configuration: the JSON binding MONITOR_CONFIG, written by the provider
// (internal/workers/monitor.go has the same shape as Go types and validates it at plan time
// with the same rules). compileConfig checks everything the program relies on and fills the
// defaults, so a hand-made or stale configuration fails loudly instead of half-monitoring.
// README.md documents every field.
import { parseCondition, ConditionError } from "./condition.js";
import { parseDuration, DurationError } from "./duration.js";

export const CONFIG_VERSION = 1;
export const BINDINGS = {
  config: "MONITOR_CONFIG",
  state: "MONITOR_STATE",
  registry: "REGISTRY",
  analyticsToken: "ANALYTICS_TOKEN",
  apiToken: "MONITOR_TOKEN",
};
export const RESERVED_BINDINGS = new Set(Object.values(BINDINGS));

export const DEFAULTS = {
  interval: "1m",
  heartbeat: "10m",
  apiBase: "https://api.cloudflare.com/client/v4",
  path: "/health",
  timeout: "5s",
  checks: 3,
  recoveryChecks: 1,
  minRequests: 1,
};
export const LIMITS = {
  services: 100,
  alerts: 100,
  registryEntries: 10,
  minTimeoutMs: 100,
  maxTimeoutMs: 30_000,
  minIntervalMs: 60_000,
  maxIntervalMs: 86_400_000,
  maxChecks: 10,
  maxPathLength: 1024,
};

const SCRIPT_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const ALERT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const BINDING_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const REGISTRY_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,62}$/;
const SEMVER =
  /^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)(\.(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;
const ACCOUNT_ID = /^[0-9a-f]{32}$/;

export class ConfigError extends Error {}

const fail = (field, message) => {
  throw new ConfigError(`${field}: ${message}`);
};
const q = (v) => JSON.stringify(v);

function duration(v, field, dflt) {
  if (v === undefined || v === null) v = dflt;
  if (v === undefined) fail(field, 'is missing: set a duration such as "5m"');
  try {
    return parseDuration(v);
  } catch (err) {
    if (err instanceof DurationError) fail(field, err.message);
    throw err;
  }
}

function minutes(v, field, dflt) {
  const ms = duration(v, field, dflt);
  if (ms % 60_000 !== 0 || ms < LIMITS.minIntervalMs || ms > LIMITS.maxIntervalMs) {
    fail(field, `${q(v ?? dflt)} must be a whole number of minutes from 1m to 1d: the monitor's cron trigger fires once a minute`);
  }
  return ms;
}

function int(v, field, min, max, dflt) {
  if (v === undefined || v === null) return dflt;
  if (!Number.isInteger(v) || v < min || v > max) fail(field, `must be a whole number from ${min} to ${max}`);
  return v;
}

function list(v, field) {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(field, "must be a list");
  return v;
}

function binding(v, field) {
  if (typeof v !== "string" || !BINDING_NAME.test(v)) fail(field, `${q(v)} is not a binding name: use letters, digits and "_", not starting with a digit, at most 64`);
  if (RESERVED_BINDINGS.has(v)) fail(field, `${v} is a binding the monitor itself uses: choose another name`);
  return v;
}

function compileService(s, i, cfg) {
  const field = `services[${i}]`;
  if (typeof s !== "object" || s === null || Array.isArray(s)) fail(field, "must be an object");
  if (typeof s.name !== "string" || !SCRIPT_NAME.test(s.name)) fail(`${field}.name`, `${q(s.name)} is not a Worker name: use 1 to 63 lower-case letters, digits and "-"`);
  const path = s.path ?? DEFAULTS.path;
  if (typeof path !== "string" || !path.startsWith("/") || /[\s#]/.test(path) || path.length > LIMITS.maxPathLength) {
    fail(`${field}.path`, `${q(path)} must be a path starting with "/", without spaces or "#", such as "/health"`);
  }
  const expectStatus = s.expect_status === undefined || s.expect_status === null || s.expect_status === 0 ? null : int(s.expect_status, `${field}.expect_status`, 100, 599);
  const timeoutMs = duration(s.timeout, `${field}.timeout`, DEFAULTS.timeout);
  if (timeoutMs < LIMITS.minTimeoutMs || timeoutMs > LIMITS.maxTimeoutMs) fail(`${field}.timeout`, `${q(s.timeout ?? DEFAULTS.timeout)} must be from 100ms to 30s`);
  const degradedMs = s.degraded_latency === undefined || s.degraded_latency === null ? Math.floor(timeoutMs / 2) : duration(s.degraded_latency, `${field}.degraded_latency`);
  if (degradedMs <= 0 || degradedMs >= timeoutMs) fail(`${field}.degraded_latency`, `${q(s.degraded_latency)} must be above 0 and below the timeout`);
  const intervalMs = minutes(s.interval, `${field}.interval`, cfg.interval);
  const checks = int(s.checks, `${field}.checks`, 1, LIMITS.maxChecks, DEFAULTS.checks);
  const recoveryChecks = int(s.recovery_checks, `${field}.recovery_checks`, 1, LIMITS.maxChecks, DEFAULTS.recoveryChecks);
  const entries = list(s.registry, `${field}.registry`);
  if (entries.length > LIMITS.registryEntries) fail(`${field}.registry`, `lists ${entries.length} entries, more than ${LIMITS.registryEntries}`);
  const registry = entries.map((e, j) => {
    const f = `${field}.registry[${j}]`;
    if (typeof e !== "object" || e === null) fail(f, "must be an object with name and version");
    if (typeof e.name !== "string" || !REGISTRY_NAME.test(e.name)) fail(`${f}.name`, `${q(e.name)} is not a registry name`);
    if (typeof e.version !== "string" || !SEMVER.test(e.version)) fail(`${f}.version`, `${q(e.version)} is not a semantic version such as "1.2.0"`);
    return `service:${e.name}:${e.version}`;
  });
  return { name: s.name, binding: binding(s.binding, `${field}.binding`), path, expectStatus, timeoutMs, degradedMs, intervalMs, checks, recoveryChecks, registry };
}

function compileAlert(a, i, services, intervalMs) {
  const field = `alerts[${i}]`;
  if (typeof a !== "object" || a === null || Array.isArray(a)) fail(field, "must be an object");
  if (typeof a.name !== "string" || !ALERT_NAME.test(a.name)) fail(`${field}.name`, `${q(a.name)} is not an alert name: use letters, digits, "_", "." and "-", at most 64`);
  if (typeof a.service !== "string" || !SCRIPT_NAME.test(a.service)) fail(`${field}.service`, `${q(a.service)} is not a Worker name`);
  let condition;
  try {
    condition = parseCondition(a.condition);
  } catch (err) {
    if (err instanceof ConditionError) fail(`${field}.condition`, err.message);
    throw err;
  }
  const forMs = minutes(a.for, `${field}.for`, undefined);
  if (forMs < intervalMs) fail(`${field}.for`, `${q(a.for)} is shorter than the monitor's interval`);
  const probed = services.find((s) => s.name === a.service);
  if (probed && forMs < probed.intervalMs) fail(`${field}.for`, `${q(a.for)} is shorter than the probe interval of ${a.service}`);
  let minRequests = 0;
  if (condition.metric !== "requests") minRequests = int(a.min_requests, `${field}.min_requests`, 1, 1_000_000_000, DEFAULTS.minRequests);
  else if (a.min_requests !== undefined && a.min_requests !== null) fail(`${field}.min_requests`, "applies to error_rate and p99_latency_ms conditions only");
  const hasUrl = a.webhook_url !== undefined && a.webhook_url !== null;
  const hasSecret = a.webhook_secret !== undefined && a.webhook_secret !== null;
  if (hasUrl === hasSecret) fail(`${field}.webhook_url`, "set exactly one of webhook_url and webhook_secret");
  let webhook;
  if (hasUrl) {
    let u;
    try {
      u = new URL(a.webhook_url);
    } catch {
      fail(`${field}.webhook_url`, `${q(a.webhook_url)} is not an absolute http(s) URL`);
    }
    if (u.protocol !== "https:" && u.protocol !== "http:") fail(`${field}.webhook_url`, `${q(a.webhook_url)} is not an absolute http(s) URL`);
    webhook = { url: a.webhook_url };
  } else {
    webhook = { secret: binding(a.webhook_secret, `${field}.webhook_secret`) };
  }
  return { name: a.name, service: a.service, conditionText: a.condition, condition, forText: a.for, forMs, minRequests, webhook };
}

// compileConfig validates raw (an object, or JSON text) and returns the configuration with
// defaults filled and durations in milliseconds. With env it also checks the bindings.
export function compileConfig(raw, env) {
  if (typeof raw === "string") {
    try {
      raw = JSON.parse(raw);
    } catch {
      fail(BINDINGS.config, "is not JSON");
    }
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail(BINDINGS.config, "is not a JSON object (bind the monitor configuration as a JSON binding)");
  if (raw.version !== CONFIG_VERSION) fail("version", `is ${q(raw.version)}, but the embedded monitor program reads version ${CONFIG_VERSION}`);
  if (typeof raw.name !== "string" || !SCRIPT_NAME.test(raw.name)) fail("name", `${q(raw.name)} is not a Worker name: use 1 to 63 lower-case letters, digits and "-"`);
  const intervalMs = minutes(raw.interval, "interval", DEFAULTS.interval);
  const heartbeatMs = duration(raw.heartbeat, "heartbeat", DEFAULTS.heartbeat);
  if (heartbeatMs < intervalMs || heartbeatMs > LIMITS.maxIntervalMs) fail("heartbeat", `${q(raw.heartbeat)} must be from the monitor's interval to 1d`);

  const rawServices = list(raw.services, "services");
  if (rawServices.length > LIMITS.services) fail("services", `lists ${rawServices.length} services, more than ${LIMITS.services}`);
  const services = [];
  const keys = new Map();
  rawServices.forEach((s, i) => {
    const svc = compileService(s, i, { interval: raw.interval ?? DEFAULTS.interval });
    const j = services.findIndex((o) => o.name === svc.name);
    if (j >= 0) fail(`services[${i}].name`, `${q(svc.name)} is also services[${j}]: list each service once`);
    const k = services.findIndex((o) => o.binding === svc.binding);
    if (k >= 0) fail(`services[${i}].binding`, `${svc.binding} is also the binding of services[${k}]`);
    svc.registry.forEach((key, r) => {
      if (keys.has(key)) fail(`services[${i}].registry[${r}]`, `${key} is also recorded by ${keys.get(key)}: one service owns an entry's health`);
      keys.set(key, `services[${i}]`);
    });
    services.push(svc);
  });

  const rawAlerts = list(raw.alerts, "alerts");
  if (rawAlerts.length > LIMITS.alerts) fail("alerts", `lists ${rawAlerts.length} alerts, more than ${LIMITS.alerts}`);
  const alerts = [];
  rawAlerts.forEach((a, i) => {
    const alert = compileAlert(a, i, services, intervalMs);
    const j = alerts.findIndex((o) => o.name === alert.name);
    if (j >= 0) fail(`alerts[${i}].name`, `${q(alert.name)} is also alerts[${j}]: give each alert its own name`);
    alerts.push(alert);
  });
  if (services.length === 0 && alerts.length === 0) fail("services", "a monitor needs at least one service or alert");

  let accountId = null;
  let apiBase = null;
  if (alerts.length > 0) {
    if (typeof raw.account_id !== "string" || !ACCOUNT_ID.test(raw.account_id)) fail("account_id", `${q(raw.account_id)} must be the 32-character hex id of the account whose analytics the alerts read`);
    accountId = raw.account_id;
    apiBase = raw.api_base ?? DEFAULTS.apiBase;
    let u;
    try {
      u = new URL(apiBase);
    } catch {
      fail("api_base", `${q(apiBase)} is not an absolute http(s) URL`);
    }
    if (u.protocol !== "https:" && u.protocol !== "http:") fail("api_base", `${q(apiBase)} is not an absolute http(s) URL`);
    apiBase = apiBase.replace(/\/+$/, "");
  }

  if (env) {
    if (typeof env[BINDINGS.state]?.idFromName !== "function") fail(BINDINGS.state, "is not bound: bind the monitor's MonitorState Durable Object namespace");
    if (services.some((s) => s.registry.length > 0) && typeof env[BINDINGS.registry]?.getWithMetadata !== "function") fail(BINDINGS.registry, "is not bound: bind the registry KV namespace to record health");
    for (const [i, s] of services.entries()) if (typeof env[s.binding]?.fetch !== "function") fail(`services[${i}].binding`, `this Worker has no service binding ${s.binding}`);
    if (alerts.length > 0 && typeof env[BINDINGS.analyticsToken] !== "string") fail(BINDINGS.analyticsToken, "is not bound: add the secret holding an API token with Account Analytics Read");
    for (const [i, a] of alerts.entries()) if (a.webhook.secret && typeof env[a.webhook.secret] !== "string") fail(`alerts[${i}].webhook_secret`, `this Worker has no secret ${a.webhook.secret}`);
  }
  return { name: raw.name, intervalMs, heartbeatMs, accountId, apiBase, services, alerts };
}
