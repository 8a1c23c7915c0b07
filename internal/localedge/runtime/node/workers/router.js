// Router worker of one script: picks the version that serves a request, as Cloudflare does for
// a deployment split, and tags the response with x-servicesdo-version.
//
// env.CONFIG = { script, versions: [{ id, percentage, binding }] } in deployment order;
// env[binding] is the service binding to that version's Worker.
//
// A request with x-servicesdo-trigger: scheduled runs the picked version's scheduled handler
// instead (a cron trigger; x-servicesdo-cron and x-servicesdo-scheduled-time, Unix ms, say which
// and when) and answers its outcome as JSON ({"outcome":"ok","noRetry":false}).
//
// Order of precedence:
//   1. Cloudflare-Workers-Version-Overrides: <script>="<version id>" naming a deployed version
//      (also one at 0 %);
//   2. Cloudflare-Workers-Version-Key: the key is hashed to a bucket 0..99, mapped through the
//      cumulative percentages (the same key always lands on the same version);
//   3. otherwise a uniform random draw weighted by percentage.
const VERSION_HEADER = "x-servicesdo-version";
const TRIGGER_HEADER = "x-servicesdo-trigger";

export default {
  async fetch(request, env) {
    const version = pick(request, env.CONFIG);
    if (request.headers.get(TRIGGER_HEADER) === "scheduled") {
      const time = Number(request.headers.get("x-servicesdo-scheduled-time"));
      const result = await env[version.binding].scheduled({
        scheduledTime: Number.isFinite(time) && time > 0 ? new Date(time) : new Date(),
        cron: request.headers.get("x-servicesdo-cron") ?? "",
      });
      return tagged(Response.json(result), version.id);
    }
    const response = await env[version.binding].fetch(request);
    return tagged(response, version.id);
  },
};

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
