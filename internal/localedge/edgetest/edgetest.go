// Package edgetest starts local edges for tests: one harness for the conformance tests of
// every product, the client's tests and the provider's acceptance tests. Each Start gives the
// test its own store, server, clock and credentials, and nothing reads CLOUDFLARE_* from the
// environment, so every test can run in parallel.
package edgetest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	cloudflare "github.com/cloudflare/cloudflare-go/v7"
	"github.com/cloudflare/cloudflare-go/v7/option"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/analytics"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/runtime"
)

// The credentials and zone of every test edge, unless options change them.
const (
	AccountID = "c0ffee0000000000000000000000000a"
	Token     = "edgetest-token"
	ZoneID    = "c0ffee0000000000000000000000000b"
	ZoneName  = "example.com"
)

// Env is one test's local edge.
type Env struct {
	T      testing.TB
	Server *localedge.Server
	// URL is the API server's root; BaseURL adds the API prefix (what clients are given).
	URL     string
	BaseURL string
	// Clock is the edge's clock (KV expirations, timestamps, cron triggers).
	Clock *Clock
	// Config is what the server was built with.
	Config localedge.Config
	// HTTP is a client for URL.
	HTTP *http.Client

	// Edge, EdgeURL and Log are set by WithWorkers: the Workers runtime serving the
	// deployments, the URL that serves them, and the runtime's log.
	Edge    *edge.Edge
	EdgeURL string
	Log     *SyncBuffer

	ts        *httptest.Server
	closeOnce sync.Once
	// stopWorkers stops the Workers runtime (WithWorkers), once.
	stopWorkers func()
	scheduled   chan edge.ScheduledRun
	recordsMu   sync.Mutex
	records     []analytics.Invocation
}

type options struct {
	config     []func(*localedge.Config)
	middleware func(http.Handler) http.Handler
	workers    bool
	edge       []func(*edge.Config)
}

// Option adjusts a test edge.
type Option func(*options)

// WithConfig adjusts the server's configuration before it is built.
func WithConfig(f func(*localedge.Config)) Option {
	return func(o *options) { o.config = append(o.config, f) }
}

// WithMiddleware wraps the API server's handler (to record requests, say).
func WithMiddleware(m func(http.Handler) http.Handler) Option {
	return func(o *options) { o.middleware = m }
}

// WithWorkers also runs the deployed Workers in Miniflare; the test is skipped when Node.js
// or Miniflare is not installed.
func WithWorkers(adjust ...func(*edge.Config)) Option {
	return func(o *options) {
		o.workers = true
		o.edge = append(o.edge, adjust...)
	}
}

// Start starts a local edge for the test and stops it when the test ends.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.workers {
		if err := runtime.CheckInstalled(runtime.NodeDir("")); err != nil {
			t.Skip(err.Error())
		}
	}
	clock := NewClock()
	cfg := localedge.Config{AccountID: AccountID, Token: Token, Zones: map[string]string{ZoneID: ZoneName}, Now: clock.Now, FaultSeed: 42}
	for _, f := range o.config {
		f(&cfg)
	}
	srv, err := localedge.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var handler http.Handler = srv
	if o.middleware != nil {
		handler = o.middleware(srv)
	}
	ts := httptest.NewServer(handler)
	e := &Env{T: t, Server: srv, URL: ts.URL, BaseURL: ts.URL + localedge.APIPrefix, Clock: clock, Config: cfg, HTTP: ts.Client(), ts: ts}
	t.Cleanup(func() { _ = e.Close() })
	if o.workers {
		e.startWorkers(o.edge)
	}
	return e
}

// StartWorkers starts the Workers runtime on a running test edge (WithWorkers does it at
// Start); the test is skipped when Node.js or Miniflare is not installed.
func (e *Env) StartWorkers(adjust ...func(*edge.Config)) {
	e.T.Helper()
	if err := runtime.CheckInstalled(runtime.NodeDir("")); err != nil {
		e.T.Skip(err.Error())
	}
	e.startWorkers(adjust)
}

func (e *Env) startWorkers(adjust []func(*edge.Config)) {
	e.T.Helper()
	e.Log = &SyncBuffer{}
	e.scheduled = make(chan edge.ScheduledRun, 64)
	persist := e.T.TempDir()
	cfg := edge.Config{
		API: e.Server,
		Runtime: runtime.Options{
			PersistDir: persist, APIAddress: strings.TrimPrefix(e.URL, "http://"), APIToken: e.Config.Token,
			AccountID: e.Config.AccountID, Log: e.Log, DrainDelay: 200 * time.Millisecond,
		},
		Log:   e.Log,
		Clock: e.Clock,
		Record: func(inv analytics.Invocation) {
			e.recordsMu.Lock()
			defer e.recordsMu.Unlock()
			e.records = append(e.records, inv)
		},
		OnScheduled: func(run edge.ScheduledRun) {
			select {
			case e.scheduled <- run:
			default:
			}
		},
	}
	for _, f := range adjust {
		f(&cfg)
	}
	workers, err := edge.Start(context.Background(), cfg)
	if err != nil {
		e.T.Fatalf("starting the edge: %v\nlog:\n%s", err, e.Log.String())
	}
	srv := httptest.NewServer(workers)
	e.Edge, e.EdgeURL = workers, srv.URL
	var once sync.Once
	e.stopWorkers = func() {
		once.Do(func() {
			if e.T.Failed() {
				e.T.Logf("runtime log:\n%s", e.Log.String())
			}
			srv.Close()
			_ = workers.Close()
		})
	}
	e.T.Cleanup(e.stopWorkers)
}

// Records returns the invocations the edge served so far.
func (e *Env) Records() []analytics.Invocation {
	e.recordsMu.Lock()
	defer e.recordsMu.Unlock()
	return append([]analytics.Invocation(nil), e.records...)
}

// NextScheduled waits (at most timeout) for the next cron trigger the edge runs.
func (e *Env) NextScheduled(timeout time.Duration) (edge.ScheduledRun, bool) {
	select {
	case run := <-e.scheduled:
		return run, true
	case <-time.After(timeout):
		return edge.ScheduledRun{}, false
	}
}

// SDK is the cloudflare-go options for this edge with the token: explicit base URL and
// credentials (never the environment) and no SDK retries.
func (e *Env) SDK(token string, extra ...option.RequestOption) []option.RequestOption {
	opts := []option.RequestOption{
		option.WithBaseURL(e.BaseURL + "/"),
		option.WithAPIToken(token),
		option.WithMaxRetries(0),
		option.WithHTTPClient(e.HTTP),
	}
	return append(opts, extra...)
}

// Raw sends a request to the API (path after the prefix) with the edge's token and returns
// the status, headers and body.
func (e *Env) Raw(method, path string, header http.Header, body io.Reader) (int, http.Header, []byte) {
	e.T.Helper()
	req, err := http.NewRequest(method, e.BaseURL+path, body)
	if err != nil {
		e.T.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.Config.Token)
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	res, err := e.HTTP.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		e.T.Fatal(err)
	}
	return res.StatusCode, res.Header, out
}

// Get sends a GET through the edge (WithWorkers) for host and returns status and body.
func (e *Env) Get(host, path string, header ...string) (int, string) {
	e.T.Helper()
	req, err := http.NewRequest(http.MethodGet, e.EdgeURL+path, nil)
	if err != nil {
		e.T.Fatal(err)
	}
	req.Host = host
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		e.T.Fatal(err)
	}
	return res.StatusCode, string(body)
}

// WantAPIError asserts that err is the SDK's *cloudflare.Error with the HTTP status and
// Cloudflare's first error code, and returns (a copy of) it for further checks.
func WantAPIError(t testing.TB, err error, status int, code int64) cloudflare.Error {
	t.Helper()
	var cfErr *cloudflare.Error
	if !errors.As(err, &cfErr) {
		t.Fatalf("want *cloudflare.Error %d/%d, got %v", status, code, err)
	}
	if cfErr.StatusCode != status {
		t.Fatalf("want status %d, got %d: %v", status, cfErr.StatusCode, err)
	}
	if len(cfErr.Errors) == 0 || cfErr.Errors[0].Code != code {
		t.Fatalf("want code %d, got %v", code, cfErr.Errors)
	}
	return *cfErr
}

// FreshConnClient is an HTTP client that opens a new connection per request, so a dropped
// connection is never transparently retried by the transport on a reused connection.
func FreshConnClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
}

// Close stops the Workers runtime (if any) and the API server, and closes its store before the test ends (to reopen the data
// directory, say); the test's cleanup then has nothing left to do.
func (e *Env) Close() error {
	var err error
	e.closeOnce.Do(func() {
		if e.stopWorkers != nil {
			e.stopWorkers() // the Workers runtime first: it delivers through the API
		}
		e.ts.Close()
		err = e.Server.Close()
	})
	return err
}

// Client is an HTTP client for the API server (like httptest.Server's).
func (e *Env) Client() *http.Client { return e.HTTP }
