package edge

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/analytics"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/runtime"
)

const (
	testAccount = "acc00000000000000000000000edge01"
	testToken   = "edge-test-token"
	testZone    = "20ne00000000000000000000000edge1"
)

type testEdge struct {
	api     *localedge.Server
	client  *cloudflare.Client
	edge    *Edge
	url     string
	mu      sync.Mutex
	records []analytics.Invocation
}

func startTestEdge(t testing.TB) *testEdge {
	t.Helper()
	dir := runtime.NodeDir("")
	if err := runtime.CheckInstalled(dir); err != nil {
		t.Skip(err.Error())
	}
	api, err := localedge.New(localedge.Config{AccountID: testAccount, Token: testToken, Zones: map[string]string{testZone: "example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	apiSrv := httptest.NewServer(api)
	te := &testEdge{api: api}
	te.client, err = cloudflare.New(cloudflare.Config{AccountID: testAccount, APIToken: testToken, BaseURL: apiSrv.URL + localedge.APIPrefix})
	if err != nil {
		t.Fatal(err)
	}
	te.edge, err = Start(context.Background(), Config{
		API: api,
		Runtime: runtime.Options{
			PersistDir: t.TempDir(), APIAddress: strings.TrimPrefix(apiSrv.URL, "http://"), APIToken: testToken, AccountID: testAccount,
			DrainDelay: 200 * time.Millisecond,
		},
		Record: func(inv analytics.Invocation) {
			te.mu.Lock()
			defer te.mu.Unlock()
			te.records = append(te.records, inv)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	edgeSrv := httptest.NewServer(te.edge)
	te.url = edgeSrv.URL
	t.Cleanup(func() {
		edgeSrv.Close()
		_ = te.edge.Close()
		apiSrv.Close()
		_ = api.Close()
	})
	return te
}

func (te *testEdge) deploy(t testing.TB, name, body string, workersDev bool) {
	t.Helper()
	code := fmt.Sprintf("export default { async fetch(request, env) { return new Response(%q) } }", body)
	if _, err := te.client.UploadScript(context.Background(), cloudflare.ScriptUpload{
		Name: name, MainModule: "index.js", CompatibilityDate: "2025-01-01",
		Modules: []cloudflare.Module{{Name: "index.js", Content: []byte(code)}},
	}); err != nil {
		t.Fatal(err)
	}
	if workersDev {
		if _, err := te.client.SetScriptSubdomain(context.Background(), name, true, false); err != nil {
			t.Fatal(err)
		}
	}
}

func (te *testEdge) get(host, path string) (int, string, error) {
	req, _ := http.NewRequest(http.MethodGet, te.url+path, nil)
	req.Host = host
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, string(body), err
}

// waitFor polls until the host answers want, within the deadline.
func (te *testEdge) waitFor(t testing.TB, host, want string, deadline time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var last string
	for time.Since(start) < deadline {
		_, body, err := te.get(host, "/")
		if err == nil && body == want {
			return time.Since(start)
		}
		last = fmt.Sprint(body, err)
		time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
	}
	t.Fatalf("%s never answered %q within %s; last answer %q", host, want, deadline, last)
	return 0
}

func TestEdgeServesDeployedWorkers(t *testing.T) {
	te := startTestEdge(t)
	te.deploy(t, "hello", "hello v1", true)
	te.waitFor(t, "hello.localhost", "hello v1", 10*time.Second)

	// A redeploy is live within a second of the API call.
	te.deploy(t, "hello", "hello v2", true)
	if took := te.waitFor(t, "hello.localhost", "hello v2", 5*time.Second); took > 2*time.Second {
		t.Logf("redeploy took %s to go live", took)
	}

	// Routes and custom domains match on the Host header.
	te.deploy(t, "shop", "shop", false)
	if _, err := te.client.CreateRoute(context.Background(), testZone, "shop.example.com/*", "shop"); err != nil {
		t.Fatal(err)
	}
	te.waitFor(t, "shop.example.com", "shop", 5*time.Second)

	status, body, err := te.get("nobody.example.org", "/x")
	if err != nil || status != http.StatusNotFound || !strings.Contains(body, "<li>hello</li>") || !strings.Contains(body, "<li>shop</li>") {
		t.Fatalf("unknown host: %d %q %v", status, body, err)
	}

	te.mu.Lock()
	defer te.mu.Unlock()
	var served int
	for _, r := range te.records {
		if r.Script == "shop" && r.Status == 200 && r.Version != "" {
			served++
		}
	}
	if served == 0 {
		t.Fatalf("no analytics record for shop with a version: %+v", te.records)
	}
}

func TestEdgeIsolatesStartupFailure(t *testing.T) {
	te := startTestEdge(t)
	te.deploy(t, "good", "good", true)
	if _, err := te.client.UploadScript(context.Background(), cloudflare.ScriptUpload{
		Name: "broken", MainModule: "index.js", CompatibilityDate: "2025-01-01",
		Modules: []cloudflare.Module{{Name: "index.js", Content: []byte(`throw new Error("boom at startup"); export default {}`)}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := te.client.SetScriptSubdomain(context.Background(), "broken", true, false); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && te.edge.Failures()["broken"] == "" {
		time.Sleep(20 * time.Millisecond)
	}
	if msg := te.edge.Failures()["broken"]; !strings.Contains(msg, "boom at startup") {
		t.Fatalf("failure of broken: %q", msg)
	}
	te.waitFor(t, "good.localhost", "good", 5*time.Second)
	status, body, err := te.get("broken.localhost", "/")
	if err != nil || status != http.StatusServiceUnavailable || !strings.Contains(body, `Worker "broken" failed to start`) {
		t.Fatalf("broken: %d %q %v", status, body, err)
	}
}

// The GraphQL Analytics endpoint counts exactly the requests the edge served, per version.
func TestEdgeAnalyticsCountRequests(t *testing.T) {
	te := startTestEdge(t)
	te.deploy(t, "counted", "counted", true)
	te.waitFor(t, "counted.localhost", "counted", 10*time.Second) // the first served request
	const more = 25
	for range more {
		if status, _, err := te.get("counted.localhost", "/"); err != nil || status != http.StatusOK {
			t.Fatalf("request: %d %v", status, err)
		}
	}
	query := `{"query":"query($accountTag: string, $scriptName: string) { viewer { accounts(filter: {accountTag: $accountTag}) { workersInvocationsAdaptive(limit: 100, filter: {scriptName: $scriptName}) { sum { requests errors } quantiles { wallTimeP50 wallTimeP99 } dimensions { scriptName scriptVersion } } } } }",
		"variables":{"accountTag":"` + testAccount + `","scriptName":"counted"}}`
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, localedge.APIPrefix+"/graphql", strings.NewReader(query))
	req.Header.Set("Authorization", "Bearer "+testToken)
	te.api.ServeHTTP(rec, req)
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
	if len(rows) != 1 || rows[0].Sum.Requests != more+1 || rows[0].Sum.Errors != 0 || rows[0].Dimensions.ScriptVersion == "" || rows[0].Quantiles.WallTimeP99 <= 0 {
		t.Fatalf("analytics rows %+v, want one version with %d requests", rows, more+1)
	}
}
