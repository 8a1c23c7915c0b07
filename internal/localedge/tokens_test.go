package localedge

// Token verification, authentication and routing errors, and the server-wide test
// machinery: fault injection and request counters.

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	cf "github.com/cloudflare/cloudflare-go/v7"
	"github.com/cloudflare/cloudflare-go/v7/accounts"
	"github.com/cloudflare/cloudflare-go/v7/kv"
	"github.com/cloudflare/cloudflare-go/v7/option"
	"github.com/cloudflare/cloudflare-go/v7/user"
)

func TestTokenVerify(t *testing.T) {
	t.Parallel()
	e := newCEEnv(t)

	u, err := e.user.Verify(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !ceHexID.MatchString(u.ID) || u.Status != user.TokenVerifyResponseStatusActive || !u.ExpiresOn.IsZero() || !u.NotBefore.IsZero() {
		t.Fatalf("user verify = %s", u.JSON.RawJSON())
	}
	a, err := e.accounts.Verify(e.ctx, accounts.TokenVerifyParams{AccountID: cf.F(ceAccount)})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != u.ID || a.Status != accounts.TokenVerifyResponseStatusActive {
		t.Fatalf("account verify = %s", a.JSON.RawJSON())
	}
	status, _, body := e.rawDo(http.MethodGet, "/user/tokens/verify", nil, nil)
	if status != http.StatusOK || !strings.Contains(string(body), `"success":true`) || !strings.Contains(string(body), "This API Token is valid and active") {
		t.Fatalf("verify envelope: %d %s", status, body)
	}

	// An unknown token at either verify endpoint: 401 1000.
	bad := e.options("not-the-token")
	_, err = user.NewTokenService(bad...).Verify(e.ctx)
	wantAPIError(t, err, http.StatusUnauthorized, 1000)
	_, err = accounts.NewTokenService(bad...).Verify(e.ctx, accounts.TokenVerifyParams{AccountID: cf.F(ceAccount)})
	wantAPIError(t, err, http.StatusUnauthorized, 1000)
	// The right token for another account.
	_, err = e.accounts.Verify(e.ctx, accounts.TokenVerifyParams{AccountID: cf.F("ffffffffffffffffffffffffffffffff")})
	wantAPIError(t, err, http.StatusForbidden, 10000)
}

func TestAuthErrors(t *testing.T) {
	t.Parallel()
	e := newCEEnv(t)
	n := e.mustCreateNamespace("auth")
	list := func(svc *kv.KVService, account string) error {
		_, err := svc.Namespaces.List(e.ctx, kv.NamespaceListParams{AccountID: cf.F(account)})
		return err
	}

	wantAPIError(t, list(kv.NewKVService(e.options("wrong-token")...), ceAccount), http.StatusForbidden, 10000)
	wantAPIError(t, list(e.kv, "ffffffffffffffffffffffffffffffff"), http.StatusForbidden, 10000)
	_, err := e.kv.Namespaces.Get(e.ctx, n.ID, kv.NamespaceGetParams{AccountID: cf.F("ffffffffffffffffffffffffffffffff")})
	wantAPIError(t, err, http.StatusForbidden, 10000)

	noAuth := kv.NewKVService(option.WithBaseURL(e.ts.URL+APIPrefix+"/"), option.WithMaxRetries(0), option.WithHTTPClient(e.ts.Client()))
	wantAPIError(t, list(noAuth, ceAccount), http.StatusForbidden, 10000)
	keyAuth := kv.NewKVService(option.WithBaseURL(e.ts.URL+APIPrefix+"/"), option.WithMaxRetries(0), option.WithHTTPClient(e.ts.Client()),
		option.WithAPIKey("key"), option.WithAPIEmail("me@example.com"))
	wantAPIError(t, list(keyAuth, ceAccount), http.StatusForbidden, 10000)
	basic := kv.NewKVService(e.options(ceToken, option.WithHeader("Authorization", "Basic dXNlcjpwYXNz"))...)
	wantAPIError(t, list(basic, ceAccount), http.StatusBadRequest, 6003)

	// A wrong token never reaches the handler: nothing is created.
	_, err = kv.NewKVService(e.options("wrong-token")...).Namespaces.New(e.ctx, kv.NamespaceNewParams{AccountID: cf.F(ceAccount), Title: cf.F("sneaky")})
	wantAPIError(t, err, http.StatusForbidden, 10000)
	l, err := e.kv.Namespaces.List(e.ctx, kv.NamespaceListParams{AccountID: cf.F(ceAccount)})
	if err != nil || len(l.Result) != 1 {
		t.Fatalf("namespaces after a rejected create = %v, %v", l, err)
	}
}

func TestUnroutedPath(t *testing.T) {
	t.Parallel()
	e := newCEEnv(t)
	// A base URL with the wrong prefix routes nowhere.
	svc := user.NewTokenService(option.WithBaseURL(e.ts.URL+"/client/v5/"), option.WithAPIToken(ceToken), option.WithMaxRetries(0), option.WithHTTPClient(e.ts.Client()))
	_, err := svc.Verify(e.ctx)
	wantAPIError(t, err, http.StatusBadRequest, 7000)
	// So does an unknown path under the right prefix, even without a token.
	status, _, body := e.rawDo(http.MethodGet, "/accounts/"+ceAccount+"/no/such/thing", nil, nil)
	if status != http.StatusBadRequest || !strings.Contains(string(body), `"code":7000`) || !strings.Contains(string(body), `"success":false`) {
		t.Fatalf("unrouted: %d %s", status, body)
	}
	if n := e.srv.RequestCount("GET (unrouted)"); n != 2 {
		t.Fatalf("unrouted count = %d\n%s", n, e.srv.FormatRequestCounts())
	}
}

func TestNewRequiresAccountAndToken(t *testing.T) {
	t.Parallel()
	for _, c := range []Config{{Token: "t"}, {AccountID: "a"}} {
		if _, err := New(c); err == nil {
			t.Fatalf("New(%+v) succeeded", c)
		}
	}
}

// kvList lists namespaces once through svc (page 1).
func (e *ceEnv) kvList(svc *kv.KVService) error {
	_, err := svc.Namespaces.List(e.ctx, kv.NamespaceListParams{AccountID: cf.F(ceAccount)})
	return err
}

func TestFaultRateLimit(t *testing.T) {
	t.Parallel()
	e := newCEEnv(t)
	e.srv.InjectFault(Fault{Kind: FaultRateLimit, RetryAfter: "7", Times: 1})

	status, h, body := e.rawDo(http.MethodGet, "/accounts/"+ceAccount+"/storage/kv/namespaces", nil, nil)
	if status != http.StatusTooManyRequests || h.Get("Retry-After") != "7" || !strings.Contains(string(body), `"code":971`) ||
		!strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Fatalf("rate limited: %d %v %s", status, h, body)
	}
	if err := e.kvList(e.kv); err != nil {
		t.Fatalf("after Times: 1 the fault is spent: %v", err)
	}
	if e.srv.FaultHits() != 1 {
		t.Fatalf("hits = %d", e.srv.FaultHits())
	}

	// Through the SDK without retries, with no Retry-After header.
	e.srv.InjectFault(Fault{Kind: FaultRateLimit, Times: 1})
	var raw *http.Response
	err := e.kvList(kv.NewKVService(e.options(ceToken, option.WithResponseInto(&raw))...))
	wantAPIError(t, err, http.StatusTooManyRequests, 971)
	if raw == nil || raw.Header.Get("Retry-After") != "" {
		t.Fatalf("want no Retry-After, got %v", raw)
	}

	// The SDK's own retries, honouring Retry-After: 0, converge.
	e.srv.InjectFault(Fault{Kind: FaultRateLimit, RetryAfter: "0", Times: 2})
	e.srv.ResetRequestCounts()
	before := e.srv.FaultHits()
	if err := e.kvList(kv.NewKVService(e.options(ceToken, option.WithMaxRetries(2))...)); err != nil {
		t.Fatalf("SDK with 2 retries: %v", err)
	}
	if hits := e.srv.FaultHits() - before; hits != 2 {
		t.Fatalf("hits = %d, want 2", hits)
	}
	// Faulted requests are counted under their route too.
	if n := e.srv.RequestCount(routeKVNamespaces); n != 3 {
		t.Fatalf("count = %d, want 3\n%s", n, e.srv.FormatRequestCounts())
	}
}

func TestFaultServerError(t *testing.T) {
	t.Parallel()
	e := newCEEnv(t)
	e.srv.InjectFault(Fault{Kind: FaultServerError, Times: 1})
	wantAPIError(t, e.kvList(e.kv), http.StatusInternalServerError, 10013)
	e.srv.InjectFault(Fault{Kind: FaultServerError, Status: http.StatusServiceUnavailable, Times: 1})
	wantAPIError(t, e.kvList(e.kv), http.StatusServiceUnavailable, 10013)
	if err := e.kvList(e.kv); err != nil {
		t.Fatalf("after the faults are spent: %v", err)
	}
	if e.srv.FaultHits() != 2 {
		t.Fatalf("hits = %d", e.srv.FaultHits())
	}
}

func TestFaultDrop(t *testing.T) {
	t.Parallel()
	e := newCEEnv(t)
	// A fresh connection per request: Go's transport transparently retries an idempotent
	// request whose reused connection was closed, which would hide the drop.
	svc := kv.NewKVService(e.options(ceToken, option.WithHTTPClient(freshConnClient()))...)
	e.srv.InjectFault(Fault{Kind: FaultDrop, Times: 1})
	err := e.kvList(svc)
	var apiErr *cf.Error
	if err == nil || errors.As(err, &apiErr) {
		t.Fatalf("a dropped connection must be a transport error, got %v", err)
	}
	if err := e.kvList(svc); err != nil {
		t.Fatalf("after the drop: %v", err)
	}
	if e.srv.FaultHits() != 1 || e.srv.RequestCount(routeKVNamespaces) != 2 {
		t.Fatalf("hits %d, requests\n%s", e.srv.FaultHits(), e.srv.FormatRequestCounts())
	}
}

func TestFaultLatency(t *testing.T) {
	t.Parallel()
	e := newCEEnv(t)
	const latency = 50 * time.Millisecond
	e.srv.InjectFault(Fault{Kind: FaultLatency, Latency: latency, Times: 1})
	start := time.Now()
	if err := e.kvList(e.kv); err != nil {
		t.Fatalf("a latency fault still serves the request: %v", err)
	}
	if d := time.Since(start); d < latency {
		t.Fatalf("request took %s, less than the injected %s", d, latency)
	}
	if e.srv.FaultHits() != 1 {
		t.Fatalf("hits = %d", e.srv.FaultHits())
	}

	// A huge latency ends with the client's context.
	e.srv.InjectFault(Fault{Kind: FaultLatency, Latency: time.Hour})
	ctx, cancel := context.WithTimeout(e.ctx, 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err := e.kv.Namespaces.List(ctx, kv.NamespaceListParams{AccountID: cf.F(ceAccount)})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want a deadline error, got %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("cancelled request took %s", d)
	}
}

func TestFaultMatchers(t *testing.T) {
	t.Parallel()
	e := newCEEnv(t)
	n := e.mustCreateNamespace("matchers")

	// Method and path matchers.
	e.srv.InjectFault(Fault{Kind: FaultServerError, Method: http.MethodPut})
	e.srv.InjectFault(Fault{Kind: FaultServerError, Status: http.StatusBadGateway, PathContains: "/r2/"})
	if err := e.kvList(e.kv); err != nil {
		t.Fatalf("GET must not match a PUT fault: %v", err)
	}
	wantAPIError(t, e.putValue(n.ID, "k", "v", kv.NamespaceValueUpdateParams{}), http.StatusInternalServerError, 10013)
	status, _, _ := e.rawDo(http.MethodGet, "/accounts/"+ceAccount+"/r2/buckets", nil, nil)
	if status != http.StatusBadGateway {
		t.Fatalf("r2 path fault: %d", status)
	}
	// PathContains matches the escaped path.
	e.srv.ClearFaults()
	e.srv.InjectFault(Fault{Kind: FaultServerError, PathContains: "a%2Fb"})
	wantAPIError(t, e.putValue(n.ID, "a/b", "v", kv.NamespaceValueUpdateParams{}), http.StatusInternalServerError, 10013)
	if err := e.putValue(n.ID, "ab", "v", kv.NamespaceValueUpdateParams{}); err != nil {
		t.Fatal(err)
	}
	e.srv.ClearFaults()
	if err := e.putValue(n.ID, "k", "v", kv.NamespaceValueUpdateParams{}); err != nil {
		t.Fatalf("after ClearFaults: %v", err)
	}

	// Times: the first Times matching requests only.
	e.srv.InjectFault(Fault{Kind: FaultServerError, Times: 2})
	var pattern []bool
	for range 4 {
		pattern = append(pattern, e.kvList(e.kv) != nil)
	}
	if !reflect.DeepEqual(pattern, []bool{true, true, false, false}) {
		t.Fatalf("Times 2 pattern = %v", pattern)
	}
	e.srv.ClearFaults()

	// Every: every Every-th request to the same method and path, counted per path.
	e.srv.InjectFault(Fault{Kind: FaultServerError, Every: 2})
	pattern = nil
	for range 4 {
		pattern = append(pattern, e.kvList(e.kv) != nil)
	}
	if !reflect.DeepEqual(pattern, []bool{false, true, false, true}) {
		t.Fatalf("Every 2 pattern = %v", pattern)
	}
	get := func() bool {
		_, err := e.kv.Namespaces.Get(e.ctx, n.ID, kv.NamespaceGetParams{AccountID: cf.F(ceAccount)})
		return err != nil
	}
	if get() || !get() {
		t.Fatal("Every must count each path separately")
	}
	e.srv.ClearFaults()

	// Every and Times together: every other request, twice.
	e.srv.InjectFault(Fault{Kind: FaultServerError, Every: 2, Times: 2})
	pattern = nil
	for range 6 {
		pattern = append(pattern, e.kvList(e.kv) != nil)
	}
	if !reflect.DeepEqual(pattern, []bool{false, true, false, true, false, false}) {
		t.Fatalf("Every 2 Times 2 pattern = %v", pattern)
	}
	e.srv.ClearFaults()

	// Faults apply before authentication: a faulted request with a bad token gets the fault.
	e.srv.InjectFault(Fault{Kind: FaultRateLimit, RetryAfter: "0", Times: 1})
	wantAPIError(t, e.kvList(kv.NewKVService(e.options("wrong-token")...)), http.StatusTooManyRequests, 971)
}

// TestFaultRate checks that rate-based faults hit some but not all requests, and are
// repeatable for a given seed.
func TestFaultRate(t *testing.T) {
	t.Parallel()
	run := func(seed uint64) []bool {
		e := newCEEnv(t, func(c *Config) { c.FaultSeed = seed })
		e.srv.InjectFault(Fault{Kind: FaultServerError, Rate: 0.5})
		var out []bool
		for range 60 {
			status, _, _ := e.rawDo(http.MethodGet, "/user/tokens/verify", nil, nil)
			out = append(out, status == http.StatusInternalServerError)
		}
		hits := 0
		for _, h := range out {
			if h {
				hits++
			}
		}
		if hits != e.srv.FaultHits() || hits == 0 || hits == len(out) {
			t.Fatalf("seed %d: %d hits of %d requests, FaultHits %d", seed, hits, len(out), e.srv.FaultHits())
		}
		return out
	}
	a, b := run(7), run(7)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("the same seed gave different patterns:\n%v\n%v", a, b)
	}

	// Rate 1 (and 0) always hits.
	for _, rate := range []float64{0, 1} {
		e := newCEEnv(t)
		e.srv.InjectFault(Fault{Kind: FaultServerError, Rate: rate})
		for range 5 {
			if status, _, _ := e.rawDo(http.MethodGet, "/user/tokens/verify", nil, nil); status != http.StatusInternalServerError {
				t.Fatalf("rate %v: status %d", rate, status)
			}
		}
	}
}

func TestRequestCounts(t *testing.T) {
	t.Parallel()
	e := newCEEnv(t)
	n := e.mustCreateNamespace("counts")
	e.mustPutValue(n.ID, "a/b", "v", kv.NamespaceValueUpdateParams{})
	e.mustPutValue(n.ID, "c", "v", kv.NamespaceValueUpdateParams{})
	if _, _, err := e.getValue(n.ID, "c"); err != nil {
		t.Fatal(err)
	}
	if err := e.kvList(e.kv); err != nil {
		t.Fatal(err)
	}
	// Rejected requests are counted too.
	_ = e.kvList(kv.NewKVService(e.options("wrong")...))

	want := map[string]int{
		"POST /accounts/{account_id}/storage/kv/namespaces":                                 1,
		"PUT /accounts/{account_id}/storage/kv/namespaces/{namespace_id}/values/{key_name}": 2,
		"GET /accounts/{account_id}/storage/kv/namespaces/{namespace_id}/values/{key_name}": 1,
		routeKVNamespaces: 2,
	}
	if got := e.srv.RequestCounts(); !reflect.DeepEqual(got, want) {
		t.Fatalf("counts = %v\nwant %v", got, want)
	}
	for k, v := range want {
		if got := e.srv.RequestCount(k); got != v {
			t.Fatalf("RequestCount(%q) = %d, want %d", k, got, v)
		}
	}
	if e.srv.TotalRequests() != 6 {
		t.Fatalf("total = %d", e.srv.TotalRequests())
	}
	if f := e.srv.FormatRequestCounts(); !strings.Contains(f, "    2 PUT /accounts/{account_id}/storage/kv/namespaces/{namespace_id}/values/{key_name}\n") {
		t.Fatalf("formatted counts:\n%s", f)
	}
	// RequestCounts returns a copy.
	e.srv.RequestCounts()[routeKVNamespaces] = 100
	if e.srv.RequestCount(routeKVNamespaces) != 2 {
		t.Fatal("RequestCounts must return a copy")
	}

	e.srv.ResetRequestCounts()
	if e.srv.TotalRequests() != 0 || len(e.srv.RequestCounts()) != 0 || e.srv.RequestCount(routeKVNamespaces) != 0 {
		t.Fatalf("after reset: %v", e.srv.RequestCounts())
	}
	if err := e.kvList(e.kv); err != nil {
		t.Fatal(err)
	}
	if e.srv.RequestCount(routeKVNamespaces) != 1 || e.srv.TotalRequests() != 1 {
		t.Fatalf("after reset and one request: %v", e.srv.RequestCounts())
	}
}

// TestFaultAfterCommit: the write is committed, but the client never learns it (a dropped
// connection) or reads a truncated body (unexpected EOF).
func TestFaultAfterCommit(t *testing.T) {
	t.Parallel()
	for _, kind := range []FaultKind{FaultDropAfterCommit, FaultTruncate} {
		e := newCEEnv(t)
		svc := kv.NewKVService(e.options(ceToken, option.WithHTTPClient(freshConnClient()))...)
		e.srv.InjectFault(Fault{Kind: kind, Method: http.MethodPost, Times: 1})
		_, err := svc.Namespaces.New(e.ctx, kv.NamespaceNewParams{AccountID: cf.F(ceAccount), Title: cf.F("committed")})
		var apiErr *cf.Error
		if err == nil || errors.As(err, &apiErr) {
			t.Fatalf("kind %d: the client must see a transport error, got %v", kind, err)
		}
		if kind == FaultTruncate && !strings.Contains(err.Error(), "unexpected EOF") {
			t.Fatalf("a truncated body must read as unexpected EOF, got %v", err)
		}
		page, err := svc.Namespaces.List(e.ctx, kv.NamespaceListParams{AccountID: cf.F(ceAccount)})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Result) != 1 || page.Result[0].Title != "committed" {
			t.Fatalf("kind %d: the create must have been committed, namespaces = %+v", kind, page.Result)
		}
	}
}
