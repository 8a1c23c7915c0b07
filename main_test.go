package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The `local` subcommand prints the environment to export, serves the API, keeps its state
// across restarts, and exits cleanly on SIGTERM.
func TestLocalSubcommand(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "terraform-provider-servicesdo")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dataDir := filepath.Join(dir, "data")

	start := func() (*exec.Cmd, map[string]string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		t.Cleanup(cancel)
		cmd := exec.CommandContext(ctx, bin, "local", "--api-listen", "127.0.0.1:0", "--data-dir", dataDir, "--token", "tok", "--api-only")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		env := map[string]string{}
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			if kv, ok := strings.CutPrefix(scanner.Text(), "export "); ok {
				name, value, _ := strings.Cut(kv, "=")
				env[name] = value
			}
			if len(env) == 4 {
				break
			}
		}
		go func() {
			for scanner.Scan() {
			}
		}()
		for _, name := range []string{"CLOUDFLARE_API_BASE_URL", "CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ZONE_ID"} {
			if env[name] == "" {
				t.Fatalf("local did not print export %s=...; got %v", name, env)
			}
		}
		return cmd, env
	}
	call := func(env map[string]string, method, path, body string) *http.Response {
		req, _ := http.NewRequest(method, env["CLOUDFLARE_API_BASE_URL"]+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+env["CLOUDFLARE_API_TOKEN"])
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = res.Body.Close() })
		return res
	}
	stop := func(cmd *exec.Cmd) {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("local did not exit cleanly on SIGTERM: %v", err)
		}
	}

	cmd, env := start()
	if env["CLOUDFLARE_API_TOKEN"] != "tok" {
		t.Fatalf("printed token %q, want the --token value", env["CLOUDFLARE_API_TOKEN"])
	}
	res := call(env, "POST", "/accounts/"+env["CLOUDFLARE_ACCOUNT_ID"]+"/storage/kv/namespaces", `{"title":"kept"}`)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("create namespace: HTTP %d", res.StatusCode)
	}
	stop(cmd)

	cmd, env = start()
	defer stop(cmd)
	res = call(env, "GET", "/accounts/"+env["CLOUDFLARE_ACCOUNT_ID"]+"/storage/kv/namespaces", "")
	var body strings.Builder
	_, _ = bufio.NewReader(res.Body).WriteTo(&body)
	if !strings.Contains(body.String(), `"title":"kept"`) {
		t.Fatalf("the namespace did not survive a restart: %s", body.String())
	}
}

// `local --faults` injects the described faults into every API request, and `local -h`
// documents the flag.
func TestLocalFaultsFlag(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "terraform-provider-servicesdo")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	help, err := exec.Command(bin, "local", "-h").CombinedOutput()
	if err != nil || !strings.Contains(string(help), "-faults") || !strings.Contains(string(help), "429=0.1,5xx=0.1,drop=0.05,truncate=0.05,latency=50ms") {
		t.Fatalf("local -h: %v\n%s", err, help)
	}
	if out, err := exec.Command(bin, "local", "--api-only", "--faults", "teapot=1").CombinedOutput(); err == nil || !strings.Contains(string(out), `unknown kind "teapot"`) {
		t.Fatalf("a bad --faults spec: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "local", "--api-only", "--api-listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"), "--faults", "429=1,latency=1ms")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	env := map[string]string{}
	scanner := bufio.NewScanner(stdout)
	for len(env) < 3 && scanner.Scan() {
		if kv, ok := strings.CutPrefix(scanner.Text(), "export "); ok {
			name, value, _ := strings.Cut(kv, "=")
			env[name] = value
		}
	}
	go func() {
		for scanner.Scan() {
		}
	}()
	req, _ := http.NewRequest(http.MethodGet, env["CLOUDFLARE_API_BASE_URL"]+"/user/tokens/verify", nil)
	req.Header.Set("Authorization", "Bearer "+env["CLOUDFLARE_API_TOKEN"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body strings.Builder
	_, _ = bufio.NewReader(res.Body).WriteTo(&body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "1" || !strings.Contains(body.String(), `"code":971`) {
		t.Fatalf("with --faults 429=1 the API answered %d (Retry-After %q) %s", res.StatusCode, res.Header.Get("Retry-After"), body.String())
	}
}

// quietSDKLogs turns the SDK's loggers off only when no TF_LOG* variable asks for logs.
func TestQuietSDKLogs(t *testing.T) {
	for _, c := range []struct {
		name  string
		set   map[string]string
		quiet bool
	}{
		{"nothing set", nil, true},
		{"empty TF_LOG", map[string]string{"TF_LOG": ""}, true},
		{"TF_LOG", map[string]string{"TF_LOG": "trace"}, false},
		{"TF_LOG_PROVIDER", map[string]string{"TF_LOG_PROVIDER": "debug"}, false},
		{"TF_LOG_PROVIDER_SERVICESDO", map[string]string{"TF_LOG_PROVIDER_SERVICESDO": "trace"}, false},
		{"TF_LOG_SDK_PROTO", map[string]string{"TF_LOG_SDK_PROTO": "trace"}, false},
		{"TF_LOG_SDK_FRAMEWORK", map[string]string{"TF_LOG_SDK_FRAMEWORK": "debug"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, kv := range os.Environ() {
				if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "TF_LOG") {
					t.Setenv(name, "")
					_ = os.Unsetenv(name)
				}
			}
			for _, name := range sdkLogLevels {
				t.Setenv(name, "")
				_ = os.Unsetenv(name)
			}
			for k, v := range c.set {
				t.Setenv(k, v)
			}
			quietSDKLogs()
			for _, name := range sdkLogLevels {
				got, set := os.LookupEnv(name)
				if c.quiet && got != "off" {
					t.Errorf("%s = %q, want off", name, got)
				}
				if !c.quiet && set && c.set[name] == "" {
					t.Errorf("%s = %q: the user's TF_LOG* settings must be left alone", name, got)
				}
			}
		})
	}
}

// Under Terraform, the provider formats no SDK log lines unless TF_LOG asks for them, and
// TF_LOG=trace shows the framework's and the protocol's trace lines as before.
func TestSDKLogsUnderTerraform(t *testing.T) {
	tf := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if tf == "" {
		var err error
		if tf, err = exec.LookPath("terraform"); err != nil {
			t.Skip("no terraform: run make test, which finds one")
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "real", "terraform-provider-servicesdo")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	// A wrapper that keeps what the provider writes to stderr (its log stream, which
	// Terraform filters), to see what the provider itself emits.
	providerLog := filepath.Join(dir, "provider.log")
	wrapped := filepath.Join(dir, "wrapped")
	if err := os.MkdirAll(wrapped, 0o755); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf("#!/bin/sh\nexec %q \"$@\" 2>>%q\n", bin, providerLog)
	if err := os.WriteFile(filepath.Join(wrapped, "terraform-provider-servicesdo"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	config := "terraform {\n  required_providers {\n    servicesdo = { source = \"dot-do/servicesdo\" }\n  }\n}\n" +
		"resource \"servicesdo_kv_namespace\" \"r\" {\n  title = \"logs\"\n}\n"
	if err := os.WriteFile(filepath.Join(work, "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	validate := func(providerDir string, env ...string) string {
		t.Helper()
		rc := filepath.Join(dir, "terraformrc")
		if err := os.WriteFile(rc, fmt.Appendf(nil, "provider_installation {\n  dev_overrides {\n    \"dot-do/servicesdo\" = %q\n  }\n  direct {}\n}\n", providerDir), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(tf, "validate", "-no-color")
		cmd.Dir = work
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "TF_LOG") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, append(env, "TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1")...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("terraform validate: %v\n%s", err, out)
		}
		return string(out)
	}
	emitted := func() string {
		t.Helper()
		raw, err := os.ReadFile(providerLog)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		_ = os.Remove(providerLog)
		return string(raw)
	}

	validate(wrapped)
	if got := emitted(); strings.Contains(got, "sdk.framework") || strings.Contains(got, "sdk.proto") {
		t.Fatalf("without TF_LOG the provider still emitted SDK log lines:\n%.2000s", got)
	}
	validate(wrapped, "TF_LOG=trace")
	got := emitted()
	for _, want := range []string{`"@module":"sdk.framework"`, `"@module":"sdk.proto"`, `"@level":"trace"`} {
		if !strings.Contains(got, want) {
			t.Errorf("with TF_LOG=trace the provider emitted no %s lines:\n%.2000s", want, got)
		}
	}
	shown := validate(filepath.Dir(bin), "TF_LOG=trace")
	for _, want := range []string{"@module=sdk.framework", "@module=sdk.proto", "Called provider defined Resource Schema method"} {
		if !strings.Contains(shown, want) {
			t.Errorf("terraform with TF_LOG=trace does not show %q from the provider", want)
		}
	}
}
