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
