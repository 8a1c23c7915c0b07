// durable_object_namespace: a Durable Object class of this Worker or of another
// (script_name), run by the Worker of that script's largest version.
export const type = "durable_object_namespace";

export function add(worker, binding, ctx) {
  const designator = ctx.durableObject(worker, binding.class_name, binding.script_name);
  if (designator) worker.durableObjects[binding.name] = designator;
}
