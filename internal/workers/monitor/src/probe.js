// One health probe: GET <path> through the service's binding, within its timeout.
//
// The outcome, in order of precedence:
//   fail     no answer within the timeout, the binding threw, the status is not the expected
//            one (expect_status, or any 2xx when unset), or a JSON body reports a failed state
//            ("status": "fail" | "error" | "down" | "unhealthy")
//   partial  the expected status, but a JSON body reports a partial state
//            ("status": "warn" | "degraded")
//   slow     the expected status, but slower than degraded_latency
//   pass     otherwise
// A JSON body is one whose content type mentions json (application/json,
// application/health+json); its top-level "status" is read case-insensitively, as in the
// health check response format for HTTP APIs. Other bodies are not inspected.

export const MAX_BODY_BYTES = 64 * 1024;
export const USER_AGENT = "servicesdo-monitor/1";

const FAILED = new Set(["fail", "error", "down", "unhealthy"]);
const PARTIAL = new Set(["warn", "degraded"]);

class ProbeTimeout extends Error {}

// readBounded reads at most max bytes of a body as text, then cancels the rest.
async function readBounded(response, max) {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size >= max) {
      await reader.cancel().catch(() => {});
      break;
    }
  }
  const bytes = new Uint8Array(Math.min(size, max));
  let at = 0;
  for (const c of chunks) {
    const part = c.subarray(0, bytes.length - at);
    bytes.set(part, at);
    at += part.length;
    if (at >= bytes.length) break;
  }
  return new TextDecoder().decode(bytes);
}

function reportedStatus(response, text) {
  if (!/json/i.test(response.headers.get("content-type") ?? "")) return null;
  try {
    const body = JSON.parse(text);
    return typeof body?.status === "string" ? body.status.toLowerCase() : null;
  } catch {
    return null; // a body that is not the JSON it claims to be says nothing either way
  }
}

// probe returns {outcome, http_status, latency_ms, reason} for one service (compileConfig's
// shape) and never throws.
export async function probe(service, env) {
  const started = Date.now();
  const controller = new AbortController();
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new ProbeTimeout());
    }, service.timeoutMs);
  });
  const elapsed = () => Math.max(0, Date.now() - started);
  try {
    const request = new Request(`https://${service.name}.monitor.internal${service.path}`, {
      method: "GET",
      headers: { "user-agent": USER_AGENT, accept: "application/health+json, application/json;q=0.9, */*;q=0.1", "x-servicesdo-probe": "1" },
      redirect: "manual",
      signal: controller.signal,
    });
    const response = await Promise.race([env[service.binding].fetch(request), deadline]);
    const text = await Promise.race([readBounded(response, MAX_BODY_BYTES), deadline]);
    const latency = elapsed();
    const expected = service.expectStatus === null ? response.status >= 200 && response.status <= 299 : response.status === service.expectStatus;
    const result = (outcome, reason) => ({ outcome, http_status: response.status, latency_ms: latency, reason });
    if (!expected) return result("fail", `status ${response.status}, want ${service.expectStatus ?? "2xx"}`);
    const reported = reportedStatus(response, text);
    if (reported !== null && FAILED.has(reported)) return result("fail", `health endpoint reports status ${JSON.stringify(reported)}`);
    if (reported !== null && PARTIAL.has(reported)) return result("partial", `health endpoint reports status ${JSON.stringify(reported)}`);
    if (latency > service.degradedMs) return result("slow", `latency ${latency} ms over ${service.degradedMs} ms`);
    return result("pass", null);
  } catch (err) {
    if (err instanceof ProbeTimeout) return { outcome: "fail", http_status: null, latency_ms: elapsed(), reason: `timed out after ${service.timeoutMs} ms` };
    const message = String(err?.message ?? err).slice(0, 200);
    return { outcome: "fail", http_status: null, latency_ms: elapsed(), reason: `service binding ${service.binding} failed: ${message}` };
  } finally {
    clearTimeout(timer);
  }
}
