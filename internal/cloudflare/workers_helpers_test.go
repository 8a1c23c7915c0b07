package cloudflare

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

const (
	wkAccount  = "0123456789abcdef0123456789abcdef"
	wkToken    = "workers-client-test-token"
	wkZone     = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	wkZoneName = "example.com"
	wkCode     = "export default { async fetch(request, env) { return new Response('hi') } }"
)

// wkWasm is a minimal Wasm module: bytes that are not valid UTF-8 and include NULs, so a
// lossy text round trip would show.
var wkWasm = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0xff, 0xfe, 0x80}

// wkRequest is one request the local edge received, body included.
type wkRequest struct {
	Method, Path, RawQuery, ContentType string
	Body                                []byte
}

// wkEnv is one test's local edge and a Client pointed at it.
type wkEnv struct {
	t   *testing.T
	srv *localedge.Server
	c   *Client
	ctx context.Context

	mu       sync.Mutex
	requests []wkRequest
}

// newWKEnv starts a fresh local edge (its own temporary store) and a client with one retry.
func newWKEnv(t *testing.T) *wkEnv {
	t.Helper()
	e := &wkEnv{t: t, ctx: context.Background()}
	edge := edgetest.Start(t, edgetest.WithConfig(func(c *localedge.Config) {
		c.AccountID, c.Token, c.Zones, c.Now, c.NoWorkersSubdomain = wkAccount, wkToken, map[string]string{wkZone: wkZoneName}, nil, true
	}), edgetest.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			e.mu.Lock()
			e.requests = append(e.requests, wkRequest{Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, ContentType: r.Header.Get("Content-Type"), Body: body})
			e.mu.Unlock()
			next.ServeHTTP(w, r)
		})
	}))
	e.srv = edge.Server
	c, err := New(Config{AccountID: wkAccount, APIToken: wkToken, BaseURL: edge.BaseURL, MaxRetries: 1, HTTPClient: edge.Client()})
	if err != nil {
		t.Fatal(err)
	}
	e.c = c
	return e
}

// lastRequest returns the last request with the method whose path ends with suffix.
func (e *wkEnv) lastRequest(method, suffix string) wkRequest {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := len(e.requests) - 1; i >= 0; i-- {
		if r := e.requests[i]; r.Method == method && strings.HasSuffix(r.Path, suffix) {
			return r
		}
	}
	e.t.Fatalf("no %s request to ...%s", method, suffix)
	return wkRequest{}
}

// allRequests returns a copy of every request received so far.
func (e *wkEnv) allRequests() []wkRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]wkRequest(nil), e.requests...)
}

// wkUpload is a script upload with index.js as main module.
func wkUpload(name string) ScriptUpload {
	return ScriptUpload{
		Name: name, MainModule: "index.js", CompatibilityDate: "2025-01-01",
		Modules: []Module{{Name: "index.js", Content: []byte(wkCode)}},
	}
}

// mustUpload uploads or fails the test.
func (e *wkEnv) mustUpload(u ScriptUpload) Script {
	e.t.Helper()
	s, err := e.c.UploadScript(e.ctx, u)
	if err != nil {
		e.t.Fatalf("upload %s: %v", u.Name, err)
	}
	return s
}

// wantKind asserts err is our *Error of the kind (and, when code != 0, Cloudflare's code).
func wantKind(t *testing.T, err error, sentinel *Error, code int64) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("want kind %d error, got %v", sentinel.Kind, err)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want *Error, got %T", err)
	}
	if code != 0 && e.Code != code {
		t.Fatalf("want Cloudflare code %d, got %d: %v", code, e.Code, err)
	}
}

// sortedBindings orders bindings by name: the API does not promise an order.
func sortedBindings(bs []Binding) []Binding {
	out := append([]Binding(nil), bs...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
