// Entry worker: the first Worker of the Miniflare instance, so it owns the instance's port.
// The Go edge has already matched the request's host/route to a script and names it in the
// x-servicesdo-script header; this Worker strips the header and hands the request to that
// script's router (its FromEdge entrypoint, which answers for a Worker that throws as
// Cloudflare answers the client). env.ROUTERS maps script name → name of the service binding
// to its router.
const SCRIPT_HEADER = "x-servicesdo-script";

export default {
  async fetch(request, env) {
    const script = request.headers.get(SCRIPT_HEADER);
    const binding = script === null ? undefined : env.ROUTERS[script];
    if (binding === undefined) {
      const error = script === null ? `missing ${SCRIPT_HEADER} header` : `no Worker named "${script}" is deployed`;
      return Response.json({ success: false, errors: [{ code: 10007, message: error }] }, { status: 404 });
    }
    const headers = new Headers(request.headers);
    headers.delete(SCRIPT_HEADER);
    return env[binding].fetch(new Request(request, { headers }));
  },
};
