// Stands in for a Worker that a binding names but that is not running (not deployed, or it
// failed to start): every request gets a 503 saying so.
export default {
  fetch(request, env) {
    return Response.json(
      { success: false, errors: [{ code: 10503, message: `Worker "${env.TARGET}" is not running on the local edge` }] },
      { status: 503 },
    );
  },
};
