// R2 bucket binding (a Miniflare wrapped binding, evaluated in the calling Worker) backed by the
// local Cloudflare API. env.BUCKET is the bucket name, env.JURISDICTION its jurisdiction ("" for
// the default one).
import { apiError, apiFetch, bytes, result, segment } from "./api.js";

// R2Object: an object's metadata (head, put, list).
class R2Object {
  constructor({ key, size, etag, uploaded, httpMetadata, customMetadata, storageClass }) {
    this.key = key;
    this.version = etag;
    this.size = size;
    this.etag = etag;
    this.httpEtag = `"${etag}"`;
    this.uploaded = uploaded;
    this.httpMetadata = httpMetadata || {};
    this.customMetadata = customMetadata || {};
    this.storageClass = storageClass || "Standard";
    this.checksums = {};
  }

  writeHttpMetadata(headers) {
    for (const [name, header] of Object.entries({
      contentType: "Content-Type",
      contentLanguage: "Content-Language",
      contentDisposition: "Content-Disposition",
      contentEncoding: "Content-Encoding",
      cacheControl: "Cache-Control",
    })) {
      if (this.httpMetadata[name]) headers.set(header, this.httpMetadata[name]);
    }
  }
}

// R2ObjectBody: an object with its body (get).
class R2ObjectBody extends R2Object {
  #data;
  #used = false;
  constructor(info, data) {
    super(info);
    this.#data = data;
  }
  #take() {
    this.#used = true;
    return this.#data;
  }
  get body() {
    return new Response(this.#take()).body;
  }
  get bodyUsed() {
    return this.#used;
  }
  async arrayBuffer() {
    const d = this.#take();
    return d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength);
  }
  async text() {
    return new TextDecoder().decode(this.#take());
  }
  async json() {
    return JSON.parse(await this.text());
  }
  async blob() {
    return new Blob([this.#take()], { type: this.httpMetadata.contentType || "" });
  }
}

function fromListing(o) {
  return new R2Object({
    key: o.key,
    size: o.size,
    etag: o.etag,
    uploaded: new Date(o.last_modified),
    httpMetadata: o.http_metadata,
    customMetadata: o.custom_metadata,
    storageClass: o.storage_class,
  });
}

class R2Bucket {
  #env;
  constructor(env) {
    this.#env = env;
  }

  #fetch(suffix, init = {}) {
    const headers = new Headers(init.headers);
    if (this.#env.JURISDICTION) headers.set("cf-r2-jurisdiction", this.#env.JURISDICTION);
    return apiFetch(this.#env, `/r2/buckets/${this.#env.BUCKET}${suffix}`, { ...init, headers });
  }

  // head: the exact key is the first key listed under the prefix key (keys sort bytewise).
  async head(key) {
    const query = new URLSearchParams({ prefix: key, per_page: "1" });
    const { result: objects } = await result("R2 HEAD failed", await this.#fetch(`/objects?${query}`));
    return objects.length && objects[0].key === key ? fromListing(objects[0]) : null;
  }

  async get(key) {
    const response = await this.#fetch(`/objects/${segment(key)}`);
    if (response.status === 404) return null;
    if (!response.ok) throw await apiError("R2 GET failed", response);
    const data = new Uint8Array(await response.arrayBuffer());
    const contentType = response.headers.get("Content-Type");
    return new R2ObjectBody(
      {
        key,
        size: data.byteLength,
        etag: (response.headers.get("ETag") || "").replaceAll('"', ""),
        uploaded: new Date(response.headers.get("Last-Modified") || Date.now()),
        httpMetadata: contentType && contentType !== "application/octet-stream" ? { contentType } : {},
      },
      data,
    );
  }

  async put(key, value, options = {}) {
    const headers = {};
    let httpMetadata = options.httpMetadata || {};
    if (httpMetadata instanceof Headers) httpMetadata = { contentType: httpMetadata.get("Content-Type") || undefined };
    if (httpMetadata.contentType) headers["Content-Type"] = httpMetadata.contentType;
    if (options.storageClass) headers["cf-r2-storage-class"] = options.storageClass;
    const body = await bytes(value);
    const { result: r } = await result("R2 PUT failed", await this.#fetch(`/objects/${segment(key)}`, { method: "PUT", headers, body }));
    return new R2Object({
      key,
      size: Number(r.size),
      etag: r.etag,
      uploaded: new Date(),
      httpMetadata: httpMetadata.contentType ? { contentType: httpMetadata.contentType } : {},
      // The API has no way to store custom metadata; it is not kept.
      customMetadata: {},
      storageClass: r.storage_class,
    });
  }

  async delete(keys) {
    for (const key of Array.isArray(keys) ? keys : [keys]) {
      const response = await this.#fetch(`/objects/${segment(key)}`, { method: "DELETE" });
      if (!response.ok && response.status !== 404) throw await apiError("R2 DELETE failed", response);
    }
  }

  async list(options = {}) {
    const query = new URLSearchParams({ per_page: String(options.limit ?? 1000) });
    if (options.prefix) query.set("prefix", options.prefix);
    if (options.cursor) query.set("cursor", options.cursor);
    if (options.startAfter) query.set("start_after", options.startAfter);
    const { result: objects, info } = await result("R2 LIST failed", await this.#fetch(`/objects?${query}`));
    const out = { objects: objects.map(fromListing), truncated: Boolean(info.is_truncated), delimitedPrefixes: [] };
    if (out.truncated) out.cursor = info.cursor;
    return out;
  }
}

// The wrapped binding's factory: called with this shim's env, returns what the Worker sees.
export default (env) => new R2Bucket(env);
