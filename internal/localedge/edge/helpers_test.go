package edge_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

// env is a local edge with the Workers runtime and a client of its API.
type env struct {
	*edgetest.Env
	client *cloudflare.Client
	ctx    context.Context
}

func newEnv(t testing.TB, adjust ...func(*edge.Config)) *env {
	t.Helper()
	e := edgetest.Start(t, edgetest.WithWorkers(adjust...))
	client, err := cloudflare.New(cloudflare.Config{AccountID: edgetest.AccountID, APIToken: edgetest.Token, BaseURL: e.BaseURL, MaxRetries: 0})
	if err != nil {
		t.Fatal(err)
	}
	return &env{Env: e, client: client, ctx: context.Background()}
}

// worker is a module Worker answering body to every request.
func worker(body string) string {
	return fmt.Sprintf("export default { async fetch(request, env) { return new Response(%q) } }", body)
}

// upload uploads one ES module as the script's index.js.
func (e *env) upload(name, code string, bindings ...cloudflare.Binding) (cloudflare.Script, error) {
	return e.client.UploadScript(e.ctx, cloudflare.ScriptUpload{
		Name: name, MainModule: "index.js", CompatibilityDate: "2025-01-01", Bindings: bindings,
		Modules: []cloudflare.Module{{Name: "index.js", Content: []byte(code)}},
	})
}

// deploy uploads a Worker answering body, on workers.dev when asked.
func (e *env) deploy(t testing.TB, name, body string, workersDev bool) {
	t.Helper()
	if _, err := e.upload(name, worker(body)); err != nil {
		t.Fatal(err)
	}
	if workersDev {
		if _, err := e.client.SetScriptSubdomain(e.ctx, name, true, false); err != nil {
			t.Fatal(err)
		}
	}
}

// want fails unless the first request for host answers status and body: no polling, the
// API acknowledged the change only once the edge served it.
func (e *env) want(t testing.TB, host, path string, status int, body string) {
	t.Helper()
	if gotStatus, got := e.Get(host, path); gotStatus != status || got != body {
		t.Fatalf("%s%s answered %d %q, want %d %q", host, path, gotStatus, got, status, body)
	}
}
