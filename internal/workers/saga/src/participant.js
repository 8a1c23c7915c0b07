// Calling a participant: one HTTP request through the step's service binding, and the
// classification of its outcome.
//
// Every call carries Idempotency-Key: <execution>:<step>:<action|compensate>, the same on every
// attempt and round, so a participant that honours the key applies each call once and answers
// a repeated call with its first answer. The saga relies on that contract to decide whether a
// failed call may have taken effect: the last answer is authoritative when it is definite.
//
//   effect "applied"   2xx: the call took effect;
//   effect "rejected"  4xx other than 409: the participant refused it, nothing happened;
//                      also a call that was never sent (template or binding error);
//   effect "unknown"   5xx, 409 (a request with this key may still be in progress), 3xx, a
//                      timeout or a network error: it may have taken effect.
//
// A failed action whose effect is unknown is compensated like a completed step; a rejected one
// is not.

import { isNonRetryableStatus } from "./retry.js";
import { TemplateError, renderBody, renderPath } from "./template.js";

// Outputs larger than this are not kept: a Workflows step result is limited to 1 MiB.
export const MAX_OUTPUT_BYTES = 512 * 1024;

const TAG = /\[saga:(\{.*\})\]$/s;

// failure builds the error a failed call throws: a readable message with the classification
// appended as "[saga:{json}]", which survives Workflows' storage and RPC (unlike an error's own
// fields). final marks a failure that must not be retried; the Workflow ends such a step with a
// failure result rather than Workflows' NonRetryableError (see README.md, "Miniflare facts").
function failure(message, info, final) {
  return new Error(`${message} [saga:${JSON.stringify({ ...info, final })}]`);
}

// classifyStepError turns what step.do threw into {message, kind, status, effect, final} (final:
// not retried), or returns
// null for an error that is not a step failure (the engine pausing or terminating the instance,
// or a fatal engine error): those must propagate.
export function classifyStepError(err) {
  const raw = String(err?.message ?? err);
  const tagged = raw.match(TAG);
  if (tagged) {
    const info = JSON.parse(tagged[1]);
    const message = raw
      .slice(0, tagged.index)
      .replace(/^NonRetryableError:\s*/, "")
      .trim();
    return { ...info, message };
  }
  if (/^(WorkflowTimeoutError: )?Execution timed out after/.test(raw) || err?.name === "WorkflowTimeoutError") {
    return { kind: "timeout", effect: "unknown", message: raw.replace(/^WorkflowTimeoutError:\s*/, "") };
  }
  return null;
}

function snippet(text) {
  const t = text.replace(/\s+/g, " ").trim();
  return t.length > 200 ? t.slice(0, 200) + "…" : t;
}

function parseOutput(res, text) {
  if (text === "") return { output: null };
  if (new TextEncoder().encode(text).length > MAX_OUTPUT_BYTES) return { output: null, output_dropped: `response body over ${MAX_OUTPUT_BYTES} bytes` };
  if ((res.headers.get("content-type") || "").includes("json")) {
    try {
      return { output: JSON.parse(text) };
    } catch {
      return { output: text };
    }
  }
  return { output: text };
}

// callParticipant makes one attempt of a step's action or compensation. It resolves to
// {status, output} on a 2xx and otherwise throws a step failure.
export async function callParticipant({ env, saga, executionId, step, kind, request, timeoutMs, retry, attempt, context }) {
  let path;
  let body;
  try {
    path = renderPath(request.path, context);
    if (request.body !== undefined) body = JSON.stringify(renderBody(request.body, context));
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    throw failure(`cannot build the ${kind} request of step "${step.name}": ${e.message}`, { kind: "template", effect: "rejected" }, true);
  }
  const binding = env[step.service];
  if (!binding || typeof binding.fetch !== "function") {
    throw failure(`service binding ${step.service} is not bound to the saga's Worker`, { kind: "binding", effect: "rejected" }, true);
  }
  const headers = {
    "idempotency-key": `${executionId}:${step.name}:${kind}`,
    accept: "application/json",
    "x-saga-name": saga,
    "x-saga-execution": executionId,
    "x-saga-step": step.name,
    "x-saga-attempt": String(attempt),
  };
  if (body !== undefined) headers["content-type"] = "application/json";

  const signal = AbortSignal.timeout(timeoutMs);
  let res;
  let text;
  try {
    res = await binding.fetch(`https://${step.service.toLowerCase()}.internal${path}`, { method: request.method, headers, body, signal, redirect: "manual" });
    text = await res.text();
  } catch (e) {
    if (signal.aborted) throw failure(`${request.method} ${path} timed out after ${timeoutMs}ms`, { kind: "timeout", effect: "unknown" }, false);
    throw failure(`${request.method} ${path} failed: ${e.message}`, { kind: "network", effect: "unknown" }, false);
  }
  if (res.status >= 200 && res.status < 300) return { status: res.status, ...parseOutput(res, text) };
  const effect = res.status >= 400 && res.status < 500 && res.status !== 409 ? "rejected" : "unknown";
  const nonRetryable = isNonRetryableStatus(res.status, retry);
  throw failure(`${request.method} ${path} answered ${res.status}${text ? ": " + snippet(text) : ""}`, { kind: "http", status: res.status, effect }, nonRetryable);
}
