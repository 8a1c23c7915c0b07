package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
)

const deployAddress = "servicesdo_deployment.test"

// rolloutEnv is one rollout test's world: a local edge running Workers, one service on it
// (reachable at <name>.localhost through the edge) and the versions the test uploaded.
type rolloutEnv struct {
	*testEdge
	t       *testing.T
	name    string
	edgeURL string
	// probeURL is the service's address for probes: http://<name>.localhost:<edge port>.
	probeURL string
	stable   string
}

// Worker behaviours a version can have; each version answers its own body.
const (
	healthy   = ""
	throws5   = `if (n % 20 === 0) throw new Error("canary failure");`
	returns5  = `if (n % 20 === 0) return new Response("canary failure", { status: 500 });`
	slow300ms = `await new Promise((resolve) => setTimeout(resolve, 300));`
)

// versionCode is a Worker that answers body; behaviour runs first with n, the count of
// requests for the same path in this isolate (so "every 20th request" is exact per path).
func versionCode(body, behaviour string) string {
	return fmt.Sprintf(`const counts = {};
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    const n = (counts[path] = (counts[path] ?? 0) + 1);
    %s
    return new Response(%q);
  },
};
`, behaviour, body)
}

// newRolloutEnv starts an edge with Workers and deploys the service's first version ("v1").
func newRolloutEnv(t *testing.T, prefix string) *rolloutEnv {
	t.Helper()
	edge := newTestEdge(t)
	url := edge.startWorkers(t)
	e := &rolloutEnv{testEdge: edge, t: t, name: uniqueName(prefix), edgeURL: url}
	e.probeURL = "http://" + e.name + ".localhost:" + url[strings.LastIndex(url, ":")+1:]
	ctx := context.Background()
	if _, err := edge.client.UploadScript(ctx, cloudflare.ScriptUpload{
		Name: e.name, MainModule: "index.js", CompatibilityDate: "2025-01-01",
		Modules: []cloudflare.Module{{Name: "index.js", Content: []byte(versionCode("v1", healthy))}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := edge.client.SetScriptSubdomain(ctx, e.name, true, false); err != nil {
		t.Fatal(err)
	}
	e.stable = e.liveVersions()[0]
	return e
}

// upload uploads a version (without deploying it) and returns its id.
func (e *rolloutEnv) upload(body, behaviour string) string {
	e.t.Helper()
	v, err := e.client.UploadVersion(context.Background(), cloudflare.VersionUpload{
		Script: e.name, MainModule: "index.js", CompatibilityDate: "2025-01-01",
		Modules: []cloudflare.Module{{Name: "index.js", Content: []byte(versionCode(body, behaviour))}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return v.ID
}

// config renders the deployment with extra attributes (version_id among them).
func (e *rolloutEnv) config(extra string) string {
	return e.providerBlock("") + fmt.Sprintf(`
resource "servicesdo_deployment" "test" {
  service = %q
  %s
}
`, e.name, extra)
}

// active is the service's active deployment.
func (e *rolloutEnv) active() cloudflare.Deployment {
	e.t.Helper()
	d, found, err := e.client.ActiveDeployment(context.Background(), e.name)
	if err != nil || !found {
		e.t.Fatalf("active deployment: %v (found %v)", err, found)
	}
	return d
}

func (e *rolloutEnv) liveVersions() []string {
	var out []string
	for _, v := range e.active().Versions {
		out = append(out, v.VersionID)
	}
	return out
}

// checkLive fails unless the active deployment is exactly the split (version, percent pairs).
func (e *rolloutEnv) checkLive(split ...any) func(*terraform.State) error {
	return func(*terraform.State) error {
		d := e.active()
		var got []string
		for _, v := range d.Versions {
			got = append(got, fmt.Sprintf("%s=%v", v.VersionID, v.Percentage))
		}
		var want []string
		for i := 0; i+1 < len(split); i += 2 {
			want = append(want, fmt.Sprintf("%s=%v", split[i], split[i+1]))
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			return fmt.Errorf("active deployment %s is %v (%q), want %v", d.ID, got, d.Message, want)
		}
		return nil
	}
}

// get sends a request for the service through the edge.
func (e *rolloutEnv) get(path string, header ...string) (int, string) {
	req, _ := http.NewRequest(http.MethodGet, e.edgeURL+path, nil)
	req.Host = e.name + ".localhost"
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// answers checks that 30 requests with the headers all answer 200 with body want.
func (e *rolloutEnv) answers(header []string, want string) func(*terraform.State) error {
	return func(*terraform.State) error {
		for i := 0; i < 30; i++ {
			if status, body := e.get("/", header...); status != 200 || body != want {
				return fmt.Errorf("request %d (headers %v) answered %d %q, want %q", i, header, status, body, want)
			}
		}
		return nil
	}
}

// override is the version-override header that sends a request to version.
func (e *rolloutEnv) override(version string) []string {
	return []string{"Cloudflare-Workers-Version-Overrides", fmt.Sprintf("%s=%q", e.name, version)}
}

// answered is one response the load generator saw.
type answered struct {
	sent, received time.Time
	status         int
	body           string
}

// loadGen sends steady traffic to the service while a rollout runs.
type loadGen struct {
	mu      sync.Mutex
	answers []answered
	stop    chan struct{}
	done    sync.WaitGroup
}

// startLoad sends about rps requests a second (from a few workers) until the test ends.
func (e *rolloutEnv) startLoad(rps int) *loadGen {
	g := &loadGen{stop: make(chan struct{})}
	const workers = 4
	interval := time.Duration(workers) * time.Second / time.Duration(rps)
	client := &http.Client{Timeout: 10 * time.Second}
	for w := 0; w < workers; w++ {
		g.done.Add(1)
		go func() {
			defer g.done.Done()
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for {
				select {
				case <-g.stop:
					return
				case <-tick.C:
				}
				req, _ := http.NewRequest(http.MethodGet, e.edgeURL+"/", nil)
				req.Host = e.name + ".localhost"
				a := answered{sent: time.Now()}
				if res, err := client.Do(req); err == nil {
					body, _ := io.ReadAll(res.Body)
					_ = res.Body.Close()
					a.status, a.body = res.StatusCode, string(body)
				}
				a.received = time.Now()
				g.mu.Lock()
				g.answers = append(g.answers, a)
				g.mu.Unlock()
			}
		}()
	}
	e.t.Cleanup(g.halt)
	return g
}

func (g *loadGen) halt() {
	select {
	case <-g.stop:
	default:
		close(g.stop)
	}
	g.done.Wait()
}

// share is the fraction of answers sent and received within [from, to) whose body is body,
// and how many answers that is.
func (g *loadGen) share(body string, from, to time.Time) (float64, int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n, hit := 0, 0
	for _, a := range g.answers {
		if a.sent.Before(from) || !a.received.Before(to) || a.status == 0 {
			continue
		}
		n++
		if a.body == body {
			hit++
		}
	}
	if n == 0 {
		return 0, 0
	}
	return float64(hit) / float64(n), n
}

// webhook is a test endpoint for rollout events: it records them in order, with their headers.
type webhook struct {
	url    string
	mu     sync.Mutex
	events []receivedEvent
}

type receivedEvent struct {
	rolloutEvent
	header http.Header
	raw    []byte
}

func newWebhook(t *testing.T) *webhook {
	w := &webhook{}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var ev rolloutEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		w.mu.Lock()
		w.events = append(w.events, receivedEvent{rolloutEvent: ev, header: r.Header.Clone(), raw: raw})
		w.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	w.url = srv.URL + "/rollouts"
	return w
}

func (w *webhook) received() []receivedEvent {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]receivedEvent(nil), w.events...)
}

func (w *webhook) kinds() string {
	var ks []string
	for _, e := range w.received() {
		ks = append(ks, e.Event)
	}
	return strings.Join(ks, " ")
}

// stateAttr reads one attribute of the deployment from the state.
func stateAttr(s *terraform.State, name string) string {
	return s.RootModule().Resources[deployAddress].Primary.Attributes[name]
}

// expectErrorLike is expectError with placeholders: "{n}" matches a number, "{any}" any
// text on one word.
func expectErrorLike(text string) *regexp.Regexp {
	words := strings.Fields(text)
	for i, w := range words {
		q := regexp.QuoteMeta(w)
		q = strings.ReplaceAll(q, `\{n\}`, `[0-9][0-9.]*`)
		q = strings.ReplaceAll(q, `\{any\}`, `\S*`)
		words[i] = q
	}
	return regexp.MustCompile(strings.Join(words, `\s+`))
}
