// Queue producer binding (a Miniflare wrapped binding, evaluated in the calling Worker) backed by
// the local Cloudflare API's message endpoints. env.QUEUE is the queue name, env.DELAY the
// binding's delivery_delay in seconds ("" for the queue's own).
import { apiError, apiFetch, bytes, result } from "./api.js";

const TYPES = new Set(["json", "text", "bytes", "v8"]);

// ids caches queue name → id; a queue recreated under the same name is looked up again.
const ids = new Map();

async function queueID(env, refresh) {
  if (!refresh && ids.has(env.QUEUE)) return ids.get(env.QUEUE);
  const { result: queues } = await result("Queue lookup failed", await apiFetch(env, "/queues?per_page=1000"));
  const q = queues.find((q) => q.queue_name === env.QUEUE);
  if (!q) throw new Error(`Queue send failed: queue "${env.QUEUE}" does not exist`);
  ids.set(env.QUEUE, q.queue_id);
  return q.queue_id;
}

function base64(u8) {
  let s = "";
  for (const b of u8) s += String.fromCharCode(b);
  return btoa(s);
}

// encode turns a message body into the API's {body, content_type}.
async function encode(body, contentType) {
  const type = contentType ?? (typeof body === "string" ? "text" : ArrayBuffer.isView(body) || body instanceof ArrayBuffer ? "bytes" : "json");
  if (!TYPES.has(type)) throw new TypeError(`Queue send: unknown contentType "${type}" (use json, text, bytes or v8)`);
  switch (type) {
    case "text":
      return { body: String(body), content_type: "text" };
    case "bytes":
    case "v8":
      return { body: base64(await bytes(body)), content_type: "bytes" };
    default:
      if (body === undefined) throw new TypeError("Queue send: the body must be JSON-serializable");
      return { body: JSON.parse(JSON.stringify(body)), content_type: "json" };
  }
}

function delayOf(env, options) {
  if (options && options.delaySeconds !== undefined) return options.delaySeconds;
  return env.DELAY === "" ? undefined : Number(env.DELAY);
}

class Queue {
  #env;
  constructor(env) {
    this.#env = env;
  }

  async #post(suffix, payload) {
    for (const refresh of [false, true]) {
      const id = await queueID(this.#env, refresh);
      const response = await apiFetch(this.#env, `/queues/${id}${suffix}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(payload) });
      if (response.ok) return;
      if (response.status !== 404 || refresh) throw await apiError("Queue send failed", response);
    }
  }

  async send(body, options = {}) {
    const message = await encode(body, options.contentType);
    const delay = delayOf(this.#env, options);
    if (delay !== undefined) message.delay_seconds = delay;
    await this.#post("/messages", message);
  }

  async sendBatch(messages, options = {}) {
    const out = [];
    for (const m of messages) {
      const message = await encode(m.body, m.contentType);
      if (m.delaySeconds !== undefined) message.delay_seconds = m.delaySeconds;
      out.push(message);
    }
    const payload = { messages: out };
    const delay = delayOf(this.#env, options);
    if (delay !== undefined) payload.delay_seconds = delay;
    await this.#post("/messages/batch", payload);
  }
}

// The wrapped binding's factory: called with this shim's env, returns what the Worker sees.
export default (env) => new Queue(env);
