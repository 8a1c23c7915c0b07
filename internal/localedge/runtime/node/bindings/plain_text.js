// plain_text: a string variable.
export const type = "plain_text";

export function add(worker, binding) {
  worker.bindings[binding.name] = binding.text ?? "";
}
