package provider

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
	"github.com/dot-do/terraform-provider-servicesdo/internal/rollout"
)

// deployBench is a local edge running Workers, one service on it, and the deployment
// resource's apply machinery in process (no Terraform: these benchmarks measure the rollout).
type deployBench struct {
	env     *edgetest.Env
	client  *cloudflare.Client
	r       *deploymentResource
	name    string
	host    string
	stable  string
	version int
}

func newDeployBench(b *testing.B) *deployBench {
	b.Helper()
	// Wall clocks: analytics windows are real time.
	env := edgetest.Start(b, edgetest.WithConfig(func(c *localedge.Config) { c.Now = nil }), edgetest.WithWorkers(func(c *edge.Config) { c.Clock = nil }))
	client, err := cloudflare.New(cloudflare.Config{AccountID: env.Config.AccountID, APIToken: env.Config.Token, BaseURL: env.BaseURL, MaxRetries: 2})
	if err != nil {
		b.Fatal(err)
	}
	d := &deployBench{env: env, client: client, r: &deploymentResource{data: &providerData{client: client}}, name: "bench-rollout"}
	d.host = d.name + ".localhost"
	ctx := context.Background()
	if _, err := client.UploadScript(ctx, cloudflare.ScriptUpload{
		Name: d.name, MainModule: "index.js", CompatibilityDate: "2025-01-01",
		Modules: []cloudflare.Module{{Name: "index.js", Content: []byte(versionCode("v0", healthy))}},
	}); err != nil {
		b.Fatal(err)
	}
	if _, err := client.SetScriptSubdomain(ctx, d.name, true, false); err != nil {
		b.Fatal(err)
	}
	d.stable = d.active(b).Versions[0].VersionID
	return d
}

func (d *deployBench) active(b *testing.B) rollout.Deployment {
	live, _, err := d.r.active(context.Background(), d.name)
	if err != nil {
		b.Fatal(err)
	}
	return live
}

// upload uploads the next version and returns its id and body.
func (d *deployBench) upload(b *testing.B) (string, string) {
	d.version++
	body := fmt.Sprint("v", d.version)
	v, err := d.client.UploadVersion(context.Background(), cloudflare.VersionUpload{
		Script: d.name, MainModule: "index.js", CompatibilityDate: "2025-01-01",
		Modules: []cloudflare.Module{{Name: "index.js", Content: []byte(versionCode(body, healthy))}},
	})
	if err != nil {
		b.Fatal(err)
	}
	return v.ID, body
}

func (d *deployBench) get(header ...string) string {
	req, _ := http.NewRequest(http.MethodGet, d.env.EdgeURL+"/", nil)
	req.Host = d.host
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return string(body)
}

func (d *deployBench) settings(target string, hold, interval time.Duration) settings {
	port := d.env.EdgeURL[strings.LastIndex(d.env.EdgeURL, ":")+1:]
	return settings{
		service: d.name,
		cfg: rollout.Config{
			Target: target, Strategy: rollout.StrategyCanary,
			Steps: []rollout.Step{{Percent: 10, Hold: hold}, {Percent: 25, Hold: hold}, {Percent: 50, Hold: hold}},
			Analysis: &rollout.Analysis{
				Interval: interval, Inconclusive: rollout.InconclusivePass,
				ErrorRate: &rollout.Metric{Max: 0.01}, P99LatencyMs: &rollout.Metric{Max: 1000}, Probe: &rollout.Probe{Path: "/health"},
			},
		},
		probe: &probeSettings{url: "http://" + d.host + ":" + port, path: "/health", status: 200, timeout: 5 * time.Second, count: 1},
	}
}

// BenchmarkDeploymentCanary is one apply of a 3-step canary (10, 25, 50 %, then 100 %) with
// 500 ms holds checked every 250 ms (error rate, p99, a probe): its wall time, the sum of its
// holds, the overhead beside them (writes that wait for the edge to serve, checks), and the API
// calls per step (reads, writes, analytics queries).
func BenchmarkDeploymentCanary(b *testing.B) {
	d := newDeployBench(b)
	const hold, interval = 500 * time.Millisecond, 250 * time.Millisecond
	ctx := context.Background()
	var overhead time.Duration
	calls := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		target, body := d.upload(b)
		cur, err := rollout.Observe(d.active(b), rollout.Status{})
		if err != nil {
			b.Fatal(err)
		}
		s := d.settings(target, hold, interval)
		p := rollout.PlanApply(s.cfg, cur, time.Now())
		before := d.env.Server.TotalRequests()
		b.StartTimer()
		start := time.Now()
		run := &deploymentRun{r: d.r, s: s, notify: newNotifier("", nil)}
		final := run.walk(ctx, p)
		elapsed := time.Since(start)
		b.StopTimer()
		if final.Status.Phase != rollout.PhasePromoted || d.get() != body {
			b.Fatalf("rollout ended %s: %s", final.Status.Phase, final.Outcome.Detail)
		}
		overhead += elapsed - p.Duration
		calls += d.env.Server.TotalRequests() - before
		b.StartTimer()
	}
	b.ReportMetric((3 * hold).Seconds(), "holds-s/apply")
	b.ReportMetric(overhead.Seconds()/float64(b.N), "overhead-s/apply")
	b.ReportMetric(float64(calls)/float64(b.N)/4, "api-calls/step")
}

// BenchmarkDeploymentSplitToServe is the time from a deployment write to traffic matching it on
// the local edge: the write is acknowledged once the Workers runtime serves the new split, so
// the first request after it already answers from the new version.
func BenchmarkDeploymentSplitToServe(b *testing.B) {
	d := newDeployBench(b)
	v1, body1 := d.upload(b)
	v2, body2 := d.upload(b)
	ctx := context.Background()
	var ack time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		version, body := v1, body1
		if i%2 == 1 {
			version, body = v2, body2
		}
		start := time.Now()
		if _, err := d.client.CreateDeployment(ctx, d.name, []cloudflare.DeploymentVersion{{VersionID: version, Percentage: 100}}, "bench", false); err != nil {
			b.Fatal(err)
		}
		ack += time.Since(start)
		if got := d.get(); got != body {
			b.Fatalf("the first request after the write answered %q, want %q", got, body)
		}
	}
	b.ReportMetric(float64(ack.Milliseconds())/float64(b.N), "ack-ms/write")
}

// BenchmarkDeploymentAnalysis is one check's decision: the analytics query of both versions
// over the hold's window, one probe through the version-override header, and the verdict.
func BenchmarkDeploymentAnalysis(b *testing.B) {
	d := newDeployBench(b)
	target, _ := d.upload(b)
	ctx := context.Background()
	if _, err := d.client.CreateDeployment(ctx, d.name, []cloudflare.DeploymentVersion{{VersionID: d.stable, Percentage: 50}, {VersionID: target, Percentage: 50}}, "bench", false); err != nil {
		b.Fatal(err)
	}
	from := time.Now()
	for i := 0; i < 400; i++ {
		d.get()
	}
	s := d.settings(target, time.Minute, time.Second)
	run := &deploymentRun{r: d.r, s: s, notify: newNotifier("", nil)}
	dec := rollout.Decision{Kind: rollout.Analyse, Window: rollout.Window{From: from, To: time.Now().Add(time.Second)}, Stable: d.stable, Candidate: target, CandidatePercent: 50, Probe: true}
	for b.Loop() {
		ev, err := run.gather(ctx, dec)
		if err != nil {
			b.Fatal(err)
		}
		ev.CandidatePercent = 50
		if v := rollout.Evaluate(*s.cfg.Analysis, *ev); v.Result != rollout.Pass || ev.Candidate.Requests < 100 {
			b.Fatalf("verdict %s: %s", v.Result, v.Summary)
		}
	}
}
