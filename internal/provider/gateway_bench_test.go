package provider

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workers"
)

// gatewayBenchLoad sends n GET requests from clients goroutines and returns the latencies;
// anything but 200 fails the benchmark.
func gatewayBenchLoad(b *testing.B, url, host string, header http.Header, n, clients int) []time.Duration {
	b.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	latencies := make([]time.Duration, n)
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	var once sync.Once
	var failure error
	for range clients {
		wg.Go(func() {
			for i := range next {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				req.Header, req.Host = header.Clone(), host
				start := time.Now()
				res, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, res.Body)
					_ = res.Body.Close()
					if err == nil && res.StatusCode != http.StatusOK {
						err = fmt.Errorf("%s%s: HTTP %d", host, url, res.StatusCode)
					}
				}
				if err != nil {
					once.Do(func() { failure = err })
				}
				latencies[i] = time.Since(start)
			}
		})
	}
	wg.Wait()
	if failure != nil {
		b.Fatal(failure)
	}
	return latencies
}

// BenchmarkGateway compares a trivial service called directly through the local edge with the
// same service behind a gateway (deployed by the resource's upload), bare and with each
// middleware turned on alone: p50, p99, requests/s, and p50 as a multiple of the direct call's.
// service_binding_hop is the floor: a Worker that only forwards through a service binding.
func BenchmarkGateway(b *testing.B) {
	env := edgetest.Start(b, edgetest.WithWorkers())
	client, err := cloudflare.New(cloudflare.Config{AccountID: env.Config.AccountID, APIToken: env.Config.Token, BaseURL: env.BaseURL, MaxRetries: 2})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	r := &gatewayResource{data: &providerData{client: client}}
	const upstream = "bench-upstream"
	if _, err := client.UploadScript(ctx, cloudflare.ScriptUpload{
		Name: upstream, MainModule: "index.js", CompatibilityDate: "2025-01-01",
		Modules: []cloudflare.Module{{Name: "index.js", Content: []byte(`export default { fetch() { return new Response("ok") } }`)}},
	}); err != nil {
		b.Fatal(err)
	}
	if _, err := client.SetScriptSubdomain(ctx, upstream, true, false); err != nil {
		b.Fatal(err)
	}
	// The floor of any gateway: a Worker that only forwards through a service binding.
	const hop = "bench-hop"
	if _, err := client.UploadScript(ctx, cloudflare.ScriptUpload{
		Name: hop, MainModule: "index.js", CompatibilityDate: "2025-01-01",
		Modules:  []cloudflare.Module{{Name: "index.js", Content: []byte(`export default { fetch(request, env) { return env.UP.fetch(request) } }`)}},
		Bindings: []cloudflare.Binding{{Type: cloudflare.BindingService, Name: "UP", Service: upstream}},
	}); err != nil {
		b.Fatal(err)
	}
	if _, err := client.SetScriptSubdomain(ctx, hop, true, false); err != nil {
		b.Fatal(err)
	}
	const key = "bench-key-0123456789abcdef"
	route := []workers.GatewayRoute{{Path: "/*", Service: upstream, Binding: workers.GatewayServiceBindingName(upstream)}}
	maxAge := 600
	variants := []struct {
		name   string
		config workers.GatewayConfig
		header http.Header
		keys   bool
	}{
		{name: "bare"},
		{name: "cors", config: workers.GatewayConfig{CORS: &workers.GatewayCORS{AllowedOrigins: []string{"https://app.example.com"}, MaxAge: &maxAge}}, header: http.Header{"Origin": {"https://app.example.com"}}},
		{name: "auth_api_key", config: workers.GatewayConfig{Auth: &workers.GatewayAuth{Mode: "required", APIKeys: true}}, header: http.Header{"X-Api-Key": {key}}, keys: true},
		{name: "rate_limit_binding_60s", config: workers.GatewayConfig{RateLimit: &workers.GatewayRateLimit{Requests: 1000000, Period: 60}}},
		{name: "rate_limit_durable_object_45s", config: workers.GatewayConfig{RateLimit: &workers.GatewayRateLimit{Requests: 1000000, Period: 45}}},
		{name: "logging", config: workers.GatewayConfig{Logging: &workers.GatewayLogging{Enabled: true, SampleRate: 1}}},
	}
	for i := range variants {
		v := &variants[i]
		v.config.Version, v.config.Name, v.config.Routes = workers.GatewayConfigVersion, "bench-gw-"+v.name, route
		var plan gatewayModel
		plan.Name, plan.CompatibilityDate = types.StringValue(v.config.Name), types.StringValue(gatewayDefaultCompatibilityDate)
		plan.fromGatewayConfig(v.config)
		cfg := plan
		if v.keys {
			auth := *plan.Auth
			auth.APIKeys = types.MapValueMust(types.StringType, map[string]attr.Value{"bench": types.StringValue(key)})
			cfg.Auth = &auth
		}
		if err := r.upload(ctx, &plan, &cfg, true); err != nil {
			b.Fatal(err)
		}
		if _, err := client.SetScriptSubdomain(ctx, v.config.Name, true, false); err != nil {
			b.Fatal(err)
		}
	}
	// The machine is shared: each gateway variant is measured in batches alternating with
	// batches of the direct call, so both meet the same load, and the ratio compares them.
	const batches, batch, clients = 4, 100, 2
	warm := func(host string, header http.Header) { gatewayBenchLoad(b, env.EdgeURL+"/x", host, header, 20, 2) }
	direct := upstream + ".localhost"
	p50 := func(l []time.Duration) time.Duration {
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
		return l[len(l)/2]
	}
	measure := func(b *testing.B, host string, header http.Header) {
		warm(host, header)
		warm(direct, http.Header{})
		var mine, theirs []time.Duration
		var elapsed time.Duration
		for b.Loop() {
			for range batches {
				start := time.Now()
				mine = append(mine, gatewayBenchLoad(b, env.EdgeURL+"/x", host, header, batch, clients)...)
				elapsed += time.Since(start)
				theirs = append(theirs, gatewayBenchLoad(b, env.EdgeURL+"/x", direct, http.Header{}, batch, clients)...)
			}
		}
		p, d := p50(mine), p50(theirs)
		b.ReportMetric(float64(len(mine))/elapsed.Seconds(), "req/s")
		b.ReportMetric(float64(p.Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(mine[len(mine)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(d.Microseconds())/1000, "direct-p50-ms")
		b.ReportMetric(float64(p)/float64(d), "x-direct-p50")
	}
	b.Run("direct", func(b *testing.B) { measure(b, direct, http.Header{}) })
	b.Run("service_binding_hop", func(b *testing.B) { measure(b, hop+".localhost", http.Header{}) })
	for _, v := range variants {
		header := v.header
		if header == nil {
			header = http.Header{}
		}
		b.Run("gateway_"+v.name, func(b *testing.B) { measure(b, v.config.Name+".localhost", header) })
	}
}
