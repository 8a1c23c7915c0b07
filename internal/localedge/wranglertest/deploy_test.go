package wranglertest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// testDeploy: a new Worker with a route, a cron and workers.dev, then a new version of it.
func testDeploy(t *testing.T, s *suite) {
	const name = "deploy-w"
	files := map[string]string{
		"wrangler.toml": toml(name, "workers_dev = true",
			`routes = [{ pattern = "deploy.example.com/*", zone_name = "example.com" }]`,
			"[triggers]", `crons = ["*/5 * * * *"]`),
		"index.js": worker("v1"),
	}
	dir := s.project(t, files)
	out := s.wrangler(t, dir, "deploy")
	first := versionIDAfter(t, out, "Current Version ID:")
	s.wantServes(t, devHost(name), "v1")
	s.wantServes(t, "deploy.example.com", "v1")
	for _, want := range []string{"https://" + devHost(name), "deploy.example.com/*", "schedule: */5 * * * *"} {
		if !strings.Contains(out, want) {
			t.Errorf("deploy does not print %q:\n%s", want, out)
		}
	}
	var schedules struct {
		Schedules []struct{ Cron string } `json:"schedules"`
	}
	s.api(t, http.MethodGet, s.accountPath("/workers/scripts/%s/schedules", name), &schedules)
	if len(schedules.Schedules) != 1 || schedules.Schedules[0].Cron != "*/5 * * * *" {
		t.Errorf("schedules after deploy: %+v", schedules)
	}
	// The cron runs the Worker's scheduled handler (fired now through the edge).
	if status, body := s.get(t, devHost(name), "/__scheduled?cron=*/5+*+*+*+*"); status != http.StatusOK {
		t.Errorf("firing the cron: %d %s", status, body)
	}

	files["index.js"] = worker("v2")
	dir = s.project(t, files)
	out = s.wrangler(t, dir, "deploy")
	second := versionIDAfter(t, out, "Current Version ID:")
	if second == first {
		t.Fatalf("the second deploy reports the first version %s", first)
	}
	s.wantServes(t, devHost(name), "v2")
	s.wantServes(t, "deploy.example.com", "v2")

	var svc struct {
		DefaultEnvironment struct {
			Script struct {
				LastDeployedFrom string `json:"last_deployed_from"`
			} `json:"script"`
		} `json:"default_environment"`
	}
	s.api(t, http.MethodGet, s.accountPath("/workers/services/%s", name), &svc)
	if got := svc.DefaultEnvironment.Script.LastDeployedFrom; got != "wrangler" {
		t.Errorf("last_deployed_from = %q, want wrangler", got)
	}
	var deps struct {
		Deployments []struct {
			AuthorEmail string `json:"author_email"`
			Versions    []struct {
				VersionID string `json:"version_id"`
			} `json:"versions"`
		} `json:"deployments"`
	}
	s.api(t, http.MethodGet, s.accountPath("/workers/scripts/%s/deployments", name), &deps)
	if len(deps.Deployments) == 0 || deps.Deployments[0].Versions[0].VersionID != second || deps.Deployments[0].AuthorEmail != "developer@localedge.localhost" {
		raw, _ := json.Marshal(deps)
		t.Errorf("active deployment is not the second version %s by the user: %s", second, raw)
	}
}
