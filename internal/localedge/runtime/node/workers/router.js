// Router worker of one script: picks the version that serves a request, as Cloudflare does for
// a deployment split, and tags the response with x-servicesdo-version.
//
// env.CONFIG = { script, versions: [{ id, percentage, binding }] } in deployment order;
// env[binding] is the service binding to that version's Worker.
//
// Edge requests come in through the FromEdge entrypoint (the entry worker binds it), service
// bindings through the default export. For an edge request whose Worker throws, the router
// answers as Cloudflare answers the client, 500 "error code: 1101", tagged with
// x-servicesdo-outcome: exception so that analytics count a scriptThrewException (a 500 the
// Worker returns itself is a success to Cloudflare's analytics). Over a service binding the
// exception reaches the caller as an exception, as on Cloudflare.
//
// A request with x-servicesdo-trigger: scheduled runs the picked version's scheduled handler
// instead (a cron trigger; x-servicesdo-cron and x-servicesdo-scheduled-time, Unix ms, say which
// and when) and answers its outcome as JSON ({"outcome":"ok","noRetry":false}).
//
// A request with x-servicesdo-trigger: queue runs the picked version's queue handler on the batch
// in its JSON body ({queue, messages: [{id, timestamp (Unix ms), contentType, body, attempts}]})
// and answers workerd's result as JSON ({outcome, ackAll, retryBatch, explicitAcks, retryMessages}).
//
// Order of precedence:
//   1. Cloudflare-Workers-Version-Overrides: <script>="<version id>" naming a deployed version
//      (also one at 0 %);
//   2. Cloudflare-Workers-Version-Key: the key is hashed to a bucket 0..99, mapped through the
//      cumulative percentages (the same key always lands on the same version);
//   3. otherwise a uniform random draw weighted by percentage.
import { WorkerEntrypoint } from "cloudflare:workers";

const VERSION_HEADER = "x-servicesdo-version";
const OUTCOME_HEADER = "x-servicesdo-outcome";
const TRIGGER_HEADER = "x-servicesdo-trigger";

export default {
  fetch(request, env) {
    return route(request, env, false);
  },
};

export class FromEdge extends WorkerEntrypoint {
  fetch(request) {
    return route(request, this.env, true);
  }
}

async function route(request, env, fromEdge) {
  const version = pick(request, env.CONFIG);
  if (request.headers.get(TRIGGER_HEADER) === "scheduled") {
    const time = Number(request.headers.get("x-servicesdo-scheduled-time"));
    const result = await env[version.binding].scheduled({
      scheduledTime: Number.isFinite(time) && time > 0 ? new Date(time) : new Date(),
      cron: request.headers.get("x-servicesdo-cron") ?? "",
    });
    return tagged(Response.json(result), version.id);
  }
  if (request.headers.get(TRIGGER_HEADER) === "queue") {
    const { queue, messages } = await request.json();
    const result = await env[version.binding].queue(queue, messages.map(queueMessage));
    return tagged(Response.json(result), version.id);
  }
  if (!fromEdge) return tagged(await env[version.binding].fetch(request), version.id);
  let response;
  try {
    response = await env[version.binding].fetch(request);
  } catch (err) {
    console.error(`local edge: ${env.CONFIG.script} version ${version.id} threw: ${err && err.stack ? err.stack : err}`);
    response = new Response("error code: 1101", { status: 500, headers: { "content-type": "text/plain; charset=UTF-8", [OUTCOME_HEADER]: "exception" } });
  }
  return tagged(response, version.id);
}

// queueMessage is one message as the queue handler sees it: json bodies as their value, text as
// the string, bytes as a Uint8Array.
function queueMessage({ id, timestamp, contentType, body, attempts }) {
  let value = body;
  if (contentType === "bytes" || contentType === "v8") value = Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
  return { id, timestamp: new Date(timestamp), body: value, attempts };
}

function pick(request, { script, versions }) {
  const overrides = request.headers.get("Cloudflare-Workers-Version-Overrides");
  if (overrides) {
    // A structured-header dictionary: name="value", comma separated.
    for (const [, name, id] of overrides.matchAll(/([A-Za-z0-9_-]+)\s*=\s*"([^"]*)"/g)) {
      const v = name === script && versions.find((v) => v.id === id);
      if (v) return v;
    }
  }
  const key = request.headers.get("Cloudflare-Workers-Version-Key");
  const point = key ? fnv1a(key) % 100 : Math.random() * 100;
  let upper = 0;
  for (const v of versions) {
    upper += v.percentage;
    if (point < upper) return v;
  }
  // Rounding (percentages summing to 99.99…) or only 0 % versions left: the largest serves.
  return versions.reduce((a, b) => (b.percentage > a.percentage ? b : a));
}

// 32-bit FNV-1a of the UTF-8 bytes of s.
function fnv1a(s) {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(s)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function tagged(response, versionId) {
  if (response.webSocket) {
    // A WebSocket upgrade (101) cannot be rebuilt with a body; keep the socket.
    const headers = new Headers(response.headers);
    headers.set(VERSION_HEADER, versionId);
    return new Response(null, { status: response.status, statusText: response.statusText, headers, webSocket: response.webSocket });
  }
  const out = new Response(response.body, response);
  out.headers.set(VERSION_HEADER, versionId);
  return out;
}
