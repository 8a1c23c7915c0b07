package provider

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/registry"
)

// discover with healthy = true skips fresh unhealthy versions only: degraded ones, ones never
// checked and (with a maximum age) stale unhealthy ones stay usable; when every match is
// unhealthy it says so.
func TestDiscoverHealthy(t *testing.T) {
	edge := newTestEdge(t)
	ns := edge.registryNamespace(t)
	ctx := context.Background()
	now := time.Now().UTC()
	put := func(version, status string, at time.Time) {
		e := registry.Entry{Name: "Carts", Version: version, Service: "carts", UpdatedAt: "2026-01-01T00:00:00Z"}
		if status != "" {
			e.HealthStatus = &registry.HealthStatus{Status: status, LastCheck: at.Format(registry.HealthTimeLayout), Monitor: "m"}
		}
		value, err := e.Encode()
		if err != nil {
			t.Fatal(err)
		}
		meta, err := registry.EncodeSummary(e.Summary())
		if err != nil {
			t.Fatal(err)
		}
		if err := edge.client.PutKVValue(ctx, ns, registry.Key(e.Name, e.Version), value, meta); err != nil {
			t.Fatal(err)
		}
	}
	put("1.0.0", "", time.Time{})                                   // never checked
	put("1.1.0", registry.HealthDegraded, now)                      // degraded: usable
	put("1.2.0", registry.HealthUnhealthy, now.Add(-time.Hour))     // unhealthy an hour ago
	put("1.3.0", registry.HealthUnhealthy, now.Add(-time.Second*5)) // unhealthy now
	for _, tt := range []struct {
		constraint string
		healthy    bool
		maxAge     time.Duration
		want       string
	}{
		{"^1", false, 0, "1.3.0"},
		{"^1", true, 0, "1.1.0"},
		{"^1", true, 10 * time.Minute, "1.2.0"},
		{"<1.2.0", true, 0, "1.1.0"},
	} {
		e, version, _, err := discover(ctx, edge.client, ns, "Carts", tt.constraint, tt.healthy, tt.maxAge)
		if err != nil || version != tt.want {
			t.Errorf("discover(%q, healthy %v, max age %s) = %s, %v; want %s", tt.constraint, tt.healthy, tt.maxAge, version, err, tt.want)
		}
		if version == "1.1.0" && (e.HealthStatus == nil || e.HealthStatus.Status != registry.HealthDegraded) {
			t.Errorf("1.1.0 health: %+v", e.HealthStatus)
		}
	}
	_, _, _, err := discover(ctx, edge.client, ns, "Carts", ">=1.2.0", true, 0)
	var unhealthy *unhealthyError
	if !errors.As(err, &unhealthy) || err.Error() != `every version of Carts matching ">=1.2.0" is unhealthy (1.3.0, 1.2.0), as its monitor recorded: fix the service, or drop healthy = true to find it anyway` {
		t.Errorf("all unhealthy: %v", err)
	}
	// Only the matching versions are named.
	if _, _, _, err := discover(ctx, edge.client, ns, "Carts", "1.3.0", true, 0); err == nil || !strings.Contains(err.Error(), `is unhealthy (1.3.0), as`) {
		t.Errorf("one unhealthy match: %v", err)
	}
	var noMatch *noMatchError
	if _, _, _, err := discover(ctx, edge.client, ns, "Carts", "^2", true, 0); !errors.As(err, &noMatch) {
		t.Errorf("no version at all: %v, want a no-match error", err)
	}
}
