package provider

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
	"github.com/dot-do/terraform-provider-servicesdo/internal/registry"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workers"
)

const benchHealthJS = `export default { fetch() { return Response.json({ status: "pass" }) } }`

// BenchmarkMonitorRound is one probe round of a monitor of 20 services, each with a registry
// entry, deployed by the resource's machinery on the local edge and run with POST /__run:
// its wall time from the caller, the round's own duration, and its subrequests (probes,
// Durable Object calls) and KV operations. Steady rounds: every service healthy and recorded,
// so a round reads each entry and writes none.
func BenchmarkMonitorRound(b *testing.B) {
	const services = 20
	env := edgetest.Start(b, edgetest.WithWorkers())
	client, err := cloudflare.New(cloudflare.Config{AccountID: env.Config.AccountID, APIToken: env.Config.Token, BaseURL: env.BaseURL, MaxRetries: 2})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	ns, err := client.CreateKVNamespace(ctx, "bench-registry")
	if err != nil {
		b.Fatal(err)
	}
	cfg := workers.MonitorConfig{Version: workers.MonitorConfigVersion, Name: "bench-monitor"}
	for i := 0; i < services; i++ {
		name := fmt.Sprintf("bench-svc-%02d", i)
		if _, err := client.UploadScript(ctx, cloudflare.ScriptUpload{
			Name: name, MainModule: "index.js", CompatibilityDate: "2025-01-01",
			Modules: []cloudflare.Module{{Name: "index.js", Content: []byte(benchHealthJS)}},
		}); err != nil {
			b.Fatal(err)
		}
		entry := registry.Entry{Name: fmt.Sprintf("Service%02d", i), Version: "1.0.0", Service: name, UpdatedAt: "2026-01-01T00:00:00Z"}
		value, err := entry.Encode()
		if err != nil {
			b.Fatal(err)
		}
		meta, err := registry.EncodeSummary(entry.Summary())
		if err != nil {
			b.Fatal(err)
		}
		if err := client.PutKVValue(ctx, ns.ID, registry.Key(entry.Name, entry.Version), value, meta); err != nil {
			b.Fatal(err)
		}
		cfg.Services = append(cfg.Services, workers.MonitorService{
			Name: name, Binding: workers.MonitorServiceBinding(name), Registry: []workers.MonitorRegistryEntry{{Name: entry.Name, Version: entry.Version}},
		})
	}
	raw, _, err := monitorConfigJSON(cfg)
	if err != nil {
		b.Fatal(err)
	}
	r := &monitorResource{data: &providerData{client: client, apiBase: env.BaseURL}}
	plan := monitorModel{Name: types.StringValue(cfg.Name), Config: types.StringValue(raw), WorkersDev: types.BoolValue(true), RegistryID: types.StringValue(ns.ID)}
	if err := r.deploy(ctx, &plan, map[string]string{workers.MonitorTokenBinding: monitorStatusToken}, nil, true); err != nil {
		b.Fatal(err)
	}
	host := cfg.Name + ".localhost"
	round := func() map[string]any {
		deadline := time.Now().Add(2 * time.Minute)
		for {
			st, out := monitorCall(env.EdgeURL, host, http.MethodPost, "/__run")
			if st == http.StatusOK {
				return out
			}
			if time.Now().After(deadline) {
				b.Fatalf("POST /__run: HTTP %d %v", st, out)
			}
			time.Sleep(100 * time.Millisecond) // the edge is still starting the monitor
		}
	}
	first := round() // every entry gets its first health_status
	if h, _ := first["health"].(map[string]any); len(h) != services {
		b.Fatalf("first round: %v", first)
	}
	var own, subrequests, reads, writes float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := round()
		sub, _ := out["subrequests"].(map[string]any)
		own += out["duration_ms"].(float64)
		subrequests += sub["total"].(float64)
		reads += sub["kv_reads"].(float64)
		writes += sub["kv_writes"].(float64)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(own/n, "round-ms")
	b.ReportMetric(subrequests/n, "subrequests/round")
	b.ReportMetric(reads/n, "kv-reads/round")
	b.ReportMetric(writes/n, "kv-writes/round")
}
