package runtime_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/deploy"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/runtime"
)

const (
	testAccount = edgetest.AccountID
	testToken   = edgetest.Token
	compatDate  = "2025-01-01"
)

// requireRuntime skips the test when Node.js or Miniflare is not installed.
func requireRuntime(t *testing.T) {
	t.Helper()
	dir := runtime.NodeDir("")
	if err := runtime.CheckInstalled(dir); err != nil {
		t.Skipf("the Workers runtime is not installed (run `npm ci` in %s): %v", dir, err)
	}
}

// syncBuffer collects the runtime's log; it is printed when a test fails.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is a local edge API served on loopback with a runtime pointed at it.
type env struct {
	t       *testing.T
	api     *localedge.Server
	apiURL  string
	persist string
	log     *syncBuffer
	rt      *runtime.Runtime
}

func newEnv(t *testing.T) *env {
	t.Helper()
	requireRuntime(t)
	edge := edgetest.Start(t)
	e := &env{t: t, api: edge.Server, apiURL: edge.URL, persist: t.TempDir(), log: &syncBuffer{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("runtime log:\n%s", e.log.String())
		}
	})
	e.start()
	return e
}

// start starts a runtime on the env's persist dir (stopped at the end of the test).
func (e *env) start() {
	e.t.Helper()
	begin := time.Now()
	rt, err := runtime.Start(context.Background(), runtime.Options{
		PersistDir: e.persist,
		APIAddress: strings.TrimPrefix(e.apiURL, "http://"),
		APIToken:   testToken,
		AccountID:  testAccount,
		Log:        e.log,
		DrainDelay: 500 * time.Millisecond,
	})
	if err != nil {
		e.t.Fatalf("Start: %v\nlog:\n%s", err, e.log.String())
	}
	e.t.Logf("runtime started in %v", time.Since(begin).Round(time.Millisecond))
	e.rt = rt
	e.t.Cleanup(func() { _ = rt.Close() })
}

func (e *env) apply(snap deploy.Snapshot) runtime.ApplyResult {
	e.t.Helper()
	begin := time.Now()
	res, err := e.rt.Apply(context.Background(), snap)
	if err != nil {
		e.t.Fatalf("Apply: %v", err)
	}
	e.t.Logf("Apply of %d scripts took %v", len(snap.Scripts), time.Since(begin).Round(time.Millisecond))
	return res
}

// apiCall calls the local Cloudflare API and returns the status and body.
func (e *env) apiCall(method, path, contentType string, body []byte) (int, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.apiURL+"/client/v4/accounts/"+testAccount+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// apiResult calls the API, requires success and decodes the envelope's result into v.
func (e *env) apiResult(method, path, contentType string, body []byte, v any) {
	e.t.Helper()
	status, out := e.apiCall(method, path, contentType, body)
	if status != http.StatusOK {
		e.t.Fatalf("%s %s: %d %s", method, path, status, out)
	}
	if v != nil {
		var env struct{ Result json.RawMessage }
		if err := json.Unmarshal(out, &env); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, out)
		}
		if err := json.Unmarshal(env.Result, v); err != nil {
			e.t.Fatalf("%s %s result: %v: %s", method, path, err, env.Result)
		}
	}
}

// reply is a Worker's answer.
type reply struct {
	status  int
	body    string
	version string
}

var client = &http.Client{Timeout: 30 * time.Second}

// send sends a request for script to the runtime's current address.
func (e *env) send(method, script, path string, body []byte, headers ...string) (reply, error) {
	req, err := http.NewRequest(method, "http://"+e.rt.Address()+path, bytes.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	req.Header.Set(runtime.ScriptHeader, script)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{status: resp.StatusCode, body: string(out), version: resp.Header.Get(runtime.VersionHeader)}, nil
}

// get sends a GET for script and requires an answer.
func (e *env) get(script, path string, headers ...string) reply {
	e.t.Helper()
	r, err := e.send(http.MethodGet, script, path, nil, headers...)
	if err != nil {
		e.t.Fatalf("GET %s%s: %v", script, path, err)
	}
	return r
}

// getOK sends a GET for script and requires a 200, returning the body.
func (e *env) getOK(script, path string, headers ...string) string {
	e.t.Helper()
	r := e.get(script, path, headers...)
	if r.status != http.StatusOK {
		e.t.Fatalf("GET %s%s: %d %s", script, path, r.status, r.body)
	}
	return r.body
}

// esVersion is a version made of one ES module.
func esVersion(id, src string, bindings ...api.Binding) deploy.Version {
	return deploy.Version{
		ID: id, MainModule: "index.js", CompatibilityDate: compatDate, Bindings: bindings,
		Modules: []deploy.Module{{Name: "index.js", ContentType: "application/javascript+module", Content: []byte(src)}},
	}
}

// single is a script whose one version serves all traffic.
func single(name string, v deploy.Version) deploy.Script {
	return deploy.Script{Name: name, Versions: []deploy.Version{v}, Deployment: []deploy.Split{{VersionID: v.ID, Percentage: 100}}}
}

// versionID makes a version id in Cloudflare's format from a small number.
func versionID(n int) string { return fmt.Sprintf("%08x-0000-4000-8000-000000000000", n) }

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kvBinding binds the KV namespace as env.KV.
func kvBinding(namespaceID string) api.Binding {
	return api.Binding{"type": "kv_namespace", "name": "KV", "namespace_id": namespaceID}
}
