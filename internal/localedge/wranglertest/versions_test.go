package wranglertest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// secretWorker answers its label and the API_KEY secret ("-" without one).
func secretWorker(label string) string {
	return `export default {
  async fetch(request, env) { return new Response(` + "`" + label + `:${env.API_KEY ?? "-"}` + "`" + `); },
};
`
}

type deploymentJSON struct {
	ID          string `json:"id"`
	Source      string `json:"source"`
	AuthorEmail string `json:"author_email"`
	Annotations map[string]string
	Versions    []struct {
		VersionID  string  `json:"version_id"`
		Percentage float64 `json:"percentage"`
	} `json:"versions"`
}

// jsonOut decodes the JSON wrangler printed (--json), skipping anything before it.
func jsonOut(t *testing.T, out string, v any) {
	t.Helper()
	i := strings.IndexAny(out, "[{")
	if i < 0 {
		t.Fatalf("no JSON in wrangler's output:\n%s", out)
	}
	if err := json.NewDecoder(strings.NewReader(out[i:])).Decode(v); err != nil {
		t.Fatalf("decoding wrangler's JSON: %v\n%s", err, out)
	}
}

// testVersions: versions upload / list / view / deploy (split, then 100 %), deployments list /
// status.
func testVersions(t *testing.T, s *suite) {
	const name = "versions-w"
	host := devHost(name)
	cfg := toml(name, "workers_dev = true")
	one := s.project(t, map[string]string{"wrangler.toml": cfg, "index.js": secretWorker("v1")})
	v1 := versionIDAfter(t, s.wrangler(t, one, "deploy"), "Current Version ID:")
	s.wantServes(t, host, "v1:-")

	two := s.project(t, map[string]string{"wrangler.toml": cfg, "index.js": secretWorker("v2")})
	out := s.wrangler(t, two, "versions", "upload", "--message", "second")
	v2 := versionIDAfter(t, out, "Worker Version ID:")
	s.wantServes(t, host, "v1:-") // uploaded, not deployed

	var versions []struct {
		ID          string            `json:"id"`
		Annotations map[string]string `json:"annotations"`
		Metadata    struct {
			AuthorEmail string `json:"author_email"`
			Source      string `json:"source"`
		} `json:"metadata"`
	}
	jsonOut(t, s.wrangler(t, two, "versions", "list", "--json"), &versions)
	ids := map[string]bool{}
	for _, v := range versions {
		ids[v.ID] = true
		if v.Metadata.AuthorEmail != "developer@localedge.localhost" || v.Metadata.Source != "wrangler" {
			t.Errorf("version %s: author %q, source %q", v.ID, v.Metadata.AuthorEmail, v.Metadata.Source)
		}
	}
	if len(versions) != 2 || !ids[v1] || !ids[v2] {
		t.Fatalf("versions list: %+v, want %s and %s", versions, v1, v2)
	}
	var view struct {
		ID          string            `json:"id"`
		Annotations map[string]string `json:"annotations"`
	}
	jsonOut(t, s.wrangler(t, two, "versions", "view", v2, "--json"), &view)
	if view.ID != v2 || view.Annotations["workers/message"] != "second" {
		t.Fatalf("versions view %s: %+v", v2, view)
	}

	// A 50/50 split serves both versions.
	s.wrangler(t, two, "versions", "deploy", v1+"@50%", v2+"@50%", "--yes", "--message", "split")
	seen := map[string]bool{}
	for i := 0; i < 64 && len(seen) < 2; i++ {
		_, body := s.get(t, host, "/")
		seen[body] = true
	}
	if !seen["v1:-"] || !seen["v2:-"] || len(seen) != 2 {
		t.Fatalf("a 50/50 split served %v", seen)
	}
	var status deploymentJSON
	jsonOut(t, s.wrangler(t, two, "deployments", "status", "--json"), &status)
	if len(status.Versions) != 2 || status.Versions[0].Percentage != 50 || status.Annotations["workers/message"] != "split" {
		t.Fatalf("deployments status: %+v", status)
	}

	s.wrangler(t, two, "versions", "deploy", v2+"@100%", "--yes")
	s.wantServes(t, host, "v2:-")
	var deployments []deploymentJSON
	jsonOut(t, s.wrangler(t, two, "deployments", "list", "--json"), &deployments)
	if len(deployments) != 3 {
		t.Fatalf("deployments list has %d deployments, want 3 (deploy, split, 100 %%): %+v", len(deployments), deployments)
	}
	for _, d := range deployments {
		if d.AuthorEmail != "developer@localedge.localhost" || d.Source != "wrangler" {
			t.Errorf("deployment %s: author %q, source %q", d.ID, d.AuthorEmail, d.Source)
		}
	}
}

// testSecretsAndRollback: secret put / list / delete (each a new version, deployed at once),
// and rollback past a secret change.
func testSecretsAndRollback(t *testing.T, s *suite) {
	const name = "secrets-w"
	host := devHost(name)
	cfg := toml(name, "workers_dev = true")
	one := s.project(t, map[string]string{"wrangler.toml": cfg, "index.js": secretWorker("v1")})
	v1 := versionIDAfter(t, s.wrangler(t, one, "deploy"), "Current Version ID:")
	two := s.project(t, map[string]string{"wrangler.toml": cfg, "index.js": secretWorker("v2")})
	s.wrangler(t, two, "deploy")
	s.wantServes(t, host, "v2:-")

	out, err := s.run(t, two, "s3cret\n", "secret", "put", "API_KEY")
	if err != nil {
		t.Fatalf("secret put: %v\n%s", err, out)
	}
	s.wantServes(t, host, "v2:s3cret")
	var secrets []struct{ Name, Type string }
	jsonOut(t, s.wrangler(t, two, "secret", "list", "--format", "json"), &secrets)
	if len(secrets) != 1 || secrets[0].Name != "API_KEY" || secrets[0].Type != "secret_text" {
		t.Fatalf("secret list: %+v", secrets)
	}

	// Rolling back to v1 goes past the secret change: the API refuses (10220) and wrangler,
	// once confirmed, forces it.
	out = s.wrangler(t, two, "rollback", v1, "--message", "back", "--yes")
	if !strings.Contains(out, "API_KEY") {
		t.Errorf("rollback does not name the changed secret:\n%s", out)
	}
	s.wantServes(t, host, "v1:-")
	var active struct {
		Deployments []deploymentJSON `json:"deployments"`
	}
	s.api(t, http.MethodGet, s.accountPath("/workers/scripts/%s/deployments", name), &active)
	if d := active.Deployments[0]; d.Annotations["workers/triggered_by"] != "rollback" || d.Annotations["workers/message"] != "back" || d.Versions[0].VersionID != v1 {
		t.Fatalf("active deployment after the rollback: %+v", d)
	}

	// Back to the latest code, a secret again, then delete it.
	s.wrangler(t, two, "deploy")
	out, err = s.run(t, two, "again\n", "secret", "put", "API_KEY")
	if err != nil {
		t.Fatalf("secret put: %v\n%s", err, out)
	}
	s.wantServes(t, host, "v2:again")
	s.wrangler(t, two, "secret", "delete", "API_KEY")
	s.wantServes(t, host, "v2:-")
	jsonOut(t, s.wrangler(t, two, "secret", "list", "--format", "json"), &secrets)
	if len(secrets) != 0 {
		t.Fatalf("secret list after delete: %+v", secrets)
	}
}

// testDelete: delete removes the Worker, its service and what served it.
func testDelete(t *testing.T, s *suite) {
	const name = "delete-w"
	dir := s.project(t, map[string]string{"wrangler.toml": toml(name, "workers_dev = true"), "index.js": worker("doomed")})
	s.wrangler(t, dir, "deploy")
	s.wantServes(t, devHost(name), "doomed")
	out := s.wrangler(t, dir, "delete")
	if !strings.Contains(out, "Successfully deleted "+name) {
		t.Errorf("delete does not report success:\n%s", out)
	}
	if status, _, body := s.env.Raw(http.MethodGet, s.accountPath("/workers/services/%s", name), nil, nil); status != http.StatusNotFound || !strings.Contains(string(body), "10090") {
		t.Errorf("service after delete: %d %s", status, body)
	}
	if status, _ := s.get(t, devHost(name), "/"); status != http.StatusNotFound {
		t.Errorf("GET after delete: %d, want 404", status)
	}
}

// testTriggers: triggers deploy replaces the crons and routes of a deployed Worker.
func testTriggers(t *testing.T, s *suite) {
	const name = "triggers-w"
	dir := s.project(t, map[string]string{"wrangler.toml": toml(name, "workers_dev = true", "[triggers]", `crons = ["0 * * * *"]`), "index.js": worker("triggered")})
	s.wrangler(t, dir, "deploy")
	dir = s.project(t, map[string]string{
		"wrangler.toml": toml(name, "workers_dev = true",
			`routes = [{ pattern = "triggers.example.com/*", zone_name = "example.com" }]`,
			"[triggers]", `crons = ["*/10 * * * *", "0 0 * * *"]`),
		"index.js": worker("triggered"),
	})
	s.wrangler(t, dir, "triggers", "deploy")
	var schedules struct {
		Schedules []struct{ Cron string } `json:"schedules"`
	}
	s.api(t, http.MethodGet, s.accountPath("/workers/scripts/%s/schedules", name), &schedules)
	var crons []string
	for _, sc := range schedules.Schedules {
		crons = append(crons, sc.Cron)
	}
	if strings.Join(crons, ",") != "*/10 * * * *,0 0 * * *" {
		t.Errorf("crons after triggers deploy: %v", crons)
	}
	s.wantServes(t, "triggers.example.com", "triggered")
}

// testInvalidUpload: code that throws at startup is refused at upload, as on Cloudflare (10021
// with the runtime's message), and no Worker is left behind. (wrangler itself catches syntax
// errors before uploading.)
func testInvalidUpload(t *testing.T, s *suite) {
	const name = "invalid-w"
	dir := s.project(t, map[string]string{"wrangler.toml": toml(name, "workers_dev = true"), "index.js": "throw new Error('boom at startup');\nexport default { fetch() { return new Response('x') } };\n"})
	out := s.wranglerFails(t, dir, "deploy")
	if !strings.Contains(out, "10021") || !strings.Contains(out, "boom at startup") {
		t.Errorf("deploy of a syntax error does not report 10021:\n%s", out)
	}
	if status, _, body := s.env.Raw(http.MethodGet, s.accountPath("/workers/services/%s", name), nil, nil); status != http.StatusNotFound || !strings.Contains(string(body), "10090") {
		t.Errorf("service after a refused upload: %d %s", status, body)
	}
}
