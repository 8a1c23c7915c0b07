// The saga program: one Worker per saga, configured by its SAGA_DEFINITION JSON binding.
// Exports the Workflow class (SagaWorkflow), the index Durable Object class (SagaIndex) and the
// runtime API (fetch). README.md lists the bindings it expects.
import { createApp } from "./api.js";

export { SagaWorkflow } from "./workflow.js";
export { SagaIndex } from "./store.js";

const app = createApp();

export default {
  fetch(request, env, ctx) {
    return app.fetch(request, env, ctx);
  },
};
