// service: a service binding to another Worker (its default export, or a named entrypoint
// for RPC), resolved by the context to the target's router or version Worker.
export const type = "service";

export function add(worker, binding, ctx) {
  worker.serviceBindings[binding.name] = ctx.service(binding.service, binding.entrypoint);
}
