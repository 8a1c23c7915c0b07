// json: a parsed JSON value.
export const type = "json";

export function add(worker, binding) {
  worker.bindings[binding.name] = binding.json ?? null;
}
