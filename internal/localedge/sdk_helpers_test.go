package localedge

// Helpers of the KV / R2 / token conformance suite: a fresh local edge per test, driven by
// the real SDK (cloudflare-go/v7) whose services are built directly with explicit options,
// never through cloudflare.NewClient (which reads CLOUDFLARE_* variables), so every test can
// run in parallel.

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/cloudflare/cloudflare-go/v7/accounts"
	"github.com/cloudflare/cloudflare-go/v7/kv"
	"github.com/cloudflare/cloudflare-go/v7/option"
	"github.com/cloudflare/cloudflare-go/v7/r2"
	"github.com/cloudflare/cloudflare-go/v7/user"
)

const (
	ceAccount  = "c0ffee0000000000000000000000000a"
	ceToken    = "conformance-test-token"
	ceZone     = "c0ffee0000000000000000000000000b"
	ceZoneName = "conformance.example"
)

// ceHexID is the shape of Cloudflare's 32-hex-character resource ids.
var ceHexID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// ceClock is a controllable clock for Config.Now.
type ceClock struct {
	mu  sync.Mutex
	now time.Time
}

func newCEClock() *ceClock {
	return &ceClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *ceClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *ceClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// ceEnv is one test's local edge with SDK services authenticated with the right token.
type ceEnv struct {
	t     *testing.T
	srv   *Server
	ts    *httptest.Server
	clock *ceClock
	ctx   context.Context

	kv       *kv.KVService
	r2       *r2.R2Service
	user     *user.TokenService
	accounts *accounts.TokenService
}

// newCEEnv starts a local edge (a temporary store unless cfg sets DataDir) with a controllable
// clock. cfg may adjust the configuration before the server is built.
func newCEEnv(t *testing.T, cfg ...func(*Config)) *ceEnv {
	t.Helper()
	clock := newCEClock()
	c := Config{AccountID: ceAccount, Token: ceToken, Zones: map[string]string{ceZone: ceZoneName}, Now: clock.Now, FaultSeed: 42}
	for _, f := range cfg {
		f(&c)
	}
	srv, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		_ = srv.Close()
	})
	e := &ceEnv{t: t, srv: srv, ts: ts, clock: clock, ctx: context.Background()}
	opts := e.options(ceToken)
	e.kv = kv.NewKVService(opts...)
	e.r2 = r2.NewR2Service(opts...)
	e.user = user.NewTokenService(opts...)
	e.accounts = accounts.NewTokenService(opts...)
	return e
}

// options are the SDK options for this server with the given token, no SDK retries.
func (e *ceEnv) options(token string, extra ...option.RequestOption) []option.RequestOption {
	opts := []option.RequestOption{
		option.WithBaseURL(e.ts.URL + APIPrefix + "/"),
		option.WithAPIToken(token),
		option.WithMaxRetries(0),
		option.WithHTTPClient(e.ts.Client()),
	}
	return append(opts, extra...)
}

// freshConnClient is an HTTP client that opens a new connection per request, so a dropped
// connection is never transparently retried by the transport on a reused connection.
func freshConnClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
}

// rawDo sends a request with the test token and returns status, headers and body.
func (e *ceEnv) rawDo(method, path string, header http.Header, body io.Reader) (int, http.Header, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+APIPrefix+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+ceToken)
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	res, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return res.StatusCode, res.Header, out
}

func ceNSPath(id string) string { return "/accounts/" + ceAccount + "/storage/kv/namespaces/" + id }
