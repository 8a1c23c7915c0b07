// queue: a Queues producer backed by the local Cloudflare API (a wrapped binding; see
// ../workers/queue.js), so that messages are stored by the edge, which delivers them to the
// queue's consumer and keeps them across restarts.
export const type = "queue";

export function add(worker, binding, ctx) {
  const designator = ctx.api("queue", { QUEUE: binding.queue_name, DELAY: String(binding.delivery_delay ?? "") });
  if (designator) worker.wrappedBindings[binding.name] = designator;
}
