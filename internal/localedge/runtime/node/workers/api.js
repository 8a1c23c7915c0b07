// Shared by the KV and R2 shims: calls to the local Cloudflare API, so that the API's store
// stays the single source of truth for KV and R2 data (what Terraform or the API wrote is
// what Workers read, and the reverse).
//
// env.API is a service binding to the API's address, env.ACCOUNT and env.TOKEN its account
// and token.

export function apiFetch(env, path, init = {}) {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${env.TOKEN}`);
  return env.API.fetch(`http://local-api/client/v4/accounts/${env.ACCOUNT}${path}`, { ...init, headers });
}

// apiError turns a failed API response into an Error naming the operation and the API's message.
export async function apiError(op, response) {
  let detail = `HTTP ${response.status}`;
  try {
    const body = await response.json();
    if (body.errors && body.errors.length) detail = body.errors.map((e) => `${e.message} (${e.code})`).join("; ");
  } catch {
    // Not an envelope: keep the status.
  }
  return new Error(`${op}: ${detail}`);
}

// result reads the `result` (and `result_info`) of a successful envelope, or throws.
export async function result(op, response) {
  if (!response.ok) throw await apiError(op, response);
  const body = await response.json();
  return { result: body.result, info: body.result_info || {} };
}

export function segment(key) {
  return encodeURIComponent(String(key));
}

// bytes turns any value a binding accepts as a body into a Uint8Array (streams are read whole).
export async function bytes(value) {
  if (value === null || value === undefined) return new Uint8Array();
  if (typeof value === "string") return new TextEncoder().encode(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof Blob) return new Uint8Array(await value.arrayBuffer());
  if (value instanceof ReadableStream) return new Uint8Array(await new Response(value).arrayBuffer());
  return new TextEncoder().encode(String(value));
}
