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
