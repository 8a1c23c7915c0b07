// The fan-out configuration: the JSON binding FANOUT_CONFIG, written by the provider
// (internal/workers/fanout.go has the same shape as Go types and validates it at plan time).
// compileConfig checks everything the program relies on, including that each queue binding is
// there, so a hand-made or stale configuration fails closed — every message of the batch is
// retried, none acknowledged — instead of half-delivering. README.md documents every field.
import { compileTypes, FilterError } from "./filter.js";

export const CONFIG_VERSION = 1;
export const CONFIG_BINDING = "FANOUT_CONFIG";
export const MAX_SUBSCRIPTIONS = 32;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const BINDING_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const QUEUE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export class ConfigError extends Error {}

const fail = (field, message) => {
  throw new ConfigError(`${field}: ${message}`);
};

function queueBinding(env, binding, field) {
  if (typeof binding !== "string" || !BINDING_NAME.test(binding)) fail(field, `${JSON.stringify(binding)} is not a binding name: use letters, digits and "_", not starting with a digit, at most 64`);
  if (binding === CONFIG_BINDING) fail(field, `${CONFIG_BINDING} is the configuration binding, not a queue: choose another binding name`);
  if (env && typeof env[binding]?.sendBatch !== "function") fail(field, `this Worker has no queue producer binding ${binding}: bind the subscriber's queue under that name`);
  return binding;
}

function queueName(v, field) {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || !QUEUE_NAME.test(v)) fail(field, `${JSON.stringify(v)} is not a queue name: use 1 to 63 lower-case letters, digits and "-", not starting or ending with "-"`);
  return v;
}

// compileConfig validates raw (an object, or JSON text) against env's bindings (env may be
// omitted to check the shape alone) and returns
//   { topic, subscriptions: [{name, binding, queue, accepts(type)}], deadLetter: {binding, queue} | null }.
export function compileConfig(raw, env) {
  if (typeof raw === "string") {
    try {
      raw = JSON.parse(raw);
    } catch {
      fail(CONFIG_BINDING, "is not JSON");
    }
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail(CONFIG_BINDING, "is not a JSON object (bind the fan-out configuration as a JSON binding)");
  if (raw.version !== CONFIG_VERSION) fail("version", `is ${JSON.stringify(raw.version)}, but the embedded fan-out program reads version ${CONFIG_VERSION}`);
  const topic = queueName(raw.topic, "topic");
  if (!topic) fail("topic", "name the topic queue this fan-out consumes");
  if (!Array.isArray(raw.subscriptions) || raw.subscriptions.length === 0) fail("subscriptions", "a topic needs at least one subscription: subscribe a service's queue to some of its event types");
  if (raw.subscriptions.length > MAX_SUBSCRIPTIONS) fail("subscriptions", `${raw.subscriptions.length} subscriptions, more than the ${MAX_SUBSCRIPTIONS} one fan-out Worker serves: spread the event types over more topics`);
  const names = new Map();
  const bindings = new Map();
  const subscriptions = raw.subscriptions.map((s, i) => {
    const field = `subscriptions[${i}]`;
    if (typeof s !== "object" || s === null || Array.isArray(s)) fail(field, "must be an object with name, binding and types");
    if (typeof s.name !== "string" || !NAME.test(s.name)) fail(`${field}.name`, `${JSON.stringify(s.name)} is not a subscription name: use letters, digits, "_", "." and "-", starting with a letter or digit, at most 64`);
    if (names.has(s.name)) fail(`${field}.name`, `${JSON.stringify(s.name)} is also the name of subscriptions[${names.get(s.name)}]: give each subscription its own name`);
    names.set(s.name, i);
    const binding = queueBinding(env, s.binding, `${field}.binding`);
    if (bindings.has(binding)) fail(`${field}.binding`, `${binding} is also the queue of subscriptions[${bindings.get(binding)}]: each subscriber has its own queue, or it would receive every event twice`);
    bindings.set(binding, i);
    let accepts;
    try {
      accepts = compileTypes(s.types, `${field}.types`);
    } catch (err) {
      if (err instanceof FilterError) throw new ConfigError(err.message);
      throw err;
    }
    const queue = queueName(s.queue, `${field}.queue`);
    if (queue === topic) fail(`${field}.queue`, `${JSON.stringify(queue)} is the topic itself: forwarding the topic's events to it would loop; name the subscriber's own queue`);
    return { name: s.name, binding, queue, accepts };
  });
  let deadLetter = null;
  if (raw.dead_letter !== undefined && raw.dead_letter !== null) {
    const d = raw.dead_letter;
    if (typeof d !== "object" || Array.isArray(d)) fail("dead_letter", "must be an object with a binding");
    const binding = queueBinding(env, d.binding, "dead_letter.binding");
    if (bindings.has(binding)) fail("dead_letter.binding", `${binding} is the queue of subscriptions[${bindings.get(binding)}]: invalid events need a queue of their own`);
    const queue = queueName(d.queue, "dead_letter.queue");
    if (queue === topic) fail("dead_letter.queue", `${JSON.stringify(queue)} is the topic itself: invalid events sent back to it would loop`);
    deadLetter = { binding, queue };
  }
  return { topic, subscriptions, deadLetter };
}
