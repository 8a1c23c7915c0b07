package provider

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/selfprofile"
)

// The plan benchmarks run the real terraform against an in-process local edge, with the
// provider binary installed through dev_overrides as a user runs it. Each figure is a ratio
// to a floor measured side by side: every iteration runs the floor and the subject one after
// the other, and the figures are medians, so that other work on a shared machine weighs on
// both alike. scripts/benchtable.sh prints them as a table (make bench).

// planBench is the terraform, the local edge and the provider binaries of a benchmark.
type planBench struct {
	terraform string
	env       []string
	edge      *localedge.Server
	bin       string // directory holding the provider binaries
	profile   string // SERVICESDO_PROFILE_DIR of the measured runs (make profile); "" for none
}

func newPlanBench(b *testing.B) *planBench {
	b.Helper()
	tf := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if tf == "" {
		var err error
		if tf, err = exec.LookPath("terraform"); err != nil {
			b.Skip("no terraform: run `make bench`, which finds or builds one")
		}
	}
	p := &planBench{terraform: tf, bin: b.TempDir(), profile: os.Getenv(selfprofile.EnvDir)}
	p.build(b, "servicesdo", "github.com/dot-do/terraform-provider-servicesdo")
	srv, err := localedge.New(localedge.Config{AccountID: testAccountID, Token: testToken})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	b.Cleanup(func() {
		ts.Close()
		_ = srv.Close()
	})
	p.edge = srv
	for _, kv := range os.Environ() {
		// Measuring is asked for per run, never for the setup.
		if name, _, _ := strings.Cut(kv, "="); name != selfprofile.EnvDir && name != selfprofile.EnvUsageDir {
			p.env = append(p.env, kv)
		}
	}
	p.env = append(p.env, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1",
		"CLOUDFLARE_API_BASE_URL="+ts.URL+localedge.APIPrefix, "CLOUDFLARE_ACCOUNT_ID="+testAccountID, "CLOUDFLARE_API_TOKEN="+testToken)
	return p
}

// build compiles a provider as a release is built (.goreleaser.yml: no cgo, trimmed paths,
// no symbol table), into its own directory, named as Terraform looks for it, and writes the
// CLI configuration that installs it.
func (p *planBench) build(b *testing.B, name, pkg string) {
	b.Helper()
	dir := filepath.Join(p.bin, name)
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(dir, "terraform-provider-servicesdo"), pkg)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("building %s: %v\n%s", pkg, err, out)
	}
	rc := fmt.Appendf(nil, "provider_installation {\n  dev_overrides {\n    \"dot-do/servicesdo\" = %q\n  }\n  direct {}\n}\n", dir)
	if err := os.WriteFile(dir+".terraformrc", rc, 0o600); err != nil {
		b.Fatal(err)
	}
}

// cliConfig is the environment that makes Terraform use the named provider build.
func (p *planBench) cliConfig(name string) string {
	return "TF_CLI_CONFIG_FILE=" + filepath.Join(p.bin, name) + ".terraformrc"
}

// workdir writes config into a new directory and applies it with the named provider build.
func (p *planBench) workdir(b *testing.B, provider, config string) string {
	b.Helper()
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil {
		b.Fatal(err)
	}
	p.run(b, dir, 0, []string{p.cliConfig(provider)}, "apply", "-auto-approve", "-input=false")
	return dir
}

// run runs terraform and fails unless it exits with want; it returns the wall time.
func (p *planBench) run(b *testing.B, dir string, want int, env []string, args ...string) time.Duration {
	b.Helper()
	cmd := exec.Command(p.terraform, args...)
	cmd.Dir, cmd.Env = dir, append(slices.Clone(p.env), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if code := cmd.ProcessState.ExitCode(); code != want {
		b.Fatalf("terraform %s: exit %d (want %d): %v\n%s", strings.Join(args, " "), code, want, err, out.String())
	}
	return took
}

// plan runs a no-op plan: -detailed-exitcode makes any diff (exit 2) a failure.
func (p *planBench) plan(b *testing.B, dir string, env ...string) time.Duration {
	return p.run(b, dir, 0, env, "plan", "-input=false", "-lock=false", "-detailed-exitcode")
}

// planCase is one side of a comparison: a working directory and the provider build.
type planCase struct {
	dir      string
	provider string // the provider build; "" for a configuration without it
	measure  bool   // collect the provider processes' usage (and profiles, under make profile)
}

// runStats is what the measured runs of a case cost.
type runStats struct {
	wall, providerCPU, providerRSS, providerAlloc []float64
}

// alternate runs one plan of each case per iteration, in turn, and returns their stats.
func (p *planBench) alternate(b *testing.B, cases ...planCase) []runStats {
	b.Helper()
	stats := make([]runStats, len(cases))
	run := 0
	for b.Loop() {
		for i, c := range cases {
			var env []string
			if c.provider != "" {
				env = append(env, p.cliConfig(c.provider))
			}
			usageDir := ""
			if c.measure {
				run++
				usageDir = filepath.Join(b.TempDir(), fmt.Sprintf("run-%d", run))
				env = append(env, selfprofile.EnvUsageDir+"="+usageDir)
				if p.profile != "" {
					env = append(env, selfprofile.EnvDir+"="+p.profile)
				}
			}
			stats[i].wall = append(stats[i].wall, p.plan(b, c.dir, env...).Seconds())
			if c.measure && p.profile == "" {
				usage, err := selfprofile.ReadUsage(usageDir)
				if err != nil || len(usage) == 0 {
					b.Fatalf("no usage from the provider processes in %s: %v", usageDir, err)
				}
				var cpu, rss, alloc float64
				for _, u := range usage {
					cpu += u.CPUSeconds()
					rss = max(rss, float64(u.MaxRSSBytes)/(1<<20))
					alloc += float64(u.TotalAlloc) / (1 << 20)
				}
				stats[i].providerCPU = append(stats[i].providerCPU, cpu)
				stats[i].providerRSS = append(stats[i].providerRSS, rss)
				stats[i].providerAlloc = append(stats[i].providerAlloc, alloc)
			}
		}
	}
	return stats
}

func median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	s := slices.Clone(values)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// reportVsFloor reports the subject's median wall time, the floor's, their ratio and what
// the provider processes cost.
func reportVsFloor(b *testing.B, floor, subject runStats) {
	b.ReportMetric(median(subject.wall), "s/plan")
	b.ReportMetric(median(floor.wall), "floor-s/plan")
	b.ReportMetric(median(subject.wall)/median(floor.wall), "x-floor")
	if len(subject.providerRSS) > 0 {
		b.ReportMetric(median(subject.providerRSS), "provider-peak-MiB")
		b.ReportMetric(median(subject.providerCPU), "provider-cpu-s/plan")
		b.ReportMetric(median(subject.providerAlloc), "provider-alloc-MiB/plan")
	}
}

// logRequests logs the API calls per run by route: what remains, for the report.
func logRequests(b *testing.B, edge *localedge.Server, runs int, per string) {
	counts := edge.RequestCounts()
	routes := make([]string, 0, len(counts))
	for route := range counts {
		routes = append(routes, route)
	}
	sort.Strings(routes)
	var lines strings.Builder
	for _, route := range routes {
		fmt.Fprintf(&lines, "%8.2f  %s\n", float64(counts[route])/float64(runs), route)
	}
	b.Logf("API calls per %s:\n%s", per, lines.String())
}

const benchResources = 100

const benchHeader = "terraform {\n  required_providers {\n    servicesdo = { source = \"dot-do/servicesdo\" }\n  }\n}\n"

func floorConfig(count int) string {
	return fmt.Sprintf("resource \"terraform_data\" \"r\" {\n  count = %d\n  input = \"item-${count.index}\"\n}\n", count)
}

// BenchmarkNoOpPlan measures a refreshing plan that finds nothing to change, of 100
// servicesdo_service and of 100 servicesdo_kv_namespace, each beside 100 terraform_data
// (Terraform's own floor): wall time, the API calls per resource, and the provider
// processes' peak RSS, CPU time and allocations. The same plans with a provider that has the
// same schemas and does nothing (testdata/schemaonlyprovider) are the reference for what
// Terraform and the framework alone cost for those schemas.
func BenchmarkNoOpPlan(b *testing.B) {
	p := newPlanBench(b)
	p.build(b, "schemaonly", "./testdata/schemaonlyprovider")
	floor := p.workdir(b, "servicesdo", floorConfig(benchResources))
	code := filepath.Join(b.TempDir(), "index.js")
	if err := os.WriteFile(code, []byte("export default { fetch() { return new Response(\"ok\") } }\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, config string }{
		{fmt.Sprintf("servicesdo_service_x%d", benchResources), benchHeader + serviceBenchConfig(code)},
		{fmt.Sprintf("servicesdo_kv_namespace_x%d", benchResources), benchHeader +
			fmt.Sprintf("resource \"servicesdo_kv_namespace\" \"r\" {\n  count = %d\n  title = \"bench-${count.index}\"\n}\n", benchResources)},
	} {
		dir := p.workdir(b, "servicesdo", c.config)
		b.Run(c.name, func(b *testing.B) {
			p.edge.ResetRequestCounts()
			stats := p.alternate(b, planCase{dir: floor}, planCase{dir: dir, provider: "servicesdo", measure: true})
			reportVsFloor(b, stats[0], stats[1])
			b.ReportMetric(float64(p.edge.TotalRequests())/float64(b.N)/benchResources, "api-calls/resource/plan")
			logRequests(b, p.edge, b.N, "no-op plan")
		})
		reference := p.workdir(b, "schemaonly", c.config)
		b.Run(c.name+"_schema_only", func(b *testing.B) {
			stats := p.alternate(b, planCase{dir: floor}, planCase{dir: reference, provider: "schemaonly"})
			reportVsFloor(b, stats[0], stats[1])
		})
	}
}

// BenchmarkProviderLoad measures what loading the provider costs: a plan of one
// terraform_data with the provider configured beside the same plan without it; and, as the
// reference no provider can go below, the same with an empty framework provider.
func BenchmarkProviderLoad(b *testing.B) {
	p := newPlanBench(b)
	p.build(b, "empty", "./testdata/emptyprovider")
	without := p.workdir(b, "servicesdo", floorConfig(1))
	with := p.workdir(b, "servicesdo", benchHeader+"provider \"servicesdo\" {}\n"+floorConfig(1))
	for _, provider := range []string{"servicesdo", "empty"} {
		name := map[string]string{"servicesdo": "servicesdo", "empty": "empty_framework_provider"}[provider]
		b.Run(name, func(b *testing.B) {
			stats := p.alternate(b, planCase{dir: without}, planCase{dir: with, provider: provider, measure: provider == "servicesdo"})
			reportVsFloor(b, stats[0], stats[1])
		})
	}
}

// serviceBenchConfig is 100 services sharing one module file; var.generation changes the
// variables of service 0 only.
func serviceBenchConfig(code string) string {
	return fmt.Sprintf(`
variable "generation" {
  type    = string
  default = "0"
}

resource "servicesdo_service" "r" {
  count              = %d
  name               = "bench-${count.index}"
  main_module        = "index.js"
  modules            = { "index.js" = %q }
  compatibility_date = "2025-01-01"
  vars               = { GENERATION = count.index == 0 ? var.generation : "0" }
  crons              = ["0 * * * *"]
}
`, benchResources, code)
}

// BenchmarkApplyOneChangedService measures an apply that changes one service among 100: wall
// time and the API calls it makes (refresh of all 100 included), also as the calls beyond 2N.
func BenchmarkApplyOneChangedService(b *testing.B) {
	p := newPlanBench(b)
	code := filepath.Join(b.TempDir(), "index.js")
	if err := os.WriteFile(code, []byte("export default { fetch() { return new Response(\"ok\") } }\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	dir := p.workdir(b, "servicesdo", benchHeader+serviceBenchConfig(code))
	p.edge.ResetRequestCounts()
	const upload = "PUT /accounts/{account_id}/workers/scripts/{script_name}"
	var walls []float64
	generation := 0
	for b.Loop() {
		generation++
		walls = append(walls, p.run(b, dir, 0, []string{p.cliConfig("servicesdo")},
			"apply", "-auto-approve", "-input=false", "-lock=false", fmt.Sprintf("-var=generation=%d", generation)).Seconds())
	}
	if uploads := p.edge.RequestCount(upload); uploads != b.N {
		b.Fatalf("%d uploads over %d applies: each apply must upload exactly the changed service", uploads, b.N)
	}
	calls := float64(p.edge.TotalRequests()) / float64(b.N)
	b.ReportMetric(median(walls), "s/apply")
	b.ReportMetric(calls, "api-calls/apply")
	b.ReportMetric(calls-2*benchResources, "api-calls-beyond-2N/apply")
	logRequests(b, p.edge, b.N, "apply")
}
