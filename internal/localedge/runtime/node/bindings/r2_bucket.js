// r2_bucket: an R2 bucket backed by the local Cloudflare API (a wrapped binding; see
// ../workers/r2.js).
export const type = "r2_bucket";

export function add(worker, binding, ctx) {
  const jurisdiction = binding.jurisdiction && binding.jurisdiction !== "default" ? binding.jurisdiction : "";
  const designator = ctx.api("r2", { BUCKET: binding.bucket_name, JURISDICTION: jurisdiction });
  if (designator) worker.wrappedBindings[binding.name] = designator;
}
