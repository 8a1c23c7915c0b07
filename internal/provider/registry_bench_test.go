package provider

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/registry"
)

// BenchmarkDiscovery1000 resolves a version constraint over a registry of 1000 entries
// (100 services × 10 versions): wall time and API calls per discovery.
func BenchmarkDiscovery1000(b *testing.B) {
	srv, err := localedge.New(localedge.Config{AccountID: testAccountID, Token: testToken})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	b.Cleanup(func() {
		ts.Close()
		_ = srv.Close()
	})
	client, err := cloudflare.New(cloudflare.Config{AccountID: testAccountID, APIToken: testToken, BaseURL: ts.URL + localedge.APIPrefix})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	ns, err := client.CreateKVNamespace(ctx, "bench-registry")
	if err != nil {
		b.Fatal(err)
	}
	for s := range 100 {
		for v := range 10 {
			e := registry.Entry{ID: registry.DefaultTypeID(fmt.Sprintf("Service%03d", s)), Type: "Service", SchemaVersion: registry.SchemaVersion,
				Name: fmt.Sprintf("Service%03d", s), Version: fmt.Sprintf("1.%d.0", v), Service: fmt.Sprintf("svc-%d", s), UpdatedAt: "2026-01-01T00:00:00Z"}
			value, _ := e.Encode()
			summary, _ := registry.EncodeSummary(e.Summary())
			if err := client.PutKVValue(ctx, ns.ID, registry.Key(e.Name, e.Version), value, summary); err != nil {
				b.Fatal(err)
			}
		}
	}
	srv.ResetRequestCounts()
	for b.Loop() {
		if _, version, _, err := discover(ctx, client, ns.ID, "Service042", "^1.4", false, 0); err != nil || version != "1.9.0" {
			b.Fatalf("discover = %s, %v", version, err)
		}
	}
	b.ReportMetric(float64(srv.TotalRequests())/float64(b.N), "api-calls/discovery")
}
