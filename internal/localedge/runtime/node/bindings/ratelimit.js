// ratelimit: Miniflare's rate-limit binding, per namespace_id with the simple limit and period.
export const type = "ratelimit";

export function add(worker, binding, ctx) {
  const simple = binding.simple || {};
  worker.ratelimits[binding.name] = {
    namespace_id: binding.namespace_id || `${ctx.script.name}/${binding.name}`,
    simple: { limit: Number(simple.limit), period: Number(simple.period) || 60 },
  };
}
