// The servicesdo event fan-out: the consumer of a topic queue, forwarding each CloudEvent to
// the queue of every subscription whose type filter matches (README.md). One fixed program,
// configured by the JSON binding FANOUT_CONFIG; it uses only the standard Queues API
// (sendBatch with contentType "json", and ack/retry per message), so it runs unchanged on
// Cloudflare, in Miniflare and on the local edge.
import { compileConfig, ConfigError, CONFIG_BINDING } from "./config.js";
import { deliverBatch } from "./deliver.js";

// The compiled configuration, per binding value (a JSON binding is the same object for the
// life of an isolate; a new deployment gets a new isolate).
const compiled = new WeakMap();

function configOf(env) {
  const raw = env[CONFIG_BINDING];
  if (typeof raw === "object" && raw !== null && compiled.has(raw)) return compiled.get(raw);
  const cfg = compileConfig(raw, env);
  if (typeof raw === "object" && raw !== null) compiled.set(raw, cfg);
  return cfg;
}

const log = (record) => console.log(JSON.stringify(record));

export default {
  async queue(batch, env) {
    let cfg;
    try {
      cfg = configOf(env);
    } catch (err) {
      // Fail closed: nothing is acknowledged, so Queues retries the batch (and, after
      // max_retries, moves it to the topic's dead-letter queue) until the configuration is fixed.
      log({ type: "fanout.config_error", queue: batch.queue, messages: batch.messages.length, error: String(err.message ?? err) });
      batch.retryAll();
      return;
    }
    let summary;
    try {
      summary = await deliverBatch(batch, env, cfg);
    } catch (err) {
      // Messages already acknowledged stay acknowledged; retryAll covers the others.
      log({ type: "fanout.error", topic: cfg.topic, messages: batch.messages.length, error: String(err?.stack ?? err) });
      batch.retryAll();
      return;
    }
    const { refusals, ...counts } = summary;
    log({ type: "fanout.batch", ...counts });
    for (const r of refusals) {
      log({ type: r.subscription === null ? "fanout.invalid_event" : "fanout.refused", topic: cfg.topic, ...r });
    }
  },

  // GET /health answers whether the configuration compiles against this Worker's bindings
  // (the monitor can probe it); everything else is 404.
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname !== "/health" || (request.method !== "GET" && request.method !== "HEAD")) {
      return Response.json({ error: "not_found", message: "the fan-out Worker serves GET /health only" }, { status: 404 });
    }
    try {
      const cfg = configOf(env);
      return Response.json({
        status: "pass",
        topic: cfg.topic,
        subscriptions: cfg.subscriptions.map((s) => s.name),
        dead_letter: cfg.deadLetter ? cfg.deadLetter.binding : null,
      });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return Response.json({ status: "fail", error: err.message }, { status: 500 });
    }
  },
};
