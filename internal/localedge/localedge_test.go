package localedge_test

// Token verification, authentication and routing errors, and the server-wide test
// machinery: fault injection and request counters.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	cfr2 "github.com/cloudflare/cloudflare-go/v7/r2"

	cf "github.com/cloudflare/cloudflare-go/v7"
	cfkv "github.com/cloudflare/cloudflare-go/v7/kv"
	"github.com/cloudflare/cloudflare-go/v7/option"
	cfuser "github.com/cloudflare/cloudflare-go/v7/user"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

func TestAuthErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := e.kv.MustCreateNamespace("auth")
	list := func(svc *cfkv.KVService, account string) error {
		_, err := svc.Namespaces.List(e.ctx, cfkv.NamespaceListParams{AccountID: cf.F(account)})
		return err
	}

	edgetest.WantAPIError(t, list(cfkv.NewKVService(e.SDK("wrong-token")...), edgetest.AccountID), http.StatusForbidden, 10000)
	edgetest.WantAPIError(t, list(e.kv.KVService, "ffffffffffffffffffffffffffffffff"), http.StatusForbidden, 10000)
	_, err := e.kv.Namespaces.Get(e.ctx, n.ID, cfkv.NamespaceGetParams{AccountID: cf.F("ffffffffffffffffffffffffffffffff")})
	edgetest.WantAPIError(t, err, http.StatusForbidden, 10000)

	noAuth := cfkv.NewKVService(option.WithBaseURL(e.BaseURL+"/"), option.WithMaxRetries(0), option.WithHTTPClient(e.HTTP))
	edgetest.WantAPIError(t, list(noAuth, edgetest.AccountID), http.StatusForbidden, 10000)
	keyAuth := cfkv.NewKVService(option.WithBaseURL(e.BaseURL+"/"), option.WithMaxRetries(0), option.WithHTTPClient(e.HTTP),
		option.WithAPIKey("key"), option.WithAPIEmail("me@example.com"))
	edgetest.WantAPIError(t, list(keyAuth, edgetest.AccountID), http.StatusForbidden, 10000)
	basic := cfkv.NewKVService(e.SDK(edgetest.Token, option.WithHeader("Authorization", "Basic dXNlcjpwYXNz"))...)
	edgetest.WantAPIError(t, list(basic, edgetest.AccountID), http.StatusBadRequest, 6003)

	// A wrong token never reaches the handler: nothing is created.
	_, err = cfkv.NewKVService(e.SDK("wrong-token")...).Namespaces.New(e.ctx, cfkv.NamespaceNewParams{AccountID: cf.F(edgetest.AccountID), Title: cf.F("sneaky")})
	edgetest.WantAPIError(t, err, http.StatusForbidden, 10000)
	l, err := e.kv.Namespaces.List(e.ctx, cfkv.NamespaceListParams{AccountID: cf.F(edgetest.AccountID)})
	if err != nil || len(l.Result) != 1 {
		t.Fatalf("namespaces after a rejected create = %v, %v", l, err)
	}
}

func TestUnroutedPath(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// A base URL with the wrong prefix routes nowhere.
	svc := cfuser.NewTokenService(option.WithBaseURL(e.URL+"/client/v5/"), option.WithAPIToken(edgetest.Token), option.WithMaxRetries(0), option.WithHTTPClient(e.HTTP))
	_, err := svc.Verify(e.ctx)
	edgetest.WantAPIError(t, err, http.StatusBadRequest, 7000)
	// So does an unknown path under the right prefix, even without a token.
	status, _, body := e.Raw(http.MethodGet, "/accounts/"+edgetest.AccountID+"/no/such/thing", nil, nil)
	if status != http.StatusBadRequest || !strings.Contains(string(body), `"code":7000`) || !strings.Contains(string(body), `"success":false`) {
		t.Fatalf("unrouted: %d %s", status, body)
	}
	if n := e.Server.RequestCount("GET (unrouted)"); n != 2 {
		t.Fatalf("unrouted count = %d\n%s", n, e.Server.FormatRequestCounts())
	}
}

func TestNewRequiresAccountAndToken(t *testing.T) {
	t.Parallel()
	for _, c := range []localedge.Config{{Token: "t"}, {AccountID: "a"}} {
		if _, err := localedge.New(c); err == nil {
			t.Fatalf("New(%+v) succeeded", c)
		}
	}
}

// kvList lists namespaces once through svc (page 1).
func (e *env) kvList(svc *cfkv.KVService) error {
	_, err := svc.Namespaces.List(e.ctx, cfkv.NamespaceListParams{AccountID: cf.F(edgetest.AccountID)})
	return err
}

func TestFaultRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.Server.InjectFault(localedge.Fault{Kind: localedge.FaultRateLimit, RetryAfter: "7", Times: 1})

	status, h, body := e.Raw(http.MethodGet, "/accounts/"+edgetest.AccountID+"/storage/kv/namespaces", nil, nil)
	if status != http.StatusTooManyRequests || h.Get("Retry-After") != "7" || !strings.Contains(string(body), `"code":971`) ||
		!strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Fatalf("rate limited: %d %v %s", status, h, body)
	}
	if err := e.kvList(e.kv.KVService); err != nil {
		t.Fatalf("after Times: 1 the fault is spent: %v", err)
	}
	if e.Server.FaultHits() != 1 {
		t.Fatalf("hits = %d", e.Server.FaultHits())
	}

	// Through the SDK without retries, with no Retry-After header.
	e.Server.InjectFault(localedge.Fault{Kind: localedge.FaultRateLimit, Times: 1})
	var raw *http.Response
	err := e.kvList(cfkv.NewKVService(e.SDK(edgetest.Token, option.WithResponseInto(&raw))...))
	edgetest.WantAPIError(t, err, http.StatusTooManyRequests, 971)
	if raw == nil || raw.Header.Get("Retry-After") != "" {
		t.Fatalf("want no Retry-After, got %v", raw)
	}

	// The SDK's own retries, honouring Retry-After: 0, converge.
	e.Server.InjectFault(localedge.Fault{Kind: localedge.FaultRateLimit, RetryAfter: "0", Times: 2})
	e.Server.ResetRequestCounts()
	before := e.Server.FaultHits()
	if err := e.kvList(cfkv.NewKVService(e.SDK(edgetest.Token, option.WithMaxRetries(2))...)); err != nil {
		t.Fatalf("SDK with 2 retries: %v", err)
	}
	if hits := e.Server.FaultHits() - before; hits != 2 {
		t.Fatalf("hits = %d, want 2", hits)
	}
	// Faulted requests are counted under their route too.
	if n := e.Server.RequestCount("GET /accounts/{account_id}/storage/kv/namespaces"); n != 3 {
		t.Fatalf("count = %d, want 3\n%s", n, e.Server.FormatRequestCounts())
	}
}

func TestFaultServerError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.Server.InjectFault(localedge.Fault{Kind: localedge.FaultServerError, Times: 1})
	edgetest.WantAPIError(t, e.kvList(e.kv.KVService), http.StatusInternalServerError, 10013)
	e.Server.InjectFault(localedge.Fault{Kind: localedge.FaultServerError, Status: http.StatusServiceUnavailable, Times: 1})
	edgetest.WantAPIError(t, e.kvList(e.kv.KVService), http.StatusServiceUnavailable, 10013)
	if err := e.kvList(e.kv.KVService); err != nil {
		t.Fatalf("after the faults are spent: %v", err)
	}
	if e.Server.FaultHits() != 2 {
		t.Fatalf("hits = %d", e.Server.FaultHits())
	}
}

func TestFaultDrop(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// A fresh connection per request: Go's transport transparently retries an idempotent
	// request whose reused connection was closed, which would hide the drop.
	svc := cfkv.NewKVService(e.SDK(edgetest.Token, option.WithHTTPClient(edgetest.FreshConnClient()))...)
	e.Server.InjectFault(localedge.Fault{Kind: localedge.FaultDrop, Times: 1})
	err := e.kvList(svc)
	var apiErr *cf.Error
	if err == nil || errors.As(err, &apiErr) {
		t.Fatalf("a dropped connection must be a transport error, got %v", err)
	}
	if err := e.kvList(svc); err != nil {
		t.Fatalf("after the drop: %v", err)
	}
	if e.Server.FaultHits() != 1 || e.Server.RequestCount("GET /accounts/{account_id}/storage/kv/namespaces") != 2 {
		t.Fatalf("hits %d, requests\n%s", e.Server.FaultHits(), e.Server.FormatRequestCounts())
	}
}

func TestFaultLatency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const latency = 50 * time.Millisecond
	e.Server.InjectFault(localedge.Fault{Kind: localedge.FaultLatency, Latency: latency, Times: 1})
	start := time.Now()
	if err := e.kvList(e.kv.KVService); err != nil {
		t.Fatalf("a latency fault still serves the request: %v", err)
	}
	if d := time.Since(start); d < latency {
		t.Fatalf("request took %s, less than the injected %s", d, latency)
	}
	if e.Server.FaultHits() != 1 {
		t.Fatalf("hits = %d", e.Server.FaultHits())
	}

	// A huge latency ends with the client's context.
	e.Server.InjectFault(localedge.Fault{Kind: localedge.FaultLatency, Latency: time.Hour})
	ctx, cancel := context.WithTimeout(e.ctx, 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err := e.kv.Namespaces.List(ctx, cfkv.NamespaceListParams{AccountID: cf.F(edgetest.AccountID)})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want a deadline error, got %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("cancelled request took %s", d)
	}
}

func TestFaultMatchers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := e.kv.MustCreateNamespace("matchers")

	// Method and path matchers.
	e.Server.InjectFault(localedge.Fault{Kind: localedge.FaultServerError, Method: http.MethodPut})
	e.Server.InjectFault(localedge.Fault{Kind: localedge.FaultServerError, Status: http.StatusBadGateway, PathContains: "/r2/"})
	if err := e.kvList(e.kv.KVService); err != nil {
		t.Fatalf("GET must not match a PUT fault: %v", err)
	}
	edgetest.WantAPIError(t, e.kv.Put(n.ID, "k", "v", cfkv.NamespaceValueUpdateParams{}), http.StatusInternalServerError, 10013)
	status, _, _ := e.Raw(http.MethodGet, "/accounts/"+edgetest.AccountID+"/r2/buckets", nil, nil)
	if status != http.StatusBadGateway {
		t.Fatalf("r2 path fault: %d", status)
	}
	// PathContains matches the escaped path.
	e.Server.ClearFaults()
	e.Server.InjectFault(localedge.Fault{Kind: localedge.FaultServerError, PathContains: "a%2Fb"})
	edgetest.WantAPIError(t, e.kv.Put(n.ID, "a/b", "v", cfkv.NamespaceValueUpdateParams{}), http.StatusInternalServerError, 10013)
	if err := e.kv.Put(n.ID, "ab", "v", cfkv.NamespaceValueUpdateParams{}); err != nil {
		t.Fatal(err)
	}
	e.Server.ClearFaults()
	if err := e.kv.Put(n.ID, "k", "v", cfkv.NamespaceValueUpdateParams{}); err != nil {
		t.Fatalf("after ClearFaults: %v", err)
	}

	// Times: the first Times matching requests only.
	e.Server.InjectFault(localedge.Fault{Kind: localedge.FaultServerError, Times: 2})
	var pattern []bool
	for range 4 {
		pattern = append(pattern, e.kvList(e.kv.KVService) != nil)
	}
	if !reflect.DeepEqual(pattern, []bool{true, true, false, false}) {
		t.Fatalf("Times 2 pattern = %v", pattern)
	}
	e.Server.ClearFaults()

	// Every: every Every-th request to the same method and path, counted per path.
	e.Server.InjectFault(localedge.Fault{Kind: localedge.FaultServerError, Every: 2})
	pattern = nil
	for range 4 {
		pattern = append(pattern, e.kvList(e.kv.KVService) != nil)
	}
	if !reflect.DeepEqual(pattern, []bool{false, true, false, true}) {
		t.Fatalf("Every 2 pattern = %v", pattern)
	}
	get := func() bool {
		_, err := e.kv.Namespaces.Get(e.ctx, n.ID, cfkv.NamespaceGetParams{AccountID: cf.F(edgetest.AccountID)})
		return err != nil
	}
	if get() || !get() {
		t.Fatal("Every must count each path separately")
	}
	e.Server.ClearFaults()

	// Every and Times together: every other request, twice.
	e.Server.InjectFault(localedge.Fault{Kind: localedge.FaultServerError, Every: 2, Times: 2})
	pattern = nil
	for range 6 {
		pattern = append(pattern, e.kvList(e.kv.KVService) != nil)
	}
	if !reflect.DeepEqual(pattern, []bool{false, true, false, true, false, false}) {
		t.Fatalf("Every 2 Times 2 pattern = %v", pattern)
	}
	e.Server.ClearFaults()

	// Faults apply before authentication: a faulted request with a bad token gets the fault.
	e.Server.InjectFault(localedge.Fault{Kind: localedge.FaultRateLimit, RetryAfter: "0", Times: 1})
	edgetest.WantAPIError(t, e.kvList(cfkv.NewKVService(e.SDK("wrong-token")...)), http.StatusTooManyRequests, 971)
}

// TestFaultRate checks that rate-based faults hit some but not all requests, and are
// repeatable for a given seed.
func TestFaultRate(t *testing.T) {
	t.Parallel()
	run := func(seed uint64) []bool {
		e := newEnv(t, edgetest.WithConfig(func(c *localedge.Config) { c.FaultSeed = seed }))
		e.Server.InjectFault(localedge.Fault{Kind: localedge.FaultServerError, Rate: 0.5})
		var out []bool
		for range 60 {
			status, _, _ := e.Raw(http.MethodGet, "/user/tokens/verify", nil, nil)
			out = append(out, status == http.StatusInternalServerError)
		}
		hits := 0
		for _, h := range out {
			if h {
				hits++
			}
		}
		if hits != e.Server.FaultHits() || hits == 0 || hits == len(out) {
			t.Fatalf("seed %d: %d hits of %d requests, FaultHits %d", seed, hits, len(out), e.Server.FaultHits())
		}
		return out
	}
	a, b := run(7), run(7)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("the same seed gave different patterns:\n%v\n%v", a, b)
	}

	// Rate 1 (and 0) always hits.
	for _, rate := range []float64{0, 1} {
		e := newEnv(t)
		e.Server.InjectFault(localedge.Fault{Kind: localedge.FaultServerError, Rate: rate})
		for range 5 {
			if status, _, _ := e.Raw(http.MethodGet, "/user/tokens/verify", nil, nil); status != http.StatusInternalServerError {
				t.Fatalf("rate %v: status %d", rate, status)
			}
		}
	}
}

func TestRequestCounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := e.kv.MustCreateNamespace("counts")
	e.kv.MustPut(n.ID, "a/b", "v", cfkv.NamespaceValueUpdateParams{})
	e.kv.MustPut(n.ID, "c", "v", cfkv.NamespaceValueUpdateParams{})
	if _, _, err := e.kv.Get(n.ID, "c"); err != nil {
		t.Fatal(err)
	}
	if err := e.kvList(e.kv.KVService); err != nil {
		t.Fatal(err)
	}
	// Rejected requests are counted too.
	_ = e.kvList(cfkv.NewKVService(e.SDK("wrong")...))

	want := map[string]int{
		"POST /accounts/{account_id}/storage/kv/namespaces":                                 1,
		"PUT /accounts/{account_id}/storage/kv/namespaces/{namespace_id}/values/{key_name}": 2,
		"GET /accounts/{account_id}/storage/kv/namespaces/{namespace_id}/values/{key_name}": 1,
		"GET /accounts/{account_id}/storage/kv/namespaces":                                  2,
	}
	if got := e.Server.RequestCounts(); !reflect.DeepEqual(got, want) {
		t.Fatalf("counts = %v\nwant %v", got, want)
	}
	for k, v := range want {
		if got := e.Server.RequestCount(k); got != v {
			t.Fatalf("RequestCount(%q) = %d, want %d", k, got, v)
		}
	}
	if e.Server.TotalRequests() != 6 {
		t.Fatalf("total = %d", e.Server.TotalRequests())
	}
	if f := e.Server.FormatRequestCounts(); !strings.Contains(f, "    2 PUT /accounts/{account_id}/storage/kv/namespaces/{namespace_id}/values/{key_name}\n") {
		t.Fatalf("formatted counts:\n%s", f)
	}
	// RequestCounts returns a copy.
	e.Server.RequestCounts()["GET /accounts/{account_id}/storage/kv/namespaces"] = 100
	if e.Server.RequestCount("GET /accounts/{account_id}/storage/kv/namespaces") != 2 {
		t.Fatal("RequestCounts must return a copy")
	}

	e.Server.ResetRequestCounts()
	if e.Server.TotalRequests() != 0 || len(e.Server.RequestCounts()) != 0 || e.Server.RequestCount("GET /accounts/{account_id}/storage/kv/namespaces") != 0 {
		t.Fatalf("after reset: %v", e.Server.RequestCounts())
	}
	if err := e.kvList(e.kv.KVService); err != nil {
		t.Fatal(err)
	}
	if e.Server.RequestCount("GET /accounts/{account_id}/storage/kv/namespaces") != 1 || e.Server.TotalRequests() != 1 {
		t.Fatalf("after reset and one request: %v", e.Server.RequestCounts())
	}
}

// TestFaultAfterCommit: the write is committed, but the client never learns it (a dropped
// connection) or reads a truncated body (unexpected EOF).
func TestFaultAfterCommit(t *testing.T) {
	t.Parallel()
	for _, kind := range []localedge.FaultKind{localedge.FaultDropAfterCommit, localedge.FaultTruncate} {
		e := newEnv(t)
		svc := cfkv.NewKVService(e.SDK(edgetest.Token, option.WithHTTPClient(edgetest.FreshConnClient()))...)
		e.Server.InjectFault(localedge.Fault{Kind: kind, Method: http.MethodPost, Times: 1})
		_, err := svc.Namespaces.New(e.ctx, cfkv.NamespaceNewParams{AccountID: cf.F(edgetest.AccountID), Title: cf.F("committed")})
		var apiErr *cf.Error
		if err == nil || errors.As(err, &apiErr) {
			t.Fatalf("kind %d: the client must see a transport error, got %v", kind, err)
		}
		if kind == localedge.FaultTruncate && !strings.Contains(err.Error(), "unexpected EOF") {
			t.Fatalf("a truncated body must read as unexpected EOF, got %v", err)
		}
		page, err := svc.Namespaces.List(e.ctx, cfkv.NamespaceListParams{AccountID: cf.F(edgetest.AccountID)})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Result) != 1 || page.Result[0].Title != "committed" {
			t.Fatalf("kind %d: the create must have been committed, namespaces = %+v", kind, page.Result)
		}
	}
}

// TestEdgePersistence writes KV and R2 state through one server, closes it, and reads
// everything back through a new server on the same data directory.
func TestEdgePersistence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	withDir := edgetest.WithConfig(func(c *localedge.Config) { c.DataDir = dir })

	e1 := newEnv(t, withDir)
	// A second server on a data directory in use fails (after bbolt's 1 s lock timeout).
	if _, err := localedge.New(localedge.Config{AccountID: edgetest.AccountID, Token: edgetest.Token, DataDir: dir}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second server on the same data directory: %v", err)
	}

	acct := cf.F(edgetest.AccountID)
	n := e1.kv.MustCreateNamespace("persisted")
	const meta = `{"owner":"team-a"}`
	e1.kv.MustPut(n.ID, "dir/a key", "value-1", cfkv.NamespaceValueUpdateParams{Metadata: cf.F[any](meta)})
	e1.kv.MustPut(n.ID, "ttl", "value-2", cfkv.NamespaceValueUpdateParams{ExpirationTTL: cf.F(3600.0)})
	exp := e1.Clock.Now().Unix() + 3600
	if _, err := e1.r2.Buckets.New(e1.ctx, cfr2.BucketNewParams{
		AccountID: acct, Name: cf.F("persisted-bucket"), LocationHint: cf.F(cfr2.BucketNewParamsLocationHintWeur),
		Jurisdiction: cf.F(cfr2.BucketNewParamsCfR2JurisdictionEu),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e1.r2.Buckets.Objects.Upload(e1.ctx, "persisted-bucket", url.PathEscape("img/logo.png"), strings.NewReader("PNG"), cfr2.BucketObjectUploadParams{
		AccountID: acct, Jurisdiction: cf.F(cfr2.BucketObjectUploadParamsCfR2JurisdictionEu),
	}); err != nil {
		t.Fatal(err)
	}
	if err := e1.Close(); err != nil {
		t.Fatal(err)
	}

	e2 := newEnv(t, withDir)
	got, err := e2.kv.Namespaces.Get(e2.ctx, n.ID, cfkv.NamespaceGetParams{AccountID: acct})
	if err != nil || got.Title != "persisted" {
		t.Fatalf("namespace after restart = %+v, %v", got, err)
	}
	if v, _, err := e2.kv.Get(n.ID, "dir/a key"); err != nil || v != "value-1" {
		t.Fatalf("value after restart = %q, %v", v, err)
	}
	md, err := e2.kv.Namespaces.Metadata.Get(e2.ctx, n.ID, url.PathEscape("dir/a key"), cfkv.NamespaceMetadataGetParams{AccountID: acct})
	if err != nil || !reflect.DeepEqual(*md, map[string]any{"owner": "team-a"}) {
		t.Fatalf("metadata after restart = %#v, %v", md, err)
	}
	keys := e2.kv.Keys(n.ID, cfkv.NamespaceKeyListParams{})
	if len(keys) != 2 || keys[1].Name != "ttl" || int64(keys[1].Expiration) != exp {
		t.Fatalf("keys after restart = %+v", keys)
	}
	b, err := e2.r2.Buckets.Get(e2.ctx, "persisted-bucket", cfr2.BucketGetParams{AccountID: acct, Jurisdiction: cf.F(cfr2.BucketGetParamsCfR2JurisdictionEu)})
	if err != nil || b.Location != "WEUR" || b.Jurisdiction != "eu" {
		t.Fatalf("bucket after restart = %+v, %v", b, err)
	}
	res, err := e2.r2.Buckets.Objects.Get(e2.ctx, "persisted-bucket", url.PathEscape("img/logo.png"), cfr2.BucketObjectGetParams{
		AccountID: acct, Jurisdiction: cf.F(cfr2.BucketObjectGetParamsCfR2JurisdictionEu),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if body, _ := io.ReadAll(res.Body); string(body) != "PNG" {
		t.Fatalf("object after restart = %q", body)
	}
}

// A fresh store gets a workers.dev subdomain once: deleting it through the API is kept
// across restarts, and an edge can start without one, or with another name.
func TestWorkersSubdomainSeeding(t *testing.T) {
	t.Parallel()
	subdomain := func(e *env) (int, string) {
		status, _, body := e.Raw(http.MethodGet, "/accounts/"+edgetest.AccountID+"/workers/subdomain", nil, nil)
		return status, string(body)
	}
	dir := t.TempDir()
	withDir := edgetest.WithConfig(func(c *localedge.Config) { c.DataDir = dir })
	e1 := newEnv(t, withDir)
	if status, body := subdomain(e1); status != http.StatusOK || !strings.Contains(body, `"subdomain":"`+localedge.DefaultWorkersSubdomain+`"`) {
		t.Fatalf("fresh edge: %d %s", status, body)
	}
	if status, _, body := e1.Raw(http.MethodDelete, "/accounts/"+edgetest.AccountID+"/workers/subdomain", nil, nil); status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", status, body)
	}
	if err := e1.Close(); err != nil {
		t.Fatal(err)
	}
	if status, body := subdomain(newEnv(t, withDir)); status != http.StatusNotFound {
		t.Fatalf("a deleted subdomain came back after a restart: %d %s", status, body)
	}

	if status, body := subdomain(newEnv(t, edgetest.WithConfig(func(c *localedge.Config) { c.NoWorkersSubdomain = true }))); status != http.StatusNotFound {
		t.Fatalf("NoWorkersSubdomain: %d %s", status, body)
	}
	if status, body := subdomain(newEnv(t, edgetest.WithConfig(func(c *localedge.Config) { c.WorkersSubdomain = "acme" }))); status != http.StatusOK || !strings.Contains(body, `"subdomain":"acme"`) {
		t.Fatalf("WorkersSubdomain acme: %d %s", status, body)
	}
	if _, err := localedge.New(localedge.Config{AccountID: "a", Token: "t", WorkersSubdomain: "Not Valid"}); err == nil || !strings.Contains(err.Error(), "invalid workers.dev subdomain") {
		t.Fatalf("an invalid subdomain: %v", err)
	}
}
