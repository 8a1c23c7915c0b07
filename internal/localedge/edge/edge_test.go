package edge_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

func TestEdgeServesDeployedWorkers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.deploy(t, "hello", "hello v1", true)
	e.want(t, "hello.localhost", "/", http.StatusOK, "hello v1")
	e.deploy(t, "hello", "hello v2", true)
	e.want(t, "hello.localhost", "/", http.StatusOK, "hello v2")

	// Routes and custom domains match on the Host header.
	e.deploy(t, "shop", "shop", false)
	if _, err := e.client.CreateRoute(e.ctx, edgetest.ZoneID, "shop.example.com/*", "shop"); err != nil {
		t.Fatal(err)
	}
	e.want(t, "shop.example.com", "/cart", http.StatusOK, "shop")

	status, body := e.Get("nobody.example.org", "/x")
	if status != http.StatusNotFound || !strings.Contains(body, "<li>hello</li>") || !strings.Contains(body, "<li>shop</li>") {
		t.Fatalf("unknown host: %d %q", status, body)
	}
	served := 0
	for _, r := range e.Records() {
		if r.Script == "shop" && r.Status == 200 && r.Version != "" {
			served++
		}
	}
	if served != 1 {
		t.Fatalf("%d analytics records of shop with a version, want 1: %+v", served, e.Records())
	}
}

const rywJS = `export default { fetch(request, env) { return new Response([env.GREETING, env.TOKEN ?? "-"].join("|")) } }`

const counterJS = `
import { DurableObject } from "cloudflare:workers";
export class Counter extends DurableObject {
  async fetch() {
    const n = ((await this.ctx.storage.get("n")) ?? 0) + 1;
    await this.ctx.storage.put("n", n);
    return new Response("count " + n);
  }
}
export default { fetch(request, env) { return env.COUNTER.get(env.COUNTER.idFromName("a")).fetch(request); } };`

// Every write that changes what the edge runs is acknowledged only once the edge serves it:
// the first request after the API call sees the change, without polling.
func TestEdgeReadYourWrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	greeting := func(v string) cloudflare.Binding {
		return cloudflare.Binding{Type: "plain_text", Name: "GREETING", Text: v}
	}
	if _, err := e.upload("ryw", rywJS, greeting("v1")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.SetScriptSubdomain(e.ctx, "ryw", true, false); err != nil {
		t.Fatal(err)
	}
	e.want(t, "ryw.localhost", "/", http.StatusOK, "v1|-")

	if _, err := e.client.EditScriptSettings(e.ctx, "ryw", cloudflare.ScriptSettingsPatch{Bindings: []cloudflare.Binding{greeting("v2")}}); err != nil {
		t.Fatal(err)
	}
	e.want(t, "ryw.localhost", "/", http.StatusOK, "v2|-")

	if err := e.client.PutSecret(e.ctx, "ryw", "TOKEN", "s1"); err != nil {
		t.Fatal(err)
	}
	e.want(t, "ryw.localhost", "/", http.StatusOK, "v2|s1")
	if err := e.client.DeleteSecret(e.ctx, "ryw", "TOKEN"); err != nil {
		t.Fatal(err)
	}
	e.want(t, "ryw.localhost", "/", http.StatusOK, "v2|-")

	// A version upload moves no traffic; its deployment does.
	v, err := e.client.UploadVersion(e.ctx, cloudflare.VersionUpload{
		Script: "ryw", MainModule: "index.js", CompatibilityDate: "2025-01-01", Bindings: []cloudflare.Binding{greeting("v3")},
		Modules: []cloudflare.Module{{Name: "index.js", Content: []byte(rywJS)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.want(t, "ryw.localhost", "/", http.StatusOK, "v2|-")
	if _, err := e.client.CreateDeployment(e.ctx, "ryw", []cloudflare.DeploymentVersion{{VersionID: v.ID, Percentage: 100}}, "", false); err != nil {
		t.Fatal(err)
	}
	e.want(t, "ryw.localhost", "/", http.StatusOK, "v3|-")

	// A Durable Object migration and its binding.
	if _, err := e.client.UploadScript(e.ctx, cloudflare.ScriptUpload{
		Name: "ryw", MainModule: "index.js", CompatibilityDate: "2025-01-01",
		Modules:   []cloudflare.Module{{Name: "index.js", Content: []byte(counterJS)}},
		Bindings:  []cloudflare.Binding{{Type: "durable_object_namespace", Name: "COUNTER", ClassName: "Counter"}},
		Migration: &cloudflare.Migration{NewTag: "v1", NewSqliteClasses: []string{"Counter"}},
	}); err != nil {
		t.Fatal(err)
	}
	e.want(t, "ryw.localhost", "/", http.StatusOK, "count 1")

	// Routing: a zone route, a custom domain, the workers.dev toggle.
	if _, err := e.client.CreateRoute(e.ctx, edgetest.ZoneID, "ryw.example.com/*", "ryw"); err != nil {
		t.Fatal(err)
	}
	e.want(t, "ryw.example.com", "/", http.StatusOK, "count 2")
	if _, err := e.client.AttachDomain(e.ctx, "app.example.com", "ryw", edgetest.ZoneID); err != nil {
		t.Fatal(err)
	}
	e.want(t, "app.example.com", "/", http.StatusOK, "count 3")
	if _, err := e.client.SetScriptSubdomain(e.ctx, "ryw", false, false); err != nil {
		t.Fatal(err)
	}
	if status, _ := e.Get("ryw.localhost", "/"); status != http.StatusNotFound {
		t.Fatalf("workers.dev still serves after it was turned off: %d", status)
	}
}

// Deploys made together share the runtime's applies (each builds a Miniflare instance).
func TestEdgeConcurrentDeploysShareApplies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 10
	before := e.Edge.Applies()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			name := fmt.Sprintf("burst%d", i)
			if _, err := e.upload(name, worker(name)); err != nil {
				errs <- err
				return
			}
			if _, err := e.client.SetScriptSubdomain(e.ctx, name, true, false); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range n {
		name := fmt.Sprintf("burst%d", i)
		e.want(t, name+".localhost", "/", http.StatusOK, name)
	}
	// 20 writes (an upload and a workers.dev toggle per script).
	if applies := e.Edge.Applies() - before; applies > 8 {
		t.Fatalf("%d writes cost %d applies; deploys waiting together must share one", 2*n, applies)
	} else {
		t.Logf("%d writes cost %d applies", 2*n, applies)
	}
}

// A deploy acknowledged while the edge starts is served once it has started: the edge
// follows the API before it reads the deployments it starts with.
func TestEdgeStartCatchesUpWithDeploysMadeWhileStarting(t *testing.T) {
	t.Parallel()
	e := edgetest.Start(t)
	client, err := cloudflare.New(cloudflare.Config{AccountID: edgetest.AccountID, APIToken: edgetest.Token, BaseURL: e.BaseURL})
	if err != nil {
		t.Fatal(err)
	}
	upload := func(n int) error {
		_, err := client.UploadScript(e.T.Context(), cloudflare.ScriptUpload{
			Name: "race", MainModule: "index.js", CompatibilityDate: "2025-01-01",
			Modules: []cloudflare.Module{{Name: "index.js", Content: []byte(worker(fmt.Sprintf("v%d", n)))}},
		})
		return err
	}
	if err := upload(0); err != nil {
		t.Fatal(err)
	}
	if _, err := client.SetScriptSubdomain(e.T.Context(), "race", true, false); err != nil {
		t.Fatal(err)
	}
	var last atomic.Int64
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		for n := 1; ; n++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if err := upload(n); err != nil {
				done <- err
				return
			}
			last.Store(int64(n))
		}
	}()
	e.StartWorkers()
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if last.Load() == 0 {
		t.Fatal("no deploy was made while the edge started; the test proves nothing")
	}
	want := fmt.Sprintf("v%d", last.Load())
	if status, body := e.Get("race.localhost", "/"); status != http.StatusOK || body != want {
		t.Fatalf("after %d deploys during the start, the edge serves %d %q, want %q", last.Load(), status, body, want)
	}
}

// Uploads are loaded in the runtime before they are acknowledged, as Cloudflare does: code
// that does not load is refused with 10021 and the runtime's message, and the version that
// was serving goes on serving.
func TestEdgeRejectsUploadsTheRuntimeCannotLoad(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.deploy(t, "guarded", "good", true)
	cases := []struct {
		name, code string
		bindings   []cloudflare.Binding
		migration  *cloudflare.Migration
		want       string
	}{
		{name: "syntax error", code: `export default { fetch( { return new Response("x") } }`, want: "SyntaxError"},
		{name: "throws at startup", code: `throw new Error("boom at startup"); export default {}`, want: "boom at startup"},
		{
			name: "Durable Object class not exported", code: worker("no class"),
			bindings:  []cloudflare.Binding{{Type: "durable_object_namespace", Name: "GHOST", ClassName: "Ghost"}},
			migration: &cloudflare.Migration{NewTag: "v1", NewSqliteClasses: []string{"Ghost"}}, want: "Ghost",
		},
	}
	for _, c := range cases {
		_, err := e.client.UploadScript(e.ctx, cloudflare.ScriptUpload{
			Name: "guarded", MainModule: "index.js", CompatibilityDate: "2025-01-01", Bindings: c.bindings, Migration: c.migration,
			Modules: []cloudflare.Module{{Name: "index.js", Content: []byte(c.code)}},
		})
		var cfErr *cloudflare.Error
		if !errors.As(err, &cfErr) || cfErr.Status != http.StatusBadRequest || cfErr.Code != 10021 || !strings.Contains(cfErr.Message, c.want) {
			t.Fatalf("%s: upload answered %v, want 400 10021 mentioning %q", c.name, err, c.want)
		}
		e.want(t, "guarded.localhost", "/", http.StatusOK, "good")
	}
	// Nothing of the refused uploads was stored: no version, no migration.
	versions, err := e.client.ListVersions(e.ctx, "guarded")
	if err != nil || len(versions) != 1 {
		t.Fatalf("versions after refused uploads: %d, %v", len(versions), err)
	}
	if nss, err := e.client.ListDONamespaces(e.ctx); err != nil || len(nss) != 0 {
		t.Fatalf("Durable Object namespaces after a refused migration: %+v, %v", nss, err)
	}
}

const cronJS = `
export default {
  fetch() { return new Response("fetch") },
  async scheduled(controller, env) {
    await env.KV.put("last", controller.cron + "|" + controller.scheduledTime);
  },
};`

// Cron triggers run the scheduled handler on the clock, and one can be fired by hand.
func TestEdgeCronTriggers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ns, err := e.client.CreateKVNamespace(e.ctx, "crons")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.upload("cron", cronJS, cloudflare.Binding{Type: "kv_namespace", Name: "KV", NamespaceID: ns.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.SetSchedules(e.ctx, "cron", []string{"*/5 * * * *"}); err != nil {
		t.Fatal(err)
	}
	last := func() string {
		v, err := e.client.GetKVValue(e.ctx, ns.ID, "last")
		if err != nil && !cloudflare.IsNotFound(err) {
			t.Fatal(err)
		}
		return string(v)
	}
	start := e.Clock.Now() // 03:04:05: the trigger is next due at 03:05:00
	if got := last(); got != "" {
		t.Fatalf("the handler ran before its time: %q", got)
	}
	e.Clock.Advance(5 * time.Minute)
	run, ok := e.NextScheduled(30 * time.Second)
	if !ok {
		t.Fatal("the cron trigger did not run within 30 s of its time")
	}
	due := start.Truncate(5 * time.Minute).Add(5 * time.Minute)
	if run.Script != "cron" || run.Cron != "*/5 * * * *" || !run.At.Equal(due) || run.Outcome != "ok" || run.Err != nil {
		t.Fatalf("scheduled run %+v, want cron at %s with outcome ok", run, due)
	}
	if got, want := last(), fmt.Sprintf("*/5 * * * *|%d", due.UnixMilli()); got != want {
		t.Fatalf("the handler wrote %q, want %q", got, want)
	}
	if _, ok := e.NextScheduled(100 * time.Millisecond); ok {
		t.Fatal("one activation ran twice")
	}

	// Fire one now, as `wrangler dev --test-scheduled` does.
	if status, _ := e.Get("cron.localhost", "/__scheduled?cron=manual"); status != http.StatusNotFound {
		t.Fatalf("a script not on workers.dev fired through workers.dev: %d", status)
	}
	if _, err := e.client.SetScriptSubdomain(e.ctx, "cron", true, false); err != nil {
		t.Fatal(err)
	}
	e.want(t, "cron.localhost", "/__scheduled?cron=1+2+*+*+*&time=1700000000000", http.StatusOK, "ok\n")
	if got := last(); got != "1 2 * * *|1700000000000" {
		t.Fatalf("the handler fired by hand wrote %q", got)
	}
}

// A fresh edge has a workers.dev subdomain, so a Worker's workers.dev address serves.
func TestEdgeWorkersDevAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.deploy(t, "site", "site", true)
	sub, err := e.client.GetAccountSubdomain(e.ctx)
	if err != nil || sub != localedge.DefaultWorkersSubdomain {
		t.Fatalf("account subdomain %q, %v", sub, err)
	}
	e.want(t, "site."+sub+".workers.dev", "/", http.StatusOK, "site")
	e.want(t, "site.localhost:8787", "/", http.StatusOK, "site")
	status, body, err := e.putSubdomain("acme")
	if err != nil || status != http.StatusOK {
		t.Fatalf("changing the subdomain: %d %s %v", status, body, err)
	}
	e.want(t, "site.acme.workers.dev", "/", http.StatusOK, "site")
	if status, _ := e.Get("site."+sub+".workers.dev", "/"); status != http.StatusNotFound {
		t.Fatalf("the old workers.dev address still serves: %d", status)
	}
}

func (e *env) putSubdomain(name string) (int, string, error) {
	status, _, body := e.Raw(http.MethodPut, "/accounts/"+edgetest.AccountID+"/workers/subdomain", http.Header{"Content-Type": {"application/json"}},
		strings.NewReader(`{"subdomain":"`+name+`"}`))
	return status, string(body), nil
}

// The GraphQL Analytics endpoint counts exactly the requests the edge served, per version.
func TestEdgeAnalyticsCountRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.deploy(t, "counted", "counted", true)
	const requests = 26
	for range requests {
		e.want(t, "counted.localhost", "/", http.StatusOK, "counted")
	}
	query := `{"query":"query($accountTag: string, $scriptName: string) { viewer { accounts(filter: {accountTag: $accountTag}) { workersInvocationsAdaptive(limit: 100, filter: {scriptName: $scriptName}) { sum { requests errors } quantiles { wallTimeP50 wallTimeP99 } dimensions { scriptName scriptVersion } } } } }",
		"variables":{"accountTag":"` + edgetest.AccountID + `","scriptName":"counted"}}`
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, localedge.APIPrefix+"/graphql", strings.NewReader(query))
	req.Header.Set("Authorization", "Bearer "+edgetest.Token)
	e.Server.ServeHTTP(rec, req)
	var out struct {
		Data struct {
			Viewer struct {
				Accounts []struct {
					Rows []struct {
						Sum        struct{ Requests, Errors int }
						Quantiles  struct{ WallTimeP50, WallTimeP99 float64 }
						Dimensions struct{ ScriptName, ScriptVersion string }
					} `json:"workersInvocationsAdaptive"`
				}
			}
		}
		Errors any
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Errors != nil || len(out.Data.Viewer.Accounts) != 1 {
		t.Fatalf("graphql: %v %s", err, rec.Body.String())
	}
	rows := out.Data.Viewer.Accounts[0].Rows
	if len(rows) != 1 || rows[0].Sum.Requests != requests || rows[0].Sum.Errors != 0 || rows[0].Dimensions.ScriptVersion == "" || rows[0].Quantiles.WallTimeP99 <= 0 {
		t.Fatalf("analytics rows %+v, want one version with %d requests", rows, requests)
	}
}
