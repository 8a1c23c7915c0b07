package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

// The participants of the benchmark saga answer at once, so the figures are the orchestrator's.
const (
	benchParticipantJS = `export default { async fetch(request) { await request.text(); return Response.json({ id: crypto.randomUUID() }); } };`
	// benchDirectJS calls the four participants one after another through the same kind of
	// service bindings.
	benchDirectJS = `export default { async fetch(request, env) {
  let after;
  for (const svc of ["BENCH_P0", "BENCH_P1", "BENCH_P2", "BENCH_P3"]) {
    const res = await env[svc].fetch("https://participant/step", { method: "POST", headers: { "content-type": "application/json", "idempotency-key": "k:" + svc + ":action" }, body: JSON.stringify({ order: "o", after }) });
    after = (await res.json()).id;
  }
  return Response.json({ after });
} };`
	benchSagaKey  = "bench-saga-key-0123456789"
	benchSagaName = "bench-saga"
	benchBatch    = 40 // executions per benchmark op
	benchInFlight = 8  // executions in flight at once
)

// sagaBench is a local edge running a 4-step saga over four trivial participants, and a Worker
// that calls the same participants directly.
type sagaBench struct {
	env  *edgetest.Env
	host string
}

func newSagaBench(b *testing.B) *sagaBench {
	b.Helper()
	env := edgetest.Start(b, edgetest.WithConfig(func(c *localedge.Config) { c.Now = nil }), edgetest.WithWorkers(func(c *edge.Config) { c.Clock = nil }))
	client, err := cloudflare.New(cloudflare.Config{AccountID: env.Config.AccountID, APIToken: env.Config.Token, BaseURL: env.BaseURL, MaxRetries: 2})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var direct []cloudflare.Binding
	model := sagaModel{Name: types.StringValue(benchSagaName), PivotStep: types.StringValue("s2"), WorkersDev: types.BoolValue(true), Access: types.StringValue(sagaAccessAPIKey)}
	for i := 0; i < 4; i++ {
		name := fmt.Sprintf("bench-p%d", i)
		if _, err := client.UploadScript(ctx, cloudflare.ScriptUpload{
			Name: name, MainModule: "index.js", CompatibilityDate: "2025-01-01",
			Modules: []cloudflare.Module{{Name: "index.js", Content: []byte(benchParticipantJS)}},
		}); err != nil {
			b.Fatal(err)
		}
		direct = append(direct, cloudflare.Binding{Type: cloudflare.BindingService, Name: sagaBindingName(name), Service: name})
		step := sagaStepModel{
			Name: types.StringValue(fmt.Sprintf("s%d", i)), Service: types.StringValue(name), Timeout: types.StringValue("10s"),
			Action: &sagaRequestModel{Method: types.StringValue("POST"), Path: types.StringValue("/step"), Body: types.StringValue(`{"order":"{{input.order}}"}`)},
		}
		if i > 0 {
			step.Action.Body = types.StringValue(fmt.Sprintf(`{"order":"{{input.order}}","after":"{{steps.s%d.output.id}}"}`, i-1))
		}
		if i < 3 {
			step.Compensate = &sagaCompensationModel{Method: types.StringValue("POST"), Path: types.StringValue(fmt.Sprintf("/undo/{{steps.s%d.output.id}}", i))}
		}
		model.Steps = append(model.Steps, step)
	}
	if _, err := client.UploadScript(ctx, cloudflare.ScriptUpload{
		Name: "bench-direct", MainModule: "index.js", CompatibilityDate: "2025-01-01",
		Modules: []cloudflare.Module{{Name: "index.js", Content: []byte(benchDirectJS)}}, Bindings: direct,
	}); err != nil {
		b.Fatal(err)
	}
	if _, err := client.SetScriptSubdomain(ctx, "bench-direct", true, false); err != nil {
		b.Fatal(err)
	}
	def, err := model.definition()
	if err != nil {
		b.Fatal(err)
	}
	canonical, err := def.Normalize().CanonicalJSON()
	if err != nil {
		b.Fatal(err)
	}
	model.Definition = types.StringValue(canonical)
	r := &sagaResource{data: &providerData{client: client}}
	if err := r.deploy(ctx, &model, nil, benchSagaKey, true); err != nil {
		b.Fatal(err)
	}
	s := &sagaBench{env: env, host: benchSagaName + ".localhost"}
	if _, err := s.run("warm-up"); err != nil {
		b.Fatal(err)
	}
	return s
}

func (s *sagaBench) api(method, path string, body any) (int, map[string]any, error) {
	var reader io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		reader = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, s.env.EdgeURL+path, reader)
	req.Host = s.host
	req.Header.Set("Authorization", "Bearer "+benchSagaKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	var out map[string]any
	err = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out, err
}

// run starts one execution, waits for it to complete, and returns its latency as the index
// records it (created to ended).
func (s *sagaBench) run(key string) (time.Duration, error) {
	status, got, err := s.api(http.MethodPost, "/executions", map[string]any{"idempotency_key": key, "input": map[string]any{"order": key}})
	if err != nil || status != http.StatusCreated {
		return 0, fmt.Errorf("POST /executions: HTTP %d %v %v", status, got, err)
	}
	id, _ := got["id"].(string)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		status, got, err = s.api(http.MethodGet, "/executions/"+id, nil)
		if err == nil && status == http.StatusOK && got["status"] != "running" && got["status"] != "pending" {
			break
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("execution %s: HTTP %d %v %v", id, status, got, err)
		}
		time.Sleep(25 * time.Millisecond) // polling interval (latency comes from the index, not from polling)
	}
	if got["status"] != "completed" {
		return 0, fmt.Errorf("execution %s ended %v", id, got["status"])
	}
	created, err1 := time.Parse(time.RFC3339Nano, fmt.Sprint(got["created_at"]))
	ended, err2 := time.Parse(time.RFC3339Nano, fmt.Sprint(got["ended_at"]))
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("execution %s: timestamps %v, %v", id, got["created_at"], got["ended_at"])
	}
	return ended.Sub(created), nil
}

// directCall runs the direct Worker once and returns the request's round trip through the
// edge (the Worker's own clock is too coarse: workerd advances it only at I/O), so the
// overhead figure is, if anything, on the low side.
func (s *sagaBench) directCall() (time.Duration, error) {
	req, _ := http.NewRequest(http.MethodGet, s.env.EdgeURL+"/", nil)
	req.Host = "bench-direct.localhost"
	began := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil || res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("direct Worker: HTTP %d %v", res.StatusCode, err)
	}
	return time.Since(began), nil
}

func percentile(values []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), values...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkSagaExecutions measures a 4-step saga on the local edge: executions per second with
// benchInFlight at a time (one op is benchBatch executions), p50/p99 execution latency under
// that load and one at a time, and the orchestrator's overhead per step: the latency one at a
// time beside a request to a Worker that makes the same four participant calls directly.
func BenchmarkSagaExecutions(b *testing.B) {
	s := newSagaBench(b)
	var directMs, oneAtATime []time.Duration
	for i := 0; i < 50; i++ {
		d, err := s.directCall()
		if err != nil {
			b.Fatal(err)
		}
		directMs = append(directMs, d)
	}
	for i := 0; i < 20; i++ {
		d, err := s.run(fmt.Sprintf("seq-%d", i))
		if err != nil {
			b.Fatal(err)
		}
		oneAtATime = append(oneAtATime, d)
	}

	var mu sync.Mutex
	var loaded []time.Duration
	var elapsed time.Duration
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		began := time.Now()
		keys := make(chan string)
		errs := make(chan error, benchInFlight)
		var wg sync.WaitGroup
		for w := 0; w < benchInFlight; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for key := range keys {
					d, err := s.run(key)
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					loaded = append(loaded, d)
					mu.Unlock()
				}
			}()
		}
		for i := 0; i < benchBatch; i++ {
			select {
			case keys <- fmt.Sprintf("load-%d-%d", n, i):
			case err := <-errs:
				close(keys)
				b.Fatal(err)
			}
		}
		close(keys)
		wg.Wait()
		select {
		case err := <-errs:
			b.Fatal(err)
		default:
		}
		elapsed += time.Since(began)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*benchBatch)/elapsed.Seconds(), "executions/s")
	b.ReportMetric(ms(percentile(loaded, 50)), "p50-ms/execution")
	b.ReportMetric(ms(percentile(loaded, 99)), "p99-ms/execution")
	b.ReportMetric(ms(percentile(oneAtATime, 50)), "alone-p50-ms/execution")
	b.ReportMetric(ms(percentile(oneAtATime, 99)), "alone-p99-ms/execution")
	b.ReportMetric(ms(percentile(directMs, 50)), "direct-p50-ms/4-calls")
	b.ReportMetric((ms(percentile(oneAtATime, 50))-ms(percentile(directMs, 50)))/4, "overhead-ms/step")
}
