package edge_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/analytics"
)

const outcomeJS = `export default {
  fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/throw") throw new Error("boom");
    if (path === "/500") return new Response("handled", { status: 500 });
    return new Response("ok");
  },
};`

// The edge counts invocations as Cloudflare does: an uncaught exception is an error (the
// client gets Cloudflare's 500 "error code: 1101"), a 500 the Worker returns is a success.
func TestEdgeCountsErrorsAsCloudflare(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	script, err := e.upload("outcome", outcomeJS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.SetScriptSubdomain(e.ctx, "outcome", true, false); err != nil {
		t.Fatal(err)
	}
	from := e.Clock.Now()
	e.want(t, "outcome.localhost", "/throw", http.StatusInternalServerError, "error code: 1101")
	e.want(t, "outcome.localhost", "/500", http.StatusInternalServerError, "handled")
	e.want(t, "outcome.localhost", "/", http.StatusOK, "ok")

	statuses := map[string]int{}
	for _, r := range e.Records() {
		if r.Script == "outcome" {
			statuses[analytics.InvocationStatus(r)]++
		}
	}
	if statuses[analytics.StatusScriptThrewException] != 1 || statuses[analytics.StatusSuccess] != 2 || len(statuses) != 2 {
		t.Fatalf("statuses = %v", statuses)
	}
	deps, err := e.client.ListDeployments(e.ctx, script.Name)
	if err != nil || len(deps) == 0 {
		t.Fatalf("deployments: %v %v", deps, err)
	}
	version := deps[0].Versions[0].VersionID
	stats, err := e.client.VersionStats(e.ctx, cloudflare.VersionStatsQuery{Script: "outcome", Versions: []string{version}, From: from, To: from.Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if s := stats[version]; s.Requests != 3 || s.Errors != 1 {
		t.Fatalf("GraphQL stats of %s = %+v (all: %v)", version, s, stats)
	}
}
