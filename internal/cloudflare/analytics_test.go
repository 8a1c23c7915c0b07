package cloudflare

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/analytics"
)

// VersionStats reads the per-version counts and latency of a window from the local edge's
// GraphQL endpoint, counting errors as Cloudflare does.
func TestVersionStats(t *testing.T) {
	t.Parallel()
	srv, e := clEdge(t)
	c := clNewClient(t, e.URL)
	at := time.Date(2030, 5, 1, 12, 0, 30, 0, time.UTC)
	rec := srv.Analytics()
	for i := 0; i < 400; i++ {
		// Stable: 1 % exceptions, 1 % 500s it returns (successes to Cloudflare), 10 ms.
		rec.Record(analytics.Invocation{Script: "orders", Version: "stable", Status: []int{200, 500, 500}[min(i%100, 2)], Thrown: i%100 == 1, WallTime: 10 * time.Millisecond, At: at})
	}
	for i := 0; i < 100; i++ {
		// Candidate: 5 % exceptions, wall times 1..100 ms.
		rec.Record(analytics.Invocation{Script: "orders", Version: "canary", Status: 200, Thrown: i%20 == 0, WallTime: time.Duration(i+1) * time.Millisecond, At: at})
	}
	rec.Record(analytics.Invocation{Script: "other", Version: "canary", Status: 200, At: at})
	rec.Record(analytics.Invocation{Script: "orders", Version: "canary", Status: 200, At: at.Add(-2 * time.Minute)}) // before the window

	got, err := c.VersionStats(context.Background(), VersionStatsQuery{Script: "orders", Versions: []string{"stable", "canary", "absent"}, From: at.Add(-10 * time.Second), To: at.Add(10 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if s := got["stable"]; s.Requests != 400 || s.Errors != 4 || s.WallTimeP99 != 10*time.Millisecond {
		t.Fatalf("stable = %+v", s)
	}
	// The local edge's quantiles are within 0.4 % of the exact nearest-rank one (99 ms).
	if s := got["canary"]; s.Requests != 100 || s.Errors != 5 || s.WallTimeP99 < 98600*time.Microsecond || s.WallTimeP99 > 99400*time.Microsecond {
		t.Fatalf("canary = %+v", s)
	}
	if _, ok := got["absent"]; ok || len(got) != 2 {
		t.Fatalf("stats = %+v", got)
	}
}

// A GraphQL error (sent with HTTP 200) is an error of the call, with the server's message; an
// authorization failure is KindAuth and says which permission the token needs.
func TestVersionStatsErrors(t *testing.T) {
	t.Parallel()
	answer := `{"data":null,"errors":[{"message":"not authorized for that account","extensions":{"code":"authz"}}]}`
	status := http.StatusOK
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/client/v4/graphql" || r.Method != http.MethodPost || r.Header.Get("Authorization") != "Bearer "+clToken {
			http.Error(w, "unexpected request "+r.Method+" "+r.URL.Path, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(answer))
	}))
	defer ts.Close()
	c := clNewClient(t, ts.URL)
	_, err := c.VersionStats(context.Background(), VersionStatsQuery{Script: "orders", Versions: []string{"a"}, From: time.Now().Add(-time.Minute), To: time.Now()})
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), `reading the analytics of Worker "orders": `) ||
		!strings.Contains(err.Error(), "not authorized for that account (the API token needs Account Analytics Read)") {
		t.Fatalf("err = %v", err)
	}
	answer = `{"data":null,"errors":[{"message":"unknown field \"x\"","extensions":{"code":"validation"}}]}`
	_, err = c.VersionStats(context.Background(), VersionStatsQuery{Script: "orders", Versions: []string{"a"}, From: time.Now().Add(-time.Minute), To: time.Now()})
	if !errors.Is(err, ErrValidation) || err.Error() != `reading the analytics of Worker "orders": unknown field "x"` {
		t.Fatalf("err = %v", err)
	}
	// An HTTP error answers with the API's envelope: its status and first error decide.
	status, answer = http.StatusForbidden, `{"success":false,"errors":[{"code":10000,"message":"Authentication error"}],"messages":[],"result":null}`
	_, err = c.VersionStats(context.Background(), VersionStatsQuery{Script: "orders", Versions: []string{"a"}, From: time.Now().Add(-time.Minute), To: time.Now()})
	var apiErr *Error
	if !errors.Is(err, ErrAuth) || !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden || apiErr.Code != 10000 || !strings.Contains(err.Error(), "Authentication error") {
		t.Fatalf("err = %v", err)
	}
}
