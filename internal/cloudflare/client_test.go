package cloudflare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

const (
	clAccount = "ac000000000000000000000000000001"
	clToken   = "client-test-s3cr3t-token-value"
)

// clEdge starts a local edge with the client tests' credentials and returns it with its
// environment (whose URL is the server root).
func clEdge(t *testing.T) (*localedge.Server, *edgetest.Env) {
	t.Helper()
	e := edgetest.Start(t, clConfig(nil))
	return e.Server, e
}

// clConfig gives a test edge the client tests' credentials and zones. Fresh edges start
// without a workers.dev subdomain here: these tests cover the client's handling of an
// account that never registered one.
func clConfig(zones map[string]string) edgetest.Option {
	return edgetest.WithConfig(func(c *localedge.Config) {
		c.AccountID, c.Token, c.Zones, c.Now, c.NoWorkersSubdomain = clAccount, clToken, zones, nil, true
	})
}

// clNewClient builds a client for baseURL (a server root; the API prefix is added) with cfg
// adjustments.
func clNewClient(t *testing.T, baseURL string, cfg ...func(*Config)) *Client {
	t.Helper()
	c := Config{AccountID: clAccount, APIToken: clToken, BaseURL: baseURL + localedge.APIPrefix, MaxRetries: 2, RequestTimeout: 10 * time.Second}
	for _, f := range cfg {
		f(&c)
	}
	client, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

func clFreshConns(c *Config) {
	c.HTTPClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
}

// clScripted is an httptest server that answers every request with handle and counts them.
type clScripted struct {
	*httptest.Server
	attempts atomic.Int32
}

func clNewScripted(t *testing.T, handle func(n int, w http.ResponseWriter, r *http.Request)) *clScripted {
	t.Helper()
	s := &clScripted{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(s.attempts.Add(1)) - 1
		handle(n, w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func clWriteEnvelope(w http.ResponseWriter, status int, code int, message string, result any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	env := map[string]any{"success": status < 400, "errors": []any{}, "messages": []any{}, "result": result}
	if code != 0 {
		env["errors"] = []any{map[string]any{"code": code, "message": message}}
	}
	_ = json.NewEncoder(w).Encode(env)
}

var clVerifyResult = map[string]any{"id": "5e2a7d6c3b1f4e8a9d0c7b6a5f4e3d2c", "status": "active"}

func clAsError(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want *Error, got %T %v", err, err)
	}
	return e
}

func TestClientRetriesRateLimitHonouringRetryAfter(t *testing.T) {
	t.Parallel()
	s := clNewScripted(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n < 2 {
			w.Header().Set("Retry-After", "0")
			clWriteEnvelope(w, http.StatusTooManyRequests, 971, "Please wait", nil)
			return
		}
		clWriteEnvelope(w, http.StatusOK, 0, "", clVerifyResult)
	})
	c := clNewClient(t, s.URL)
	if err := c.VerifyToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := s.attempts.Load(); n != 3 {
		t.Fatalf("attempts = %d, want 3", n)
	}
}

func TestClientRetryAfterMs(t *testing.T) {
	t.Parallel()
	s := clNewScripted(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 0 {
			// Retry-After-Ms wins over a Retry-After that would take an hour.
			w.Header().Set("Retry-After-Ms", "1")
			w.Header().Set("Retry-After", "3600")
			clWriteEnvelope(w, http.StatusServiceUnavailable, 10013, "busy", nil)
			return
		}
		clWriteEnvelope(w, http.StatusOK, 0, "", clVerifyResult)
	})
	start := time.Now()
	if err := clNewClient(t, s.URL).VerifyToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := s.attempts.Load(); n != 2 || time.Since(start) > 5*time.Second {
		t.Fatalf("attempts = %d in %s", n, time.Since(start))
	}
}

func TestClientRateLimitedAfterRetries(t *testing.T) {
	t.Parallel()
	srv, ts := clEdge(t)
	srv.InjectFault(localedge.Fault{Kind: localedge.FaultRateLimit, RetryAfter: "0"})
	c := clNewClient(t, ts.URL)
	_, err := c.ListKVNamespaces(context.Background())
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("want ErrRateLimited, got %v", err)
	}
	e := clAsError(t, err)
	if e.Status != http.StatusTooManyRequests || e.Code != 971 || e.Op != "listing KV namespaces" {
		t.Fatalf("error = %+v", e)
	}
	if n := srv.RequestCount("GET /accounts/{account_id}/storage/kv/namespaces"); n != 3 || srv.FaultHits() != 3 {
		t.Fatalf("requests %d, hits %d; want 3 (1 + max_retries 2)", n, srv.FaultHits())
	}
}

func TestClientRetriesServerErrors(t *testing.T) {
	t.Parallel()
	srv, ts := clEdge(t)
	// No Retry-After: the client's own backoff (about 250ms) applies.
	srv.InjectFault(localedge.Fault{Kind: localedge.FaultServerError, Status: http.StatusBadGateway, Times: 1})
	c := clNewClient(t, ts.URL)
	n, err := c.CreateKVNamespace(context.Background(), "after-a-502")
	if err != nil || n.Title != "after-a-502" {
		t.Fatalf("= %+v, %v", n, err)
	}
	if srv.FaultHits() != 1 || srv.RequestCount("POST /accounts/{account_id}/storage/kv/namespaces") != 2 {
		t.Fatalf("hits %d\n%s", srv.FaultHits(), srv.FormatRequestCounts())
	}
	// The retried POST created exactly one namespace.
	all, err := c.ListKVNamespaces(context.Background())
	if err != nil || len(all) != 1 {
		t.Fatalf("namespaces = %+v, %v", all, err)
	}
}

func TestClientUnavailableAfterRetries(t *testing.T) {
	t.Parallel()
	s := clNewScripted(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "0")
		clWriteEnvelope(w, http.StatusServiceUnavailable, 10013, "An unknown error has occurred", nil)
	})
	err := clNewClient(t, s.URL, func(c *Config) { c.MaxRetries = 1 }).VerifyToken(context.Background())
	if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNotFound) {
		t.Fatalf("want ErrUnavailable, got %v", err)
	}
	if e := clAsError(t, err); e.Status != http.StatusServiceUnavailable || e.Code != 10013 {
		t.Fatalf("error = %+v", e)
	}
	if n := s.attempts.Load(); n != 2 {
		t.Fatalf("attempts = %d, want 2", n)
	}
}

func TestClientRetriesDroppedConnections(t *testing.T) {
	t.Parallel()
	srv, ts := clEdge(t)
	srv.InjectFault(localedge.Fault{Kind: localedge.FaultDrop, Times: 2})
	c := clNewClient(t, ts.URL, clFreshConns, func(c *Config) { c.MaxRetries = 3 })
	if err := c.VerifyToken(context.Background()); err != nil {
		t.Fatalf("two drops with max_retries 3: %v", err)
	}
	if srv.FaultHits() != 2 || srv.RequestCount("GET /user/tokens/verify") != 3 {
		t.Fatalf("hits %d\n%s", srv.FaultHits(), srv.FormatRequestCounts())
	}

	// More drops than retries: an Unavailable transport error.
	srv.ClearFaults()
	srv.InjectFault(localedge.Fault{Kind: localedge.FaultDrop})
	err := clNewClient(t, ts.URL, clFreshConns, func(c *Config) { c.MaxRetries = 1 }).VerifyToken(context.Background())
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "giving up after 2 attempt(s)") {
		t.Fatalf("want an Unavailable transport error, got %v", err)
	}
	if e := clAsError(t, err); e.Status != 0 {
		t.Fatalf("a transport failure has no status: %+v", e)
	}
}

func TestClientNoRetryOnClientErrors(t *testing.T) {
	t.Parallel()
	for _, status := range []int{400, 401, 403, 404, 405, 409, 412, 413, 422} {
		s := clNewScripted(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "0")
			clWriteEnvelope(w, status, 10000+status, "nope", nil)
		})
		err := clNewClient(t, s.URL, func(c *Config) { c.MaxRetries = 4 }).VerifyToken(context.Background())
		if err == nil {
			t.Fatalf("status %d: no error", status)
		}
		if n := s.attempts.Load(); n != 1 {
			t.Fatalf("status %d: %d attempts, want 1", status, n)
		}
	}

	// A real conflict from the local edge: 409 bucket exists is not retried either.
	srv, ts := clEdge(t)
	c := clNewClient(t, ts.URL)
	if _, err := c.CreateR2Bucket(context.Background(), R2BucketSpec{Name: "taken"}); err != nil {
		t.Fatal(err)
	}
	srv.ResetRequestCounts()
	_, err := c.CreateR2Bucket(context.Background(), R2BucketSpec{Name: "taken"})
	if !errors.Is(err, ErrConflict) || srv.TotalRequests() != 1 {
		t.Fatalf("conflict: %v after %d requests", err, srv.TotalRequests())
	}
}

func TestClientMaxRetriesZero(t *testing.T) {
	t.Parallel()
	for _, maxRetries := range []int{0, -3} {
		s := clNewScripted(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "0")
			clWriteEnvelope(w, http.StatusTooManyRequests, 971, "slow down", nil)
		})
		err := clNewClient(t, s.URL, func(c *Config) { c.MaxRetries = maxRetries }).VerifyToken(context.Background())
		if !errors.Is(err, ErrRateLimited) {
			t.Fatalf("max_retries %d: %v", maxRetries, err)
		}
		if n := s.attempts.Load(); n != 1 {
			t.Fatalf("max_retries %d: %d attempts, want exactly 1", maxRetries, n)
		}
	}
}

func TestClientRetryBudgetExhausted(t *testing.T) {
	t.Parallel()
	s := clNewScripted(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "10")
		clWriteEnvelope(w, http.StatusTooManyRequests, 971, "slow down", nil)
	})
	// Budget (3+1) x 1s = 4s: a 10s wait does not fit, so the 429 surfaces at once.
	c := clNewClient(t, s.URL, func(c *Config) { c.MaxRetries = 3; c.RequestTimeout = time.Second })
	start := time.Now()
	err := c.VerifyToken(context.Background())
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("want ErrRateLimited, got %v", err)
	}
	if n := s.attempts.Load(); n != 1 || time.Since(start) > 5*time.Second {
		t.Fatalf("%d attempts in %s", n, time.Since(start))
	}
}

func TestClientUnreachableBaseURL(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()

	c := clNewClient(t, "http://"+addr, func(c *Config) { c.MaxRetries = 1 })
	start := time.Now()
	err = c.VerifyToken(context.Background())
	if err == nil {
		t.Fatal("no error from a closed port")
	}
	msg := err.Error()
	if !strings.Contains(msg, "http://"+addr+"/client/v4") || !strings.Contains(msg, "giving up after 2 attempt(s)") {
		t.Fatalf("error = %s", msg)
	}
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("want ErrUnavailable, got %v", err)
	}
	if strings.Contains(msg, clToken) {
		t.Fatalf("the token leaked: %s", msg)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %s", d)
	}
}

func TestClientRequestTimeout(t *testing.T) {
	t.Parallel()
	// A server that accepts connections and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})

	c := clNewClient(t, "http://"+ln.Addr().String(), func(c *Config) { c.MaxRetries = 1; c.RequestTimeout = 200 * time.Millisecond })
	start := time.Now()
	err = c.VerifyToken(context.Background())
	elapsed := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "no response within request_timeout") {
		t.Fatalf("error = %v", err)
	}
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("want ErrUnavailable, got %v", err)
	}
	if elapsed > 5*time.Second {
		t.Fatalf("returned after %s", elapsed)
	}
}

func TestClientErrorKinds(t *testing.T) {
	t.Parallel()
	srv, ts := clEdge(t)
	ctx := context.Background()
	c := clNewClient(t, ts.URL, func(c *Config) { c.MaxRetries = 0 })

	_, err := c.GetKVNamespace(ctx, "ffffffffffffffffffffffffffffffff")
	if !IsNotFound(err) || !errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) {
		t.Fatalf("404: %v", err)
	}
	if e := clAsError(t, err); e.Status != 404 || e.Code != 10013 || e.Op != "reading KV namespace ffffffffffffffffffffffffffffffff" {
		t.Fatalf("404 error = %+v", e)
	}

	bad := clNewClient(t, ts.URL, func(c *Config) { c.APIToken = "wrong-token" })
	_, err = bad.ListKVNamespaces(ctx)
	if !errors.Is(err, ErrAuth) || IsNotFound(err) {
		t.Fatalf("403: %v", err)
	}
	if !strings.Contains(err.Error(), "authentication failed: check api_token (CLOUDFLARE_API_TOKEN)") || !strings.Contains(err.Error(), "10000") {
		t.Fatalf("403 message = %s", err)
	}
	err = bad.VerifyToken(ctx)
	if !errors.Is(err, ErrAuth) || clAsError(t, err).Status != http.StatusUnauthorized || clAsError(t, err).Code != 1000 {
		t.Fatalf("401 at verify: %v", err)
	}
	wrongAccount := clNewClient(t, ts.URL, func(c *Config) { c.AccountID = "ffffffffffffffffffffffffffffffff" })
	if _, err := wrongAccount.ListKVNamespaces(ctx); !errors.Is(err, ErrAuth) {
		t.Fatalf("wrong account: %v", err)
	}

	if _, err := c.CreateKVNamespace(ctx, "dup"); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateKVNamespace(ctx, "dup")
	if !errors.Is(err, ErrConflict) || clAsError(t, err).Status != 400 || clAsError(t, err).Code != 10014 {
		t.Fatalf("400/10014: %v", err)
	}
	if _, err := c.CreateR2Bucket(ctx, R2BucketSpec{Name: "full"}); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateR2Bucket(ctx, R2BucketSpec{Name: "full"})
	if !errors.Is(err, ErrConflict) || clAsError(t, err).Status != 409 || clAsError(t, err).Code != 10004 {
		t.Fatalf("409/10004: %v", err)
	}
	if err := c.PutR2Object(ctx, "full", "", "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	err = c.DeleteR2Bucket(ctx, "full", "")
	if !errors.Is(err, ErrConflict) || clAsError(t, err).Code != 10008 {
		t.Fatalf("409/10008: %v", err)
	}

	_, err = c.CreateKVNamespace(ctx, "")
	if !errors.Is(err, ErrValidation) || errors.Is(err, ErrConflict) {
		t.Fatalf("400 validation: %v", err)
	}
	e := clAsError(t, err)
	if e.Status != 400 || e.Code != 10019 || e.Message != "title is required" {
		t.Fatalf("validation error = %+v", e)
	}
	if want := `creating KV namespace "": Cloudflare API error 10019 (HTTP 400): title is required`; err.Error() != want {
		t.Fatalf("message = %q, want %q", err.Error(), want)
	}
	_, err = c.CreateR2Bucket(ctx, R2BucketSpec{Name: "Bad_Name"})
	if !errors.Is(err, ErrValidation) || clAsError(t, err).Code != 10005 {
		t.Fatalf("bad bucket name: %v", err)
	}

	srv.InjectFault(localedge.Fault{Kind: localedge.FaultServerError, Status: http.StatusServiceUnavailable, Times: 1})
	_, err = c.ListKVNamespaces(ctx)
	if !errors.Is(err, ErrUnavailable) || clAsError(t, err).Status != 503 {
		t.Fatalf("503: %v", err)
	}
	srv.InjectFault(localedge.Fault{Kind: localedge.FaultRateLimit, Times: 1})
	_, err = c.ListKVNamespaces(ctx)
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("429: %v", err)
	}
}

func TestErrorMapping(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status int
		code   int64
		want   Kind
	}{
		{401, 1000, KindAuth}, {403, 10000, KindAuth}, {404, 10006, KindNotFound}, {404, 0, KindNotFound},
		{409, 10004, KindConflict}, {409, 0, KindConflict}, {400, 10014, KindConflict}, {400, 10020, KindConflict},
		{400, 10035, KindConflict}, {429, 971, KindRateLimited}, {500, 10013, KindUnavailable}, {502, 0, KindUnavailable},
		{503, 0, KindUnavailable}, {400, 10019, KindValidation}, {413, 10033, KindValidation}, {422, 0, KindValidation},
		{200, 0, KindUnknown}, {302, 0, KindUnknown},
	}
	for _, c := range cases {
		if got := kindOf(c.status, c.code); got != c.want {
			t.Errorf("kindOf(%d, %d) = %v, want %v", c.status, c.code, got, c.want)
		}
	}
	if wrap("op", nil) != nil {
		t.Fatal("wrap(nil) must be nil")
	}
	inner := &Error{Kind: KindNotFound, Op: "inner"}
	if wrap("outer", fmt.Errorf("ctx: %w", inner)) == nil || clAsError(t, wrap("outer", inner)).Op != "inner" {
		t.Fatal("wrap must keep an existing *Error")
	}
	transport := errors.New("dial tcp: connection refused")
	e := clAsError(t, wrap("reading", transport))
	if e.Kind != KindUnavailable || e.Status != 0 || !errors.Is(e, transport) || e.Error() != "reading: dial tcp: connection refused" {
		t.Fatalf("transport error = %+v %q", e, e.Error())
	}
	if e := clAsError(t, wrap("reading", context.DeadlineExceeded)); e.Kind != KindUnavailable || !errors.Is(e, context.DeadlineExceeded) {
		t.Fatalf("deadline = %+v", e)
	}
	// A sentinel matches by kind only; a concrete error is not a sentinel.
	if errors.Is(&Error{Kind: KindNotFound, Op: "x"}, &Error{Kind: KindNotFound, Op: "y"}) {
		t.Fatal("two concrete errors must not match")
	}
}

func TestClientNonJSONErrorBody(t *testing.T) {
	t.Parallel()
	s := clNewScripted(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "<html>not here</html>")
	})
	err := clNewClient(t, s.URL).VerifyToken(context.Background())
	if !IsNotFound(err) {
		t.Fatalf("want not found, got %v", err)
	}
	if e := clAsError(t, err); e.Code != 0 || !strings.Contains(e.Error(), "HTTP 404 Not Found") {
		t.Fatalf("error = %q", e.Error())
	}
}

// TestClientIgnoresEnvironment sets the SDK's environment variables (so it cannot run in
// parallel) and checks the client uses only its Config.
func TestClientIgnoresEnvironment(t *testing.T) {
	decoy := clNewScripted(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		clWriteEnvelope(w, http.StatusOK, 0, "", clVerifyResult)
	})
	t.Setenv("CLOUDFLARE_API_KEY", "env-api-key")
	t.Setenv("CLOUDFLARE_EMAIL", "env@example.com")
	t.Setenv("CLOUDFLARE_BASE_URL", decoy.URL+"/client/v4")
	t.Setenv("CLOUDFLARE_API_TOKEN", "env-token")
	t.Setenv("CLOUDFLARE_API_USER_SERVICE_KEY", "env-service-key")

	var mu sync.Mutex
	var seen []http.Header
	var paths []string
	s := clNewScripted(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		switch {
		case strings.HasSuffix(r.URL.Path, "/tokens/verify"):
			clWriteEnvelope(w, http.StatusOK, 0, "", clVerifyResult)
		default:
			clWriteEnvelope(w, http.StatusOK, 0, "", []any{})
		}
	})
	c := clNewClient(t, s.URL, func(c *Config) { c.UserAgent = "terraform-provider-servicesdo/test" })
	if err := c.VerifyToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListKVNamespaces(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := decoy.attempts.Load(); n != 0 {
		t.Fatalf("CLOUDFLARE_BASE_URL was used: %d requests", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) < 2 || paths[0] != "/client/v4/user/tokens/verify" || paths[1] != "/client/v4/accounts/"+clAccount+"/storage/kv/namespaces" {
		t.Fatalf("paths = %v", paths)
	}
	for _, h := range seen {
		for _, k := range []string{"X-Auth-Key", "X-Auth-Email", "X-Auth-User-Service-Key"} {
			if v := h.Get(k); v != "" {
				t.Fatalf("request carried %s: %q", k, v)
			}
		}
		if got := h.Values("Authorization"); !reflect.DeepEqual(got, []string{"Bearer " + clToken}) {
			t.Fatalf("Authorization = %q", got)
		}
		if ua := h.Get("User-Agent"); ua != "terraform-provider-servicesdo/test" {
			t.Fatalf("User-Agent = %q", ua)
		}
	}
}

func TestClientTokenNeverInErrors(t *testing.T) {
	t.Parallel()
	// A server whose errors are verbose, but do not echo credentials.
	s := clNewScripted(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "0")
		switch {
		case strings.Contains(r.URL.Path, "/storage/kv/namespaces/notfound"):
			clWriteEnvelope(w, http.StatusNotFound, 10013, "namespace not found", nil)
		case strings.Contains(r.URL.Path, "/r2/"):
			clWriteEnvelope(w, http.StatusConflict, 10004, "exists", nil)
		case strings.Contains(r.URL.Path, "/tokens/verify"):
			clWriteEnvelope(w, http.StatusUnauthorized, 1000, "Invalid API Token", nil)
		case r.Method == http.MethodPost:
			clWriteEnvelope(w, http.StatusBadRequest, 10019, "title is required", nil)
		default:
			clWriteEnvelope(w, http.StatusServiceUnavailable, 10013, "down", nil)
		}
	})
	c := clNewClient(t, s.URL, func(c *Config) { c.MaxRetries = 1 })
	ctx := context.Background()
	_, e1 := c.GetKVNamespace(ctx, "notfound")
	_, e2 := c.CreateR2Bucket(ctx, R2BucketSpec{Name: "exists"})
	e3 := c.VerifyToken(ctx)
	_, e4 := c.CreateKVNamespace(ctx, "")
	_, e5 := c.ListKVNamespaces(ctx)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	e6 := clNewClient(t, "http://"+addr, func(c *Config) { c.MaxRetries = 0 }).VerifyToken(ctx)

	for i, err := range []error{e1, e2, e3, e4, e5, e6} {
		if err == nil {
			t.Fatalf("error %d is nil", i+1)
		}
		for e := err; e != nil; e = errors.Unwrap(e) {
			for _, text := range []string{e.Error(), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e)} {
				if strings.Contains(text, clToken) {
					t.Fatalf("error %d leaks the token: %s", i+1, text)
				}
			}
		}
	}
}

func TestClientKVRoundTrip(t *testing.T) {
	t.Parallel()
	_, ts := clEdge(t)
	ctx := context.Background()
	c := clNewClient(t, ts.URL)
	if c.AccountID() != clAccount {
		t.Fatalf("AccountID = %q", c.AccountID())
	}

	n, err := c.CreateKVNamespace(ctx, "round-trip")
	if err != nil || n.Title != "round-trip" || !n.SupportsURLEncoding || len(n.ID) != 32 {
		t.Fatalf("create = %+v, %v", n, err)
	}
	got, err := c.GetKVNamespace(ctx, n.ID)
	if err != nil || got != n {
		t.Fatalf("get = %+v, %v", got, err)
	}
	renamed, err := c.RenameKVNamespace(ctx, n.ID, "renamed")
	if err != nil || renamed.Title != "renamed" || renamed.ID != n.ID {
		t.Fatalf("rename = %+v, %v", renamed, err)
	}

	meta := json.RawMessage(`{"owner":"team-a","tags":["x","y"],"n":1.5,"nested":{"ok":true}}`)
	values := map[string]string{
		"plain":            "v1",
		"dir/sub/key":      "v2",
		"with space":       "v3",
		"a/b c?d#e%f&g=h+": "v4",
		"ключ":             "v5",
	}
	for k, v := range values {
		var md json.RawMessage
		if k == "dir/sub/key" {
			md = meta
		}
		if err := c.PutKVValue(ctx, n.ID, k, []byte(v), md); err != nil {
			t.Fatalf("put %q: %v", k, err)
		}
	}
	for k, v := range values {
		b, err := c.GetKVValue(ctx, n.ID, k)
		if err != nil || string(b) != v {
			t.Fatalf("get %q = %q, %v", k, b, err)
		}
	}
	keys, err := c.ListKVKeys(ctx, n.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, k := range keys {
		names = append(names, k.Name)
		switch k.Name {
		case "dir/sub/key":
			var a, b any
			_ = json.Unmarshal(k.Metadata, &a)
			_ = json.Unmarshal(meta, &b)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("metadata = %s, want %s", k.Metadata, meta)
			}
		default:
			if k.Metadata != nil {
				t.Fatalf("%q has metadata %s", k.Name, k.Metadata)
			}
		}
	}
	var want []string
	for k := range values {
		want = append(want, k)
	}
	sort.Strings(want)
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("keys = %q, want %q", names, want)
	}
	if keys, err := c.ListKVKeys(ctx, n.ID, "dir/"); err != nil || len(keys) != 1 || keys[0].Name != "dir/sub/key" {
		t.Fatalf("prefix dir/ = %+v, %v", keys, err)
	}

	if err := c.DeleteKVKeys(ctx, n.ID, []string{"dir/sub/key", "with space", "absent"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetKVValue(ctx, n.ID, "with space"); !IsNotFound(err) {
		t.Fatalf("deleted key: %v", err)
	}
	if err := c.DeleteKVKeys(ctx, n.ID, nil); err != nil {
		t.Fatalf("deleting no keys: %v", err)
	}

	all, err := c.ListKVNamespaces(ctx)
	if err != nil || len(all) != 1 || all[0].Title != "renamed" {
		t.Fatalf("list = %+v, %v", all, err)
	}
	if err := c.DeleteKVNamespace(ctx, n.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetKVNamespace(ctx, n.ID); !IsNotFound(err) {
		t.Fatalf("deleted namespace: %v", err)
	}
	if err := c.DeleteKVNamespace(ctx, n.ID); !IsNotFound(err) {
		t.Fatalf("deleting again: %v", err)
	}
}

func TestClientListKVKeysAcrossPages(t *testing.T) {
	t.Parallel()
	srv, ts := clEdge(t)
	ctx := context.Background()
	c := clNewClient(t, ts.URL)
	n, err := c.CreateKVNamespace(ctx, "many")
	if err != nil {
		t.Fatal(err)
	}
	// 2100 keys through one bulk write: the client lists 1000 per page.
	var items []map[string]any
	var want []string
	for i := range 2100 {
		k := fmt.Sprintf("k/%04d x", i)
		want = append(want, k)
		items = append(items, map[string]any{"key": k, "value": "v"})
	}
	body, _ := json.Marshal(items)
	req, _ := http.NewRequest(http.MethodPut, ts.URL+localedge.APIPrefix+"/accounts/"+clAccount+"/storage/kv/namespaces/"+n.ID+"/bulk", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+clToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("bulk write: %d", res.StatusCode)
	}

	srv.ResetRequestCounts()
	keys, err := c.ListKVKeys(ctx, n.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range keys {
		got = append(got, k.Name)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("listed %d keys, want %d", len(got), len(want))
	}
	if n := srv.RequestCount("GET /accounts/{account_id}/storage/kv/namespaces/{namespace_id}/keys"); n != 3 {
		t.Fatalf("%d list requests, want 3\n%s", n, srv.FormatRequestCounts())
	}
}

func TestClientDeleteKVKeysBatching(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var batches []int
	var firstKeys []string
	s := clNewScripted(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/storage/kv/namespaces/ns1/bulk/delete") {
			clWriteEnvelope(w, http.StatusNotFound, 7000, "unexpected "+r.Method+" "+r.URL.Path, nil)
			return
		}
		var keys []string
		if err := json.NewDecoder(r.Body).Decode(&keys); err != nil {
			clWriteEnvelope(w, http.StatusBadRequest, 10026, err.Error(), nil)
			return
		}
		mu.Lock()
		batches = append(batches, len(keys))
		firstKeys = append(firstKeys, keys[0])
		mu.Unlock()
		clWriteEnvelope(w, http.StatusOK, 0, "", map[string]any{"successful_key_count": len(keys), "unsuccessful_keys": []string{}})
	})
	c := clNewClient(t, s.URL)
	keys := make([]string, 20001)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%05d", i)
	}
	if err := c.DeleteKVKeys(context.Background(), "ns1", keys); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if !reflect.DeepEqual(batches, []int{10000, 10000, 1}) || !reflect.DeepEqual(firstKeys, []string{"key-00000", "key-10000", "key-20000"}) {
		t.Fatalf("batches = %v starting at %v", batches, firstKeys)
	}
	batches, firstKeys = nil, nil
	mu.Unlock()

	if err := c.DeleteKVKeys(context.Background(), "ns1", keys[:10000]); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteKVKeys(context.Background(), "ns1", nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !reflect.DeepEqual(batches, []int{10000}) {
		t.Fatalf("batches of exactly 10000 keys = %v", batches)
	}

	// Against the local edge, which rejects more than 10 000 keys per call.
	_, ts := clEdge(t)
	ec := clNewClient(t, ts.URL)
	n, err := ec.CreateKVNamespace(context.Background(), "batch")
	if err != nil {
		t.Fatal(err)
	}
	if err := ec.DeleteKVKeys(context.Background(), n.ID, keys[:10001]); err != nil {
		t.Fatalf("10001 keys against the local edge: %v", err)
	}
}

func TestClientR2(t *testing.T) {
	t.Parallel()
	_, ts := clEdge(t)
	ctx := context.Background()
	c := clNewClient(t, ts.URL)

	b, err := c.CreateR2Bucket(ctx, R2BucketSpec{Name: "assets", LocationHint: "weur", StorageClass: "InfrequentAccess"})
	if err != nil {
		t.Fatal(err)
	}
	if b.Name != "assets" || b.Location != "weur" || b.StorageClass != "InfrequentAccess" || b.Jurisdiction != "default" || b.CreationDate == "" {
		t.Fatalf("bucket = %+v", b)
	}
	d, err := c.CreateR2Bucket(ctx, R2BucketSpec{Name: "defaults"})
	if err != nil || d.Location != "enam" || d.StorageClass != "Standard" {
		t.Fatalf("defaults = %+v, %v", d, err)
	}
	got, err := c.GetR2Bucket(ctx, "assets", "")
	if err != nil || got != b {
		t.Fatalf("get = %+v, %v", got, err)
	}
	if got, err := c.GetR2Bucket(ctx, "assets", "default"); err != nil || got != b {
		t.Fatalf("get in default = %+v, %v", got, err)
	}
	set, err := c.SetR2StorageClass(ctx, "assets", "", "Standard")
	if err != nil || set.StorageClass != "Standard" || set.Location != "weur" {
		t.Fatalf("set storage class = %+v, %v", set, err)
	}
	if _, err := c.SetR2StorageClass(ctx, "assets", "", "Glacier"); !errors.Is(err, ErrValidation) {
		t.Fatalf("bad storage class: %v", err)
	}

	// Jurisdictions.
	eu, err := c.CreateR2Bucket(ctx, R2BucketSpec{Name: "private", LocationHint: "eeur", Jurisdiction: "eu"})
	if err != nil || eu.Jurisdiction != "eu" || eu.Location != "eeur" {
		t.Fatalf("eu bucket = %+v, %v", eu, err)
	}
	if _, err := c.GetR2Bucket(ctx, "private", ""); !IsNotFound(err) {
		t.Fatalf("eu bucket read without jurisdiction: %v", err)
	}
	if got, err := c.GetR2Bucket(ctx, "private", "eu"); err != nil || got != eu {
		t.Fatalf("eu get = %+v, %v", got, err)
	}
	if set, err := c.SetR2StorageClass(ctx, "private", "eu", "InfrequentAccess"); err != nil || set.Jurisdiction != "eu" {
		t.Fatalf("eu set = %+v, %v", set, err)
	}

	// Objects, with keys that need escaping.
	objs := []string{"a.txt", "dir/b c.txt", "img/logo?.png"}
	for _, k := range objs {
		if err := c.PutR2Object(ctx, "private", "eu", k, []byte("body of "+k)); err != nil {
			t.Fatalf("put %q: %v", k, err)
		}
	}
	if keys, err := c.ListR2ObjectKeys(ctx, "private", "eu"); err != nil || !reflect.DeepEqual(keys, objs) {
		t.Fatalf("object keys = %q, %v", keys, err)
	}
	if keys, err := c.ListR2ObjectKeys(ctx, "assets", ""); err != nil || len(keys) != 0 {
		t.Fatalf("assets keys = %q, %v", keys, err)
	}
	if err := c.DeleteR2Bucket(ctx, "private", "eu"); !errors.Is(err, ErrConflict) {
		t.Fatalf("deleting a non-empty bucket: %v", err)
	}
	for _, k := range objs {
		if err := c.DeleteR2Object(ctx, "private", "eu", k); err != nil {
			t.Fatalf("delete %q: %v", k, err)
		}
	}
	if err := c.DeleteR2Bucket(ctx, "private", ""); !IsNotFound(err) {
		t.Fatalf("delete in the wrong jurisdiction: %v", err)
	}
	if err := c.DeleteR2Bucket(ctx, "private", "eu"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetR2Bucket(ctx, "private", "eu"); !IsNotFound(err) {
		t.Fatalf("deleted bucket: %v", err)
	}
	if _, err := c.ListR2ObjectKeys(ctx, "private", "eu"); !IsNotFound(err) {
		t.Fatalf("objects of a deleted bucket: %v", err)
	}
}

func TestClientR2ListObjectKeysAcrossPages(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	s := clNewScripted(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		page := map[string]string{"": "c1", "c1": "c2", "c2": ""}
		cursor := r.URL.Query().Get("cursor")
		next, ok := page[cursor]
		if !ok {
			clWriteEnvelope(w, http.StatusBadRequest, 10001, "bad cursor", nil)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"success": true, "errors": []any{}, "messages": []any{},
			"result":      []any{map[string]any{"key": "after-" + cursor + "-1"}, map[string]any{"key": "after-" + cursor + "-2"}},
			"result_info": map[string]any{"cursor": next, "per_page": 2, "is_truncated": next != ""},
		})
	})
	keys, err := clNewClient(t, s.URL).ListR2ObjectKeys(context.Background(), "b", "")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"after--1", "after--2", "after-c1-1", "after-c1-2", "after-c2-1", "after-c2-2"}
	if !reflect.DeepEqual(keys, want) || calls.Load() != 3 {
		t.Fatalf("keys = %q after %d calls", keys, calls.Load())
	}
}

func TestClientJurisdictionHeader(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []string
	s := clNewScripted(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+strings.Join(r.Header.Values("Cf-R2-Jurisdiction"), ","))
		mu.Unlock()
		var result any = map[string]any{"name": "b", "location": "WNAM", "storage_class": "Standard", "jurisdiction": "eu"}
		if strings.HasSuffix(r.URL.Path, "/objects") {
			result = []any{}
		}
		clWriteEnvelope(w, http.StatusOK, 0, "", result)
	})
	c := clNewClient(t, s.URL)
	ctx := context.Background()
	for _, j := range []string{"", "default", "eu", "fedramp"} {
		mu.Lock()
		got = nil
		mu.Unlock()
		b, err := c.CreateR2Bucket(ctx, R2BucketSpec{Name: "b", Jurisdiction: j})
		if err != nil || b.Location != "wnam" {
			t.Fatalf("create = %+v, %v", b, err)
		}
		calls := []error{
			func() error { _, err := c.GetR2Bucket(ctx, "b", j); return err }(),
			func() error { _, err := c.SetR2StorageClass(ctx, "b", j, "Standard"); return err }(),
			c.DeleteR2Bucket(ctx, "b", j),
			func() error { _, err := c.ListR2ObjectKeys(ctx, "b", j); return err }(),
			c.PutR2Object(ctx, "b", j, "k", []byte("v")),
			c.DeleteR2Object(ctx, "b", j, "k"),
		}
		for i, err := range calls {
			if err != nil {
				t.Fatalf("jurisdiction %q call %d: %v", j, i, err)
			}
		}
		want := ""
		if j == "eu" || j == "fedramp" {
			want = j
		}
		mu.Lock()
		if len(got) != 7 {
			t.Fatalf("jurisdiction %q: %d requests", j, len(got))
		}
		for _, g := range got {
			method, header, _ := strings.Cut(g, " ")
			if header != want {
				t.Fatalf("jurisdiction %q: %s sent cf-r2-jurisdiction %q, want %q (all: %q)", j, method, header, want, got)
			}
		}
		mu.Unlock()
	}
	// A bucket read back without a jurisdiction field is in the default one.
	s2 := clNewScripted(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		clWriteEnvelope(w, http.StatusOK, 0, "", map[string]any{"name": "b", "location": "APAC"})
	})
	b, err := clNewClient(t, s2.URL).GetR2Bucket(ctx, "b", "")
	if err != nil || b.Jurisdiction != "default" || b.Location != "apac" {
		t.Fatalf("bucket = %+v, %v", b, err)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"ftp://example.com", "example.com/client/v4", "http://", "://bad"} {
		if _, err := New(Config{AccountID: clAccount, APIToken: clToken, BaseURL: u}); err == nil || !strings.Contains(err.Error(), "invalid base URL") {
			t.Fatalf("base URL %q: %v", u, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1:1", "https://api.cloudflare.com/client/v4", "https://api.cloudflare.com/client/v4/"} {
		if err := ValidateBaseURL(u); err != nil {
			t.Fatalf("ValidateBaseURL(%q) = %v", u, err)
		}
	}
	c, err := New(Config{AccountID: clAccount, APIToken: clToken})
	if err != nil || c.baseURL != DefaultBaseURL {
		t.Fatalf("default base URL = %v, %v", c, err)
	}

	// A trailing slash on the base URL changes nothing.
	_, ts := clEdge(t)
	slash := clNewClient(t, ts.URL, func(c *Config) { c.BaseURL += "/" })
	if err := slash.VerifyToken(context.Background()); err != nil {
		t.Fatalf("base URL with a trailing slash: %v", err)
	}
}
