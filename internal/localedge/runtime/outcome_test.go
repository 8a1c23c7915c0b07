package runtime_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/deploy"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/runtime"
)

const outcomeJS = `export default {
  fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/throw") throw new Error("boom");
    if (path === "/reject") return Promise.reject(new TypeError("bad"));
    if (path === "/500") return new Response("handled", { status: 500 });
    return new Response("ok");
  },
};`

// forwardJS forwards every request (headers included) to the SVC binding and says what it got:
// the body, or the exception the binding threw.
const forwardJS = `export default {
  async fetch(request, env) {
    try {
      const r = await env.SVC.fetch(request);
      return new Response(await r.text(), { status: r.status });
    } catch (err) {
      return new Response("caught " + err.message, { status: 502 });
    }
  },
};`

// TestInvocationOutcome: an uncaught exception reaches an edge client as Cloudflare's 500
// "error code: 1101" marked for analytics as an exception; a 500 the Worker returns itself is
// an ordinary response, which Cloudflare counts as a success.
func TestInvocationOutcome(t *testing.T) {
	e := newEnv(t)
	e.apply(deploy.Snapshot{Scripts: []deploy.Script{single("outcome", esVersion(versionID(1), outcomeJS))}})
	for _, path := range []string{"/throw", "/reject"} {
		r, h := e.getWithHeaders("outcome", path)
		if r.status != http.StatusInternalServerError || r.body != "error code: 1101" || h.Get(runtime.OutcomeHeader) != runtime.OutcomeException || r.version != versionID(1) {
			t.Fatalf("%s: %d %q outcome %q version %q", path, r.status, r.body, h.Get(runtime.OutcomeHeader), r.version)
		}
	}
	r, h := e.getWithHeaders("outcome", "/500")
	if r.status != http.StatusInternalServerError || r.body != "handled" || h.Get(runtime.OutcomeHeader) != "" {
		t.Fatalf("/500: %d %q outcome %q", r.status, r.body, h.Get(runtime.OutcomeHeader))
	}
	if r, h := e.getWithHeaders("outcome", "/"); r.status != http.StatusOK || h.Get(runtime.OutcomeHeader) != "" {
		t.Fatalf("/: %d outcome %q", r.status, h.Get(runtime.OutcomeHeader))
	}
}

// TestServiceBindingVersions: a service binding routes by its target's deployment like an edge
// request: the version-override header reaches a version at 0 %, an override naming a version
// outside the deployment is ignored (Cloudflare applies an override only to a version in the
// current deployment), and an exception in the target reaches the caller as an exception, not
// as a response.
func TestServiceBindingVersions(t *testing.T) {
	e := newEnv(t)
	preview := deploy.Script{
		Name:       "split",
		Versions:   []deploy.Version{versioned(1), esVersion(versionID(2), outcomeJS)},
		Deployment: []deploy.Split{{VersionID: versionID(1), Percentage: 100}, {VersionID: versionID(2), Percentage: 0}},
	}
	bind := func(name, target string) deploy.Script {
		return single(name, esVersion(versionID(9), forwardJS, api.Binding{"type": "service", "name": "SVC", "service": target}))
	}
	e.apply(deploy.Snapshot{Scripts: []deploy.Script{preview, single("one", versioned(3)), bind("to-split", "split"), bind("to-one", "one")}})

	override := func(script string, v int) []string {
		return []string{"Cloudflare-Workers-Version-Overrides", script + `="` + versionID(v) + `"`}
	}
	for i := 0; i < 10; i++ {
		if got := e.getOK("to-split", "/"); got != "v1" {
			t.Fatalf("without an override the 0 %% version must not serve: %s", got)
		}
		if got := e.getOK("to-split", "/", override("split", 2)...); got != "ok" {
			t.Fatalf("override to the 0 %% version through a binding: %s", got)
		}
		if got := e.getOK("to-one", "/", override("one", 4)...); got != "v3" {
			t.Fatalf("an override naming a version outside a single-version deployment is ignored: %s", got)
		}
		if got := e.getOK("to-one", "/", override("one", 3)...); got != "v3" {
			t.Fatalf("override naming the only version: %s", got)
		}
	}
	if r := e.get("to-split", "/throw", override("split", 2)...); r.status != http.StatusBadGateway || r.body != "caught boom" {
		t.Fatalf("an exception in the target must reach the caller as an exception: %d %q", r.status, r.body)
	}
}

// getWithHeaders sends a GET for script and returns the reply with the response headers.
func (e *env) getWithHeaders(script, path string) (reply, http.Header) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+e.rt.Address()+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set(runtime.ScriptHeader, script)
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatalf("GET %s%s: %v", script, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return reply{status: resp.StatusCode, body: string(body), version: resp.Header.Get(runtime.VersionHeader)}, resp.Header
}
