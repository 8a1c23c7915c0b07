package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
	"github.com/dot-do/terraform-provider-servicesdo/internal/registry"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workers"
)

// benchHealthJS answers its health check with what the bench's control server says.
const benchHealthJS = `export default { async fetch(request, env) { const r = await fetch(env.CONTROL); return new Response(await r.text(), { status: r.status }) } }`

// BenchmarkMonitorRound is one round of a monitor of 20 services, each with a registry entry
// and an error-rate alert, deployed by the resource's machinery on the local edge and run with
// POST /__run: its wall time from the caller, the round's own duration, its subrequests
// (probes, Durable Object calls, the analytics query of the local edge, webhooks) and KV
// operations. steady: every service healthy and recorded, so a round reads each entry and
// writes none. flip: every service changes verdict each round (checks = 1), so every entry is
// rewritten.
func BenchmarkMonitorRound(b *testing.B) {
	const services = 20
	var failing atomic.Bool
	control := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	b.Cleanup(control.Close)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	b.Cleanup(hook.Close)
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
	cfg := workers.MonitorConfig{Version: workers.MonitorConfigVersion, Name: "bench-monitor", AccountID: env.Config.AccountID, APIBase: env.BaseURL}
	one := 1
	for i := 0; i < services; i++ {
		name := fmt.Sprintf("bench-svc-%02d", i)
		if _, err := client.UploadScript(ctx, cloudflare.ScriptUpload{
			Name: name, MainModule: "index.js", CompatibilityDate: "2025-01-01",
			Modules:  []cloudflare.Module{{Name: "index.js", Content: []byte(benchHealthJS)}},
			Bindings: []cloudflare.Binding{{Type: cloudflare.BindingPlainText, Name: "CONTROL", Text: control.URL}},
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
			Name: name, Binding: workers.MonitorServiceBinding(name), Checks: &one,
			Registry: []workers.MonitorRegistryEntry{{Name: entry.Name, Version: entry.Version}},
		})
		cfg.Alerts = append(cfg.Alerts, workers.MonitorAlert{Name: name + "-errors", Service: name, Condition: "error_rate > 0.05", For: "5m", WebhookURL: hook.URL})
	}
	raw, _, err := monitorConfigJSON(cfg)
	if err != nil {
		b.Fatal(err)
	}
	r := &monitorResource{data: &providerData{client: client, apiBase: env.BaseURL}}
	plan := monitorModel{Name: types.StringValue(cfg.Name), Config: types.StringValue(raw), WorkersDev: types.BoolValue(true), RegistryID: types.StringValue(ns.ID)}
	if err := r.deploy(ctx, &plan, map[string]string{workers.MonitorTokenBinding: monitorStatusToken, workers.MonitorAnalyticsTokenBinding: env.Config.Token}, nil, true); err != nil {
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
	for _, flip := range []bool{false, true} {
		b.Run(map[bool]string{false: "steady", true: "flip"}[flip], func(b *testing.B) {
			var own, subrequests, analytics, reads, writes float64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if flip {
					failing.Store(!failing.Load())
				}
				out := round()
				sub, _ := out["subrequests"].(map[string]any)
				own += out["duration_ms"].(float64)
				subrequests += sub["total"].(float64)
				analytics += sub["analytics"].(float64)
				reads += sub["kv_reads"].(float64)
				writes += sub["kv_writes"].(float64)
			}
			b.StopTimer()
			failing.Store(false)
			round()
			n := float64(b.N)
			b.ReportMetric(own/n, "round-ms")
			b.ReportMetric(subrequests/n, "subrequests/round")
			b.ReportMetric(analytics/n, "analytics/round")
			b.ReportMetric(reads/n, "kv-reads/round")
			b.ReportMetric(writes/n, "kv-writes/round")
		})
	}
}
