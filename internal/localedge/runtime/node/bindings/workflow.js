// workflow: a Cloudflare Workflow (Miniflare's engine, persisted under the edge's persist dir),
// resolved by the context to the account's registered Workflow of that name, or to the class
// the binding names when none is registered yet (wrangler registers it after the upload).
export const type = "workflow";

export function add(worker, binding, ctx) {
  const designator = ctx.workflow(worker, binding);
  if (designator) worker.workflows[binding.name] = designator;
}
