package cloudflare

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
)

// The retry policy against the local edge's after-commit faults: the handler runs (a write is
// committed), then the response is lost.

func TestClientRetriesTruncatedReads(t *testing.T) {
	t.Parallel()
	srv, ts := clEdge(t)
	c := clNewClient(t, ts.URL, clFreshConns)
	ns, err := c.CreateKVNamespace(context.Background(), "truncated-reads")
	if err != nil {
		t.Fatal(err)
	}
	srv.InjectFault(localedge.Fault{Kind: localedge.FaultTruncate, Method: http.MethodGet, Times: 2})
	got, err := c.GetKVNamespace(context.Background(), ns.ID)
	if err != nil || got.Title != "truncated-reads" {
		t.Fatalf("two truncated GETs with max_retries 2: %+v, %v", got, err)
	}
	if srv.FaultHits() != 2 || srv.RequestCount("GET /accounts/{account_id}/storage/kv/namespaces/{namespace_id}") != 3 {
		t.Fatalf("hits %d\n%s", srv.FaultHits(), srv.FormatRequestCounts())
	}

	// A truncated PUT is repeated too: writing the same value twice is harmless.
	srv.InjectFault(localedge.Fault{Kind: localedge.FaultTruncate, Method: http.MethodPut, Times: 1})
	if err := c.PutKVValue(context.Background(), ns.ID, "k", []byte("v"), nil); err != nil {
		t.Fatalf("truncated PUT: %v", err)
	}
	// And a dropped bulk delete (a POST marked safe to repeat).
	srv.InjectFault(localedge.Fault{Kind: localedge.FaultDropAfterCommit, Method: http.MethodPost, PathContains: "/bulk/delete", Times: 1})
	if err := c.DeleteKVKeys(context.Background(), ns.ID, []string{"k"}); err != nil {
		t.Fatalf("dropped bulk delete: %v", err)
	}
	if srv.FaultHits() != 4 {
		t.Fatalf("hits %d\n%s", srv.FaultHits(), srv.FormatRequestCounts())
	}

	// Truncated on every attempt: the error says how many attempts over how long.
	srv.InjectFault(localedge.Fault{Kind: localedge.FaultTruncate, Method: http.MethodGet})
	_, err = c.GetKVNamespace(context.Background(), ns.ID)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "giving up after 3 attempt(s) in ") ||
		!strings.Contains(err.Error(), "unexpected EOF") {
		t.Fatalf("want Unavailable after 3 attempts, got %v", err)
	}
}

// A create whose answer is lost is not repeated (that would make a second namespace or fail
// with "already exists"): it fails as an unknown outcome, and exactly one namespace exists.
func TestClientCreateWithLostAnswerIsUnknownOutcome(t *testing.T) {
	t.Parallel()
	for name, kind := range map[string]localedge.FaultKind{"dropped": localedge.FaultDropAfterCommit, "truncated": localedge.FaultTruncate} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, ts := clEdge(t)
			c := clNewClient(t, ts.URL, clFreshConns, func(c *Config) { c.MaxRetries = 4 })
			srv.InjectFault(localedge.Fault{Kind: kind, Method: http.MethodPost, PathContains: "/storage/kv/namespaces", Times: 1})
			_, err := c.CreateKVNamespace(context.Background(), "lost-answer")
			if !IsUnknownOutcome(err) {
				t.Fatalf("want an unknown outcome, got %v", err)
			}
			if !strings.HasPrefix(err.Error(), `creating KV namespace "lost-answer": POST `) || !strings.Contains(err.Error(), "outcome unknown") {
				t.Fatalf("error = %v", err)
			}
			if n := srv.RequestCount("POST /accounts/{account_id}/storage/kv/namespaces"); n != 1 {
				t.Fatalf("the create was sent %d times, want once", n)
			}
			all, err := c.ListKVNamespaces(context.Background())
			if err != nil || len(all) != 1 || all[0].Title != "lost-answer" {
				t.Fatalf("namespaces = %+v, %v: the create was committed once", all, err)
			}

			srv.InjectFault(localedge.Fault{Kind: kind, Method: http.MethodPost, PathContains: "/r2/buckets", Times: 1})
			if _, err := c.CreateR2Bucket(context.Background(), R2BucketSpec{Name: "lost-answer"}); !IsUnknownOutcome(err) {
				t.Fatalf("R2: want an unknown outcome, got %v", err)
			}
			if _, err := c.GetR2Bucket(context.Background(), "lost-answer", ""); err != nil {
				t.Fatalf("the bucket was created: %v", err)
			}
		})
	}
}

// 100 % 5xx: the call stops within the budget and says how many attempts over how long.
func TestClientAllServerErrorsSayHowHardItTried(t *testing.T) {
	t.Parallel()
	srv, ts := clEdge(t)
	srv.InjectFault(localedge.Fault{Kind: localedge.FaultServerError, Status: http.StatusServiceUnavailable})
	c := clNewClient(t, ts.URL, func(c *Config) { c.MaxRetries = 2 })
	_, err := c.CreateKVNamespace(context.Background(), "never")
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("want Unavailable, got %v", err)
	}
	e := clAsError(t, err)
	if e.Attempts != 3 || e.Elapsed <= 0 || e.Code != 10013 {
		t.Fatalf("error = %+v", e)
	}
	if !strings.HasPrefix(err.Error(), `creating KV namespace "never": Cloudflare API error 10013 (HTTP 503): An unknown error has occurred; giving up after 3 attempt(s) in `) {
		t.Fatalf("error = %v", err)
	}
}
