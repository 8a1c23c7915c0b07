// Test harness: runs the BUNDLED saga Worker (dist/worker.js) in Miniflare with one participant
// Worker per service binding. Each participant Worker forwards every call it receives to the
// test's Ledger (a Node function binding), which records it and answers it.
//
// The ledger behaves like a participant that honours Idempotency-Key: the first successful
// call with a key applies its effect, and any later call with that key is answered with the
// stored response without applying anything again. Failures (statuses, delays, timeouts) are
// scripted per call by a plan function; they apply only to keys without an effect yet.
import { Miniflare, Log, LogLevel } from "miniflare";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const BUNDLE_PATH = join(here, "..", "dist", "worker.js");

export class Ledger {
  constructor() {
    this.calls = [];
    this.effects = new Map(); // idempotency key -> stored response body
    this.plan = () => ({});
  }

  // handle answers one call received by participant `service`.
  async handle(service, request) {
    const key = request.headers.get("idempotency-key") ?? "";
    const [execution, step, kind] = key.split(":");
    const text = await request.text();
    const call = {
      service,
      method: request.method,
      path: new URL(request.url).pathname + new URL(request.url).search,
      key,
      execution,
      step,
      kind,
      attempt: Number(request.headers.get("x-saga-attempt")),
      body: text ? JSON.parse(text) : undefined,
      n: this.calls.filter((c) => c.key === key).length + 1,
      at: Date.now(),
    };
    this.calls.push(call);
    if (this.effects.has(key)) {
      call.status = 200;
      call.replayed = true;
      return Response.json(this.effects.get(key));
    }
    const spec = this.plan(call) ?? {};
    const status = spec.status ?? 200;
    const ok = status >= 200 && status < 300;
    const body = spec.json ?? (ok ? { id: `${step}-${execution.slice(2, 10)}`, step, kind } : { error: `scripted ${status}` });
    if (ok) {
      this.effects.set(key, body);
      call.applied = true;
    }
    call.status = status;
    if (spec.gate) await spec.gate;
    if (spec.delay) await new Promise((r) => setTimeout(r, spec.delay));
    return Response.json(body, { status });
  }

  of(execution) {
    return this.calls.filter((c) => c.execution === execution);
  }

  // applied lists, in order, the "<step>:<kind>" of the calls that applied an effect.
  applied(execution) {
    return this.of(execution)
      .filter((c) => c.applied)
      .map((c) => `${c.step}:${c.kind}`);
  }
}

// definitionOf builds a definition of steps over services. Step i calls POST /<step> with the
// order id from the input and the output id of step i-1; its compensation calls
// POST /<step>/undo naming the execution.
export function definitionOf(name, steps, extra = {}) {
  return {
    name,
    steps: steps.map((s, i) => ({
      name: s.name,
      service: s.service,
      action: {
        method: "POST",
        path: `/${s.name}`,
        body: { order: "{{input.order_id}}", ...(i > 0 ? { after: `{{steps.${steps[i - 1].name}.output.id}}` } : {}), ...(s.body ?? {}) },
      },
      ...(s.compensate === false
        ? {}
        : { compensate: { method: "POST", path: s.compensatePath ?? `/${s.name}/undo`, body: { execution: "{{execution.id}}" }, ...(s.compensateRetry ? { retry: s.compensateRetry } : {}) } }),
      timeout: s.timeout ?? "2s",
      retry: s.retry ?? { attempts: 3, backoff: "constant", delay: "5ms" },
    })),
    ...extra,
  };
}

export const FOUR_STEPS = [
  { name: "create_order", service: "ORDERS" },
  { name: "reserve_stock", service: "INVENTORY" },
  { name: "charge_payment", service: "PAYMENTS" },
  { name: "ship", service: "SHIPPING" },
];

export function services(definition) {
  return [...new Set(definition.steps.map((s) => s.service))];
}

// startSaga starts Miniflare with the saga Worker and its participants. persist (a directory)
// keeps Durable Objects and Workflows across instances.
export async function startSaga({ definition, ledger, persist, bindings = {}, workflow = {} }) {
  const participants = services(definition).map((svc) => ({
    name: `p-${svc}`,
    modules: true,
    compatibilityDate: "2025-09-01",
    script: `export default { fetch(request, env) { return env.LEDGER.fetch(request); } }`,
    serviceBindings: { LEDGER: (request) => ledger.handle(svc, request) },
  }));
  const mf = new Miniflare({
    host: "127.0.0.1",
    log: new Log(LogLevel.ERROR),
    cf: false,
    durableObjectsPersist: join(persist, "do"),
    workflowsPersist: join(persist, "workflows"),
    workers: [
      {
        name: "saga",
        modules: [{ type: "ESModule", path: "worker.js", contents: readFileSync(BUNDLE_PATH, "utf8") }],
        compatibilityDate: "2025-09-01",
        bindings: { SAGA_DEFINITION: definition, API_ACCESS: "service_binding", SAGA_WATCHDOG_MS: "250", ...bindings },
        workflows: { SAGA_WORKFLOW: { name: definition.name, className: "SagaWorkflow", ...workflow } },
        durableObjects: { SAGA_INDEX: { className: "SagaIndex", useSQLite: true } },
        serviceBindings: Object.fromEntries(services(definition).map((svc) => [svc, `p-${svc}`])),
      },
      ...participants,
    ],
  });
  await mf.ready;
  const api = async (method, path, body, headers = {}) => {
    const res = await mf.dispatchFetch(`http://saga.test${path}`, {
      method,
      headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, body: json, headers: res.headers };
  };
  return { mf, api, dispose: () => mf.dispose() };
}

export function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), "saga-test-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

// waitFor polls fn until it returns a truthy value, or fails after the deadline with the last
// value seen.
export async function waitFor(fn, { timeout = 15_000, interval = 20, what = "condition" } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout}ms waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

// waitForStatus polls an execution until its status is one of statuses.
export async function waitForStatus(api, id, statuses, options = {}) {
  let seen;
  await waitFor(
    async () => {
      seen = (await api("GET", `/executions/${id}`)).body;
      return statuses.includes(seen.status);
    },
    { what: `execution ${id} to be ${statuses.join(" or ")} (is ${seen?.status})`, ...options },
  ).catch((e) => {
    throw new Error(`${e.message}\nexecution: ${JSON.stringify(seen, null, 1)}`);
  });
  return seen;
}

export function start(api, input, key) {
  return api("POST", "/executions", { input, idempotency_key: key });
}
