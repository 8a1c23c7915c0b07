package main

import (
	"bufio"
	"context"
	"net/http"
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
