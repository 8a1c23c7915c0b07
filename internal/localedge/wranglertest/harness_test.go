// Package wranglertest runs the real wrangler CLI (pinned in package-lock.json here; `make
// wrangler-deps` installs it) against a local edge, and asserts each command's effect on the
// edge: the Worker serves the new version, kv get returns the value, and so on.
package wranglertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

// suite is one local edge (with Workers) and one wrangler HOME shared by the subtests: each
// subtest names its own Workers, namespaces and buckets, so they run in parallel.
type suite struct {
	env  *edgetest.Env
	bin  string
	home string
}

// wranglerBin finds the installed wrangler; the test is skipped without Node.js, and without
// wrangler unless the run requires it (make test and CI do).
func wranglerBin(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not found: the wrangler tests need Node.js 20 (e.g. apt-get install nodejs npm)")
	}
	bin, err := filepath.Abs(filepath.Join("node_modules", ".bin", "wrangler"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		msg := "wrangler is not installed: run `make wrangler-deps` (npm ci in internal/localedge/wranglertest)"
		if os.Getenv("SERVICESDO_REQUIRE_WRANGLER") != "" || os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return bin
}

func newSuite(t *testing.T) *suite {
	t.Helper()
	bin := wranglerBin(t)
	env := edgetest.Start(t, edgetest.WithWorkers())
	return &suite{env: env, bin: bin, home: t.TempDir()}
}

// project writes a Worker project (wrangler.toml and sources) to a new directory.
func (s *suite) project(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// run runs wrangler in dir against the edge, non-interactively, and returns its output
// (stdout and stderr) and error.
func (s *suite) run(t *testing.T, dir, stdin string, args ...string) (string, error) {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := s.command(ctx, dir, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// command is wrangler with args in dir, pointed at the edge.
func (s *suite) command(ctx context.Context, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Dir = dir
	cmd.Env = append(filteredEnv(),
		"HOME="+s.home,
		"XDG_CONFIG_HOME="+filepath.Join(s.home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(s.home, ".cache"),
		"CLOUDFLARE_API_BASE_URL="+s.env.BaseURL,
		"CLOUDFLARE_API_TOKEN="+s.env.Config.Token,
		"CLOUDFLARE_ACCOUNT_ID="+s.env.Config.AccountID,
		"WRANGLER_SEND_METRICS=false",
		"WRANGLER_HIDE_BANNER=true", // also skips the update check (a request to npm)
		"CI=true",                   // never prompt
		"NO_COLOR=1", "FORCE_COLOR=0",
	)
	return cmd
}

// filteredEnv is the test's environment without what would point wrangler elsewhere.
func filteredEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "CLOUDFLARE_") || strings.HasPrefix(name, "CF_") || strings.HasPrefix(name, "WRANGLER_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// wrangler runs wrangler and fails the test, with its output, unless it succeeds.
func (s *suite) wrangler(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := s.run(t, dir, "", args...)
	if err != nil {
		t.Fatalf("wrangler %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// wranglerFails runs wrangler and fails the test unless it fails.
func (s *suite) wranglerFails(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := s.run(t, dir, "", args...)
	if err == nil {
		t.Fatalf("wrangler %s succeeded, want a failure:\n%s", strings.Join(args, " "), out)
	}
	return out
}

// devHost is the workers.dev host of a script on the test edge (subdomain localedge).
func devHost(script string) string { return script + ".localedge.workers.dev" }

// get requests path from the Worker serving host.
func (s *suite) get(t *testing.T, host, path string) (int, string) {
	t.Helper()
	return s.env.Get(host, path)
}

// wantServes asserts the first request to host answers 200 with body: the edge acknowledges
// deploys only once the runtime serves them.
func (s *suite) wantServes(t *testing.T, host, body string) {
	t.Helper()
	status, got := s.get(t, host, "/")
	if status != http.StatusOK || got != body {
		t.Fatalf("GET %s: %d %q, want 200 %q", host, status, got, body)
	}
}

// api sends a request to the edge's API and decodes the envelope's result into out.
func (s *suite) api(t *testing.T, method, path string, out any) {
	t.Helper()
	status, _, body := s.env.Raw(method, path, nil, nil)
	if status != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, status, body)
	}
	var env struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if out != nil {
		if err := json.Unmarshal(env.Result, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, env.Result)
		}
	}
}

// accountPath is the API path under the edge's account.
func (s *suite) accountPath(format string, args ...any) string {
	return "/accounts/" + s.env.Config.AccountID + fmt.Sprintf(format, args...)
}

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// versionIDAfter returns the version id printed after label ("Current Version ID:", "Worker
// Version ID:").
func versionIDAfter(t *testing.T, out, label string) string {
	t.Helper()
	i := strings.Index(out, label)
	if i < 0 {
		t.Fatalf("no %q in wrangler's output:\n%s", label, out)
	}
	id := uuidRE.FindString(out[i:])
	if id == "" {
		t.Fatalf("no version id after %q in wrangler's output:\n%s", label, out)
	}
	return id
}

// worker is the source of a module Worker answering body (and logging it).
func worker(body string) string {
	return fmt.Sprintf(`export default {
  async fetch(request, env) {
    console.log("serving", %q, new URL(request.url).pathname);
    return new Response(%q);
  },
  async scheduled(event, env) {},
};
`, body, body)
}

// toml is a wrangler.toml for the Worker name with extra lines.
func toml(name string, extra ...string) string {
	return fmt.Sprintf("name = %q\nmain = \"index.js\"\ncompatibility_date = \"2025-01-01\"\n%s\n", name, strings.Join(extra, "\n"))
}
