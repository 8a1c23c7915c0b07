// The servicesdo monitor: a cron Worker that probes services' health endpoints through service
// bindings, records their health in the service registry, evaluates alert rules over Workers
// analytics and posts webhooks when an alert fires and resolves (README.md). One fixed
// program, configured by the JSON binding MONITOR_CONFIG; its state lives in the MonitorState
// Durable Object this bundle exports.
//
//   scheduled        a round (cron "* * * * *": each service is probed on the ticks that open
//                    a new window of its interval)
//   GET  /status     every service's health and the open alerts
//   POST /__run      a round now, probing every service (needs the MONITOR_TOKEN secret)
//   GET  /health     200 when the configuration compiles against the bindings
import { compileConfig, ConfigError, BINDINGS } from "./config.js";
import { runRound, stateStub } from "./round.js";

export { MonitorState } from "./state.js";

const compiled = new WeakMap();
function configOf(env) {
  const raw = env[BINDINGS.config];
  if (typeof raw === "object" && raw !== null && compiled.has(raw)) return compiled.get(raw);
  const cfg = compileConfig(raw, env);
  if (typeof raw === "object" && raw !== null) compiled.set(raw, cfg);
  return cfg;
}

const json = (body, status = 200) => Response.json(body, { status, headers: { "cache-control": "no-store" } });
const problem = (status, error, message) => json({ error, message }, status);

async function digest(s) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)));
}

// authorized compares the bearer token with the MONITOR_TOKEN secret in constant time (over
// their SHA-256 digests, so the length leaks nothing either).
async function authorized(request, env) {
  const secret = env[BINDINGS.apiToken];
  if (typeof secret !== "string" || secret === "") return false;
  const header = request.headers.get("authorization") ?? "";
  const token = header.startsWith("Bearer ") ? header.slice(7) : "";
  const [a, b] = await Promise.all([digest(token), digest(secret)]);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0 && token !== "";
}

export default {
  async scheduled(controller, env) {
    const cfg = configOf(env); // a broken configuration fails the cron invocation, visibly
    const summary = await runRound(env, cfg, controller.scheduledTime);
    console.log(JSON.stringify({ type: "monitor.round", ...summary }));
  },

  async fetch(request, env) {
    const url = new URL(request.url);
    const route = `${request.method} ${url.pathname}`;
    if (route !== "GET /status" && route !== "POST /__run" && route !== "GET /health") {
      return problem(404, "not_found", "the monitor serves GET /status, POST /__run and GET /health");
    }
    let cfg;
    try {
      cfg = configOf(env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return json({ status: "fail", error: err.message }, 500);
    }
    if (route === "GET /health") return json({ status: "pass", monitor: cfg.name, services: cfg.services.length, alerts: cfg.alerts.length });
    // /status is open unless MONITOR_TOKEN is bound; /__run always needs it (and without it
    // does not exist).
    const tokenBound = typeof env[BINDINGS.apiToken] === "string" && env[BINDINGS.apiToken] !== "";
    if (route === "POST /__run" && !tokenBound) return problem(404, "not_found", "POST /__run is disabled: bind the MONITOR_TOKEN secret to enable it");
    if (tokenBound && !(await authorized(request, env))) {
      return new Response(JSON.stringify({ error: "unauthorized", message: "send Authorization: Bearer <MONITOR_TOKEN>" }), {
        status: 401,
        headers: { "content-type": "application/json", "www-authenticate": 'Bearer realm="servicesdo-monitor"' },
      });
    }
    if (route === "GET /status") return json(await stateStub(env).status(Date.now()));
    const summary = await runRound(env, cfg, Date.now(), { force: true });
    return json(summary);
  },
};
