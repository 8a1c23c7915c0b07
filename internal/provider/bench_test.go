package provider

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
)

// planBench is a Terraform working directory planned against an in-process local edge with
// the provider binary installed through dev_overrides, as a user runs it.
type planBench struct {
	terraform string
	env       []string
	edge      *localedge.Server
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
	dir := b.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "terraform-provider-servicesdo"), "github.com/dot-do/terraform-provider-servicesdo")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("building the provider: %v\n%s", err, out)
	}
	rc := filepath.Join(dir, "terraformrc")
	if err := os.WriteFile(rc, fmt.Appendf(nil, "provider_installation {\n  dev_overrides {\n    \"dot-do/servicesdo\" = %q\n  }\n  direct {}\n}\n", dir), 0o600); err != nil {
		b.Fatal(err)
	}
	srv, err := localedge.New(localedge.Config{AccountID: testAccountID, Token: testToken})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	b.Cleanup(func() {
		ts.Close()
		_ = srv.Close()
	})
	return &planBench{terraform: tf, edge: srv, env: append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1",
		"CLOUDFLARE_API_BASE_URL="+ts.URL+localedge.APIPrefix, "CLOUDFLARE_ACCOUNT_ID="+testAccountID, "CLOUDFLARE_API_TOKEN="+testToken,
	)}
}

// workdir writes config into a new directory and applies it.
func (p *planBench) workdir(b *testing.B, config string) string {
	b.Helper()
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil {
		b.Fatal(err)
	}
	p.run(b, dir, 0, "apply", "-auto-approve", "-input=false")
	return dir
}

// run runs terraform and fails unless it exits with want.
func (p *planBench) run(b *testing.B, dir string, want int, args ...string) {
	b.Helper()
	cmd := exec.Command(p.terraform, args...)
	cmd.Dir, cmd.Env = dir, p.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != want {
		b.Fatalf("terraform %s: exit %d (want %d): %v\n%s", strings.Join(args, " "), code, want, err, out.String())
	}
}

const benchResources = 100

// BenchmarkNoOpPlan measures a refreshing plan that finds nothing to change, for 100
// servicesdo_kv_namespace beside 100 terraform_data (Terraform's own floor), and the API
// calls each namespace costs per plan.
func BenchmarkNoOpPlan(b *testing.B) {
	p := newPlanBench(b)
	header := "terraform {\n  required_providers {\n    servicesdo = { source = \"dot-do/servicesdo\" }\n  }\n}\n"
	cases := []struct {
		name, config     string
		perResourceCalls bool
	}{
		{fmt.Sprintf("terraform_data_x%d", benchResources), fmt.Sprintf("resource \"terraform_data\" \"r\" {\n  count = %d\n  input = \"item-${count.index}\"\n}\n", benchResources), false},
		{fmt.Sprintf("servicesdo_kv_namespace_x%d", benchResources), header + fmt.Sprintf("resource \"servicesdo_kv_namespace\" \"r\" {\n  count = %d\n  title = \"bench-${count.index}\"\n}\n", benchResources), true},
	}
	code := filepath.Join(b.TempDir(), "index.js")
	if err := os.WriteFile(code, []byte("export default { fetch() { return new Response(\"ok\") } }\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	cases = append(cases, struct {
		name, config     string
		perResourceCalls bool
	}{fmt.Sprintf("servicesdo_service_x%d", benchResources), header + serviceBenchConfig(code), true})
	for _, c := range cases {
		dir := p.workdir(b, c.config)
		b.Run(c.name, func(b *testing.B) {
			p.edge.ResetRequestCounts()
			for b.Loop() {
				// -detailed-exitcode: 0 means the plan is empty, 2 would be a diff.
				p.run(b, dir, 0, "plan", "-input=false", "-lock=false", "-detailed-exitcode")
			}
			if c.perResourceCalls {
				b.ReportMetric(float64(p.edge.TotalRequests())/float64(b.N)/benchResources, "api-calls/resource/plan")
			}
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
// time and the API calls it makes (refresh of all 100 included).
func BenchmarkApplyOneChangedService(b *testing.B) {
	p := newPlanBench(b)
	code := filepath.Join(b.TempDir(), "index.js")
	if err := os.WriteFile(code, []byte("export default { fetch() { return new Response(\"ok\") } }\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	header := "terraform {\n  required_providers {\n    servicesdo = { source = \"dot-do/servicesdo\" }\n  }\n}\n"
	dir := p.workdir(b, header+serviceBenchConfig(code))
	p.edge.ResetRequestCounts()
	uploads := 0
	generation := 0
	for b.Loop() {
		generation++
		before := p.edge.RequestCount("PUT /accounts/{account_id}/workers/scripts/{script_name}")
		p.run(b, dir, 0, "apply", "-auto-approve", "-input=false", "-lock=false", fmt.Sprintf("-var=generation=%d", generation))
		uploads += p.edge.RequestCount("PUT /accounts/{account_id}/workers/scripts/{script_name}") - before
	}
	if uploads != b.N {
		b.Fatalf("%d uploads over %d applies: each apply must upload exactly the changed service", uploads, b.N)
	}
	b.ReportMetric(float64(p.edge.TotalRequests())/float64(b.N), "api-calls/apply")
}
