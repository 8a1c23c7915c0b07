// KV namespace binding (a Miniflare wrapped binding, evaluated in the calling Worker) backed by
// the local Cloudflare API. env.NAMESPACE is the namespace id.
import { apiError, apiFetch, bytes, result, segment } from "./api.js";

const TYPES = new Set(["text", "json", "arrayBuffer", "stream"]);

function typeOf(options) {
  const type = (typeof options === "string" ? options : options && options.type) || "text";
  if (!TYPES.has(type)) throw new TypeError(`KV get: unknown type "${type}" (use text, json, arrayBuffer or stream)`);
  return type;
}

function decode(response, type) {
  switch (type) {
    case "json":
      return response.json();
    case "arrayBuffer":
      return response.arrayBuffer();
    case "stream":
      return response.body;
    default:
      return response.text();
  }
}

class KVNamespace {
  #env;
  constructor(env) {
    this.#env = env;
  }

  #path(suffix) {
    return `/storage/kv/namespaces/${this.#env.NAMESPACE}${suffix}`;
  }

  async get(key, options) {
    const type = typeOf(options);
    if (Array.isArray(key)) return this.#getMany(key, type, false);
    const response = await apiFetch(this.#env, this.#path(`/values/${segment(key)}`));
    if (response.status === 404) return null;
    if (!response.ok) throw await apiError("KV GET failed", response);
    return decode(response, type);
  }

  async getWithMetadata(key, options) {
    const type = typeOf(options);
    if (Array.isArray(key)) return this.#getMany(key, type, true);
    const response = await apiFetch(this.#env, this.#path(`/values/${segment(key)}`));
    if (response.status === 404) return { value: null, metadata: null, cacheStatus: null };
    if (!response.ok) throw await apiError("KV GET failed", response);
    const value = await decode(response, type === "stream" ? "arrayBuffer" : type);
    const meta = await apiFetch(this.#env, this.#path(`/metadata/${segment(key)}`));
    const metadata = meta.ok ? (await meta.json()).result ?? null : null;
    return { value: type === "stream" ? new Response(value).body : value, metadata, cacheStatus: null };
  }

  // get([keys]) → Map, through the bulk endpoint (text and json only, as on Cloudflare).
  async #getMany(keys, type, withMetadata) {
    if (type !== "text" && type !== "json") throw new TypeError(`KV get of several keys supports text and json, not "${type}"`);
    const { result: r } = await result(
      "KV GET failed",
      await apiFetch(this.#env, this.#path("/bulk/get"), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ keys, type, withMetadata }),
      }),
    );
    const out = new Map();
    for (const k of keys) {
      const v = r.values[k] ?? null;
      out.set(k, withMetadata && v !== null ? { value: v.value, metadata: v.metadata ?? null } : v);
    }
    return out;
  }

  async put(key, value, options = {}) {
    const form = new FormData();
    form.set("value", new Blob([await bytes(value)]));
    if (options.metadata !== undefined && options.metadata !== null) form.set("metadata", JSON.stringify(options.metadata));
    const query = new URLSearchParams();
    if (options.expiration) query.set("expiration", String(Math.floor(options.expiration)));
    if (options.expirationTtl) query.set("expiration_ttl", String(Math.floor(options.expirationTtl)));
    const qs = query.size ? `?${query}` : "";
    await result("KV PUT failed", await apiFetch(this.#env, this.#path(`/values/${segment(key)}${qs}`), { method: "PUT", body: form }));
  }

  async delete(key) {
    const response = await apiFetch(this.#env, this.#path(`/values/${segment(key)}`), { method: "DELETE" });
    if (!response.ok && response.status !== 404) throw await apiError("KV DELETE failed", response);
  }

  async list(options = {}) {
    // The API pages by at least 10 keys; smaller limits are cut here and the cursor rebuilt
    // (the API's cursor is the base64url of the last key returned).
    const limit = options.limit ?? 1000;
    const query = new URLSearchParams({ limit: String(Math.min(Math.max(limit, 10), 1000)) });
    if (options.prefix) query.set("prefix", options.prefix);
    if (options.cursor) query.set("cursor", options.cursor);
    const { result: keys, info } = await result("KV LIST failed", await apiFetch(this.#env, this.#path(`/keys?${query}`)));
    let cursor = info.cursor || "";
    let page = keys;
    if (keys.length > limit) {
      page = keys.slice(0, limit);
      cursor = btoa(String.fromCharCode(...new TextEncoder().encode(page[page.length - 1].name)))
        .replaceAll("+", "-")
        .replaceAll("/", "_")
        .replace(/=+$/, "");
    }
    const out = page.map((k) => {
      const item = { name: k.name };
      if (k.expiration) item.expiration = k.expiration;
      if (k.metadata !== undefined) item.metadata = k.metadata;
      return item;
    });
    return cursor ? { keys: out, list_complete: false, cursor, cacheStatus: null } : { keys: out, list_complete: true, cacheStatus: null };
  }
}

// The wrapped binding's factory: called with this shim's env, returns what the Worker sees.
export default (env) => new KVNamespace(env);
