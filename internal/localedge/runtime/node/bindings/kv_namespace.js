// kv_namespace: Workers KV backed by the local Cloudflare API (a wrapped binding; see
// ../workers/kv.js), so that what the API stores is what Workers read.
export const type = "kv_namespace";

export function add(worker, binding, ctx) {
  const designator = ctx.api("kv", { NAMESPACE: binding.namespace_id });
  if (designator) worker.wrappedBindings[binding.name] = designator;
}
