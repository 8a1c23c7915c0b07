package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

// terraformCLI runs the real terraform binary in a working directory against this test
// process's provider, served over gRPC in debug mode (Terraform's reattach), so that a test can
// signal Terraform itself: plugin-testing cannot send SIGINT or SIGKILL.
type terraformCLI struct {
	t   *testing.T
	bin string
	dir string
	env []string
}

const providerAddr = "registry.terraform.io/dot-do/servicesdo"

func newTerraformCLI(t *testing.T) *terraformCLI {
	t.Helper()
	bin := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("terraform"); err != nil {
			t.Skip("no terraform binary: set TF_ACC_TERRAFORM_PATH (make test does)")
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	config := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	go func() {
		err := tf6server.Serve(providerAddr, func() tfprotov6.ProviderServer { return providerserver.NewProtocol6(New("test")())() },
			tf6server.WithDebug(ctx, config, closed), tf6server.WithoutLogStderrOverride(), tf6server.WithLoggingSink(t), tf6server.WithGoPluginLogger(hclog.NewNullLogger()))
		if err != nil {
			t.Errorf("serving the provider: %v", err)
		}
	}()
	var rc *plugin.ReattachConfig
	select {
	case rc = <-config:
	case <-time.After(30 * time.Second):
		t.Fatal("the provider server did not start")
	}
	t.Cleanup(func() {
		cancel()
		<-closed
	})
	reattach, err := json.Marshal(map[string]any{providerAddr: map[string]any{
		"Protocol": rc.Protocol, "ProtocolVersion": rc.ProtocolVersion, "Pid": rc.Pid, "Test": true,
		"Addr": map[string]string{"Network": rc.Addr.Network(), "String": rc.Addr.String()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"TF_REATTACH_PROVIDERS=" + string(reattach), "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TF_REATTACH_PROVIDERS=") && !strings.HasPrefix(kv, "TF_LOG") {
			env = append(env, kv)
		}
	}
	return &terraformCLI{t: t, bin: bin, dir: t.TempDir(), env: env}
}

// write replaces the working directory's configuration.
func (c *terraformCLI) write(config string) {
	c.t.Helper()
	header := `terraform {
  required_providers {
    servicesdo = { source = "dot-do/servicesdo" }
  }
}
`
	if err := os.WriteFile(filepath.Join(c.dir, "main.tf"), []byte(header+config), 0o600); err != nil {
		c.t.Fatal(err)
	}
}

func (c *terraformCLI) command(args ...string) *exec.Cmd {
	cmd := exec.Command(c.bin, args...)
	cmd.Dir, cmd.Env = c.dir, c.env
	return cmd
}

// run runs terraform to completion and returns its output and error.
func (c *terraformCLI) run(args ...string) (string, error) {
	out, err := c.command(args...).CombinedOutput()
	return string(out), err
}

// must runs terraform and fails the test when it fails.
func (c *terraformCLI) must(args ...string) string {
	c.t.Helper()
	out, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// background starts terraform and returns a function that waits for it.
func (c *terraformCLI) background(args ...string) (*exec.Cmd, func() (string, error)) {
	c.t.Helper()
	cmd := c.command(args...)
	var out edgetest.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	c.t.Cleanup(func() {
		_ = cmd.Process.Kill()
	})
	return cmd, func() (string, error) {
		select {
		case err := <-done:
			return out.String(), err
		case <-time.After(2 * time.Minute):
			_ = cmd.Process.Kill()
			return out.String(), fmt.Errorf("terraform did not exit")
		}
	}
}

// state reads the deployment's attributes from the state (terraform show -json).
func (c *terraformCLI) state() map[string]any {
	c.t.Helper()
	var doc struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Address string         `json:"address"`
					Values  map[string]any `json:"values"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal([]byte(c.must("show", "-json")), &doc); err != nil {
		c.t.Fatal(err)
	}
	for _, r := range doc.Values.RootModule.Resources {
		if r.Address == deployAddress {
			return r.Values
		}
	}
	c.t.Fatalf("no %s in the state", deployAddress)
	return nil
}

// plannedChange plans and returns the deployment's change: its values before (the refreshed
// state) and after.
func (c *terraformCLI) plannedChange() (before, after map[string]any) {
	c.t.Helper()
	c.must("plan", "-input=false", "-out=tfplan")
	var doc struct {
		Changes []struct {
			Address string `json:"address"`
			Change  struct {
				Actions []string       `json:"actions"`
				Before  map[string]any `json:"before"`
				After   map[string]any `json:"after"`
			} `json:"change"`
		} `json:"resource_changes"`
	}
	if err := json.Unmarshal([]byte(c.must("show", "-json", "tfplan")), &doc); err != nil {
		c.t.Fatal(err)
	}
	for _, ch := range doc.Changes {
		if ch.Address == deployAddress {
			return ch.Change.Before, ch.Change.After
		}
	}
	c.t.Fatalf("no planned change of %s", deployAddress)
	return nil, nil
}

// trafficString renders a traffic attribute from JSON state as "v=p,v=p".
func trafficString(v any) string {
	list, _ := v.([]any)
	parts := make([]string, 0, len(list))
	for _, item := range list {
		m, _ := item.(map[string]any)
		parts = append(parts, fmt.Sprintf("%v=%v", m["version_id"], m["percent"]))
	}
	return strings.Join(parts, ",")
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond) // polling interval
	}
}

// interruptedRollout starts a canary whose first step holds 60s, waits until its split is
// live, stops Terraform with sig, and returns the rollout's env and Terraform.
func interruptedRollout(t *testing.T, prefix string, sig os.Signal) (*rolloutEnv, *terraformCLI, string, func(hold string) string) {
	e := newRolloutEnv(t, prefix)
	v2 := e.upload("v2", healthy)
	tf := newTerraformCLI(t)
	config := func(version, hold string) string {
		return e.config(fmt.Sprintf(`
  version_id = %q
  strategy   = "canary"
  steps      = [{ percent = 20, hold = %q }]`, version, hold))
	}
	tf.write(config(e.stable, "60s"))
	tf.must("init", "-input=false")
	tf.must("apply", "-input=false", "-auto-approve")
	tf.write(config(v2, "60s"))
	cmd, wait := tf.background("apply", "-input=false", "-auto-approve")
	waitFor(t, "the first split to serve", time.Minute, func() bool {
		d := e.active()
		return len(d.Versions) == 2 && d.Versions[1].VersionID == v2 && d.Versions[1].Percentage == 20
	})
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	out, err := wait()
	if err == nil {
		t.Fatalf("terraform apply succeeded after %v:\n%s", sig, out)
	}
	if sig == os.Interrupt && !strings.Contains(out, "Rollout interrupted") {
		t.Fatalf("terraform apply after SIGINT:\n%s", out)
	}
	return e, tf, v2, func(hold string) string { return config(v2, hold) }
}

// resumeAfter rewrites the configuration with a shorter hold and waits until the live split
// has held that long, so that the resume plans no hold left.
func resumeAfter(t *testing.T, e *rolloutEnv, tf *terraformCLI, config func(string) string) {
	tf.write(config("1s"))
	waitFor(t, "the live split to have held 1s", 10*time.Second, func() bool { return time.Since(e.active().CreatedOn) > time.Second })
}

// Ctrl-C during a hold: Terraform asks the provider to stop; the rollout stops where it is
// (traffic left as it is), the apply fails with the position saved, and the next apply resumes
// it from that step.
func TestAccDeployment_interruptThenResume(t *testing.T) {
	t.Parallel()
	e, tf, v2, config := interruptedRollout(t, "tf-acc-dep-sigint", os.Interrupt)
	st := tf.state()
	if st["phase"] != "paused" || st["pause_reason"] != "interrupted" || trafficString(st["traffic"]) != e.stable+"=80,"+v2+"=20" {
		t.Fatalf("state after the interrupt: %v", st)
	}
	if err := e.checkLive(e.stable, 80, v2, 20)(nil); err != nil {
		t.Fatal(err)
	}
	// Resume (with the hold shortened so the test does not wait out a minute): the rollout
	// continues after step 1, not from scratch.
	resumeAfter(t, e, tf, config)
	if _, after := tf.plannedChange(); fmt.Sprint(after["planned_path"]) != "[step 2: 100 %, promote]" {
		t.Fatalf("planned path of the resume: %v", after["planned_path"])
	}
	tf.must("apply", "-input=false", "tfplan")
	if st := tf.state(); st["phase"] != "promoted" || trafficString(st["traffic"]) != v2+"=100" {
		t.Fatalf("state after the resume: %v", st)
	}
}

// Terraform killed mid-rollout saves no state: the next plan rebuilds the position from the
// active deployment and its marker (paused, interrupted, at the live split) and the apply
// resumes.
func TestAccDeployment_killedApplyResumes(t *testing.T) {
	t.Parallel()
	e, tf, v2, config := interruptedRollout(t, "tf-acc-dep-sigkill", syscall.SIGKILL)
	if st := tf.state(); st["phase"] != "stable" || trafficString(st["traffic"]) != e.stable+"=100" {
		t.Fatalf("the killed apply should have saved nothing: %v", st)
	}
	resumeAfter(t, e, tf, config)
	before, after := tf.plannedChange()
	if before["phase"] != "paused" || before["pause_reason"] != "interrupted" || trafficString(before["traffic"]) != e.stable+"=80,"+v2+"=20" {
		t.Fatalf("refreshed state before the resume: %v", before)
	}
	if fmt.Sprint(after["planned_path"]) != "[step 2: 100 %, promote]" || after["phase"] != "promoted" {
		t.Fatalf("planned resume: %v", after)
	}
	tf.must("apply", "-input=false", "tfplan")
	if err := e.checkLive(v2, 100)(nil); err != nil {
		t.Fatal(err)
	}
}
