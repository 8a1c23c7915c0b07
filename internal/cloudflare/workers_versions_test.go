package cloudflare

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// A version upload moves no traffic; a 90/10 deployment reads back as the active one.
func TestWorkersVersionsAndDeployments(t *testing.T) {
	t.Parallel()
	e := newWKEnv(t)
	u := wkUpload("canary")
	u.Annotations = Annotations{Message: "first"}
	e.mustUpload(u)
	first, ok, err := e.c.ActiveDeployment(e.ctx, "canary")
	if err != nil || !ok {
		t.Fatalf("active deployment: %v %v", ok, err)
	}
	if len(first.Versions) != 1 || first.Versions[0].Percentage != 100 || first.CreatedOn.IsZero() {
		t.Fatalf("first deployment = %+v", first)
	}
	v1 := first.Versions[0].VersionID

	newCode := []byte("export default { fetch() { return new Response('v2') } }")
	v2, err := e.c.UploadVersion(e.ctx, VersionUpload{
		Script: "canary", MainModule: "index.js", CompatibilityDate: "2025-01-01",
		Modules:     []Module{{Name: "index.js", Content: newCode}},
		Bindings:    []Binding{{Type: BindingPlainText, Name: "COLOR", Text: "blue"}},
		Annotations: Annotations{Message: "canary build", Tag: "v2.0.0"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if v2.ID == "" || v2.ID == v1 || v2.Number != 2 || v2.Message != "canary build" || v2.Tag != "v2.0.0" || v2.TriggeredBy != "upload" || v2.MainModule != "index.js" {
		t.Errorf("uploaded version = %+v", v2)
	}
	still, _, err := e.c.ActiveDeployment(e.ctx, "canary")
	if err != nil {
		t.Fatal(err)
	}
	if still.ID != first.ID || len(still.Versions) != 1 || still.Versions[0].VersionID != v1 {
		t.Errorf("a version upload moved traffic: %+v", still)
	}
	serving, err := e.c.GetScriptContent(e.ctx, "canary", "")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(serving.Modules[0].Content, newCode) {
		t.Error("the undeployed version is serving")
	}
	if q := e.lastRequest("POST", "/workers/scripts/canary/versions"); !strings.Contains(string(q.Body), `"main_module":"index.js"`) {
		t.Errorf("version metadata not sent as one JSON field: %s", q.Body)
	}

	got, err := e.c.GetVersion(e.ctx, "canary", v2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != v2.ID || got.Number != 2 || got.Message != "canary build" || got.Tag != "v2.0.0" || got.TriggeredBy != "upload" ||
		got.CompatibilityDate != "2025-01-01" || got.UsageModel != "standard" || got.CreatedOn.IsZero() || got.Source != "api" || got.Etag == "" {
		t.Errorf("version = %+v", got)
	}
	wkSameBindings(t, "version", got.Bindings, []Binding{{Type: BindingPlainText, Name: "COLOR", Text: "blue"}})

	list, err := e.c.ListVersions(e.ctx, "canary")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != v2.ID || list[1].ID != v1 || list[0].Message != "canary build" || list[1].Message != "first" {
		t.Errorf("versions = %+v", list)
	}
	// The same list one item per page: the pager follows pages until an empty one.
	paged, err := e.c.listVersions(e.ctx, "canary", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(paged) != 2 || paged[0].ID != v2.ID || paged[1].ID != v1 {
		t.Errorf("paged versions = %+v", paged)
	}
	for _, r := range e.allRequests() {
		if strings.Contains(r.RawQuery, "deployable") {
			t.Errorf("versions listed with deployable: %s", r.RawQuery)
		}
	}

	split, err := e.c.CreateDeployment(e.ctx, "canary", []DeploymentVersion{{VersionID: v1, Percentage: 90}, {VersionID: v2.ID, Percentage: 10}}, "canary 10%", false)
	if err != nil {
		t.Fatal(err)
	}
	if split.Message != "canary 10%" || split.TriggeredBy != "deployment" || len(split.Versions) != 2 {
		t.Errorf("deployment = %+v", split)
	}
	deps, err := e.c.ListDeployments(e.ctx, "canary")
	if err != nil {
		t.Fatal(err)
	}
	if len(deps) != 2 || deps[0].ID != split.ID || deps[1].ID != first.ID {
		t.Fatalf("deployments = %+v", deps)
	}
	want := []DeploymentVersion{{VersionID: v1, Percentage: 90}, {VersionID: v2.ID, Percentage: 10}}
	if !slices.Equal(deps[0].Versions, want) {
		t.Errorf("active split = %+v, want %+v", deps[0].Versions, want)
	}
	active, ok, err := e.c.ActiveDeployment(e.ctx, "canary")
	if err != nil || !ok || active.ID != split.ID || active.Message != "canary 10%" {
		t.Errorf("active = %+v %v %v", active, ok, err)
	}

	_, err = e.c.CreateDeployment(e.ctx, "canary", []DeploymentVersion{{VersionID: v1, Percentage: 90}, {VersionID: v2.ID, Percentage: 5}}, "", false)
	wantKind(t, err, ErrValidation, 10021)
	promoted, err := e.c.CreateDeployment(e.ctx, "canary", []DeploymentVersion{{VersionID: v2.ID, Percentage: 100}}, "", true)
	if err != nil {
		t.Fatal(err)
	}
	if q := e.lastRequest("POST", "/workers/scripts/canary/deployments").RawQuery; q != "force=true" {
		t.Errorf("query = %q", q)
	}
	if promoted.Message != "" || len(promoted.Versions) != 1 || promoted.Versions[0].VersionID != v2.ID {
		t.Errorf("promoted = %+v", promoted)
	}
}

func TestWorkersVersionErrors(t *testing.T) {
	t.Parallel()
	e := newWKEnv(t)
	_, err := e.c.ListVersions(e.ctx, "missing")
	wantKind(t, err, ErrNotFound, 10007)
	_, err = e.c.ListDeployments(e.ctx, "missing")
	wantKind(t, err, ErrNotFound, 10007)
	_, _, err = e.c.ActiveDeployment(e.ctx, "missing")
	wantKind(t, err, ErrNotFound, 10007)
	_, err = e.c.UploadVersion(e.ctx, VersionUpload{Script: "missing", MainModule: "index.js", Modules: []Module{{Name: "index.js", Content: []byte(wkCode)}}})
	wantKind(t, err, ErrNotFound, 10007)

	e.mustUpload(wkUpload("present"))
	_, err = e.c.GetVersion(e.ctx, "present", "00000000-0000-4000-8000-000000000000")
	wantKind(t, err, ErrNotFound, 0)
	_, err = e.c.CreateDeployment(e.ctx, "present", []DeploymentVersion{{VersionID: "00000000-0000-4000-8000-000000000000", Percentage: 100}}, "", false)
	wantKind(t, err, ErrValidation, 0)
}

// Secrets: put, list, overwrite, delete; values only ever reach the platform, never an
// error message.
func TestWorkersSecrets(t *testing.T) {
	t.Parallel()
	e := newWKEnv(t)
	const value = "hunter2-do-not-print"
	e.mustUpload(wkUpload("vault"))

	if err := e.c.PutSecret(e.ctx, "vault", "API_KEY", value); err != nil {
		t.Fatal(err)
	}
	secrets, err := e.c.ListSecrets(e.ctx, "vault")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(secrets, []Secret{{Name: "API_KEY", Type: BindingSecretText}}) {
		t.Errorf("secrets = %+v", secrets)
	}
	settings, err := e.c.GetScriptSettings(e.ctx, "vault")
	if err != nil {
		t.Fatal(err)
	}
	wkSameBindings(t, "settings", settings.Bindings, []Binding{{Type: BindingSecretText, Name: "API_KEY"}})
	wkStoredSecret(t, e, "vault", "API_KEY", value)

	if err := e.c.PutSecret(e.ctx, "vault", "API_KEY", "rotated"); err != nil {
		t.Fatal(err)
	}
	wkStoredSecret(t, e, "vault", "API_KEY", "rotated")

	if err := e.c.DeleteSecret(e.ctx, "vault", "API_KEY"); err != nil {
		t.Fatal(err)
	}
	if q := e.lastRequest("DELETE", "/secrets/API_KEY").RawQuery; q != "url_encoded=true" {
		t.Errorf("query = %q", q)
	}
	if secrets, err = e.c.ListSecrets(e.ctx, "vault"); err != nil || len(secrets) != 0 {
		t.Errorf("after delete: %+v %v", secrets, err)
	}
	wantKind(t, e.c.DeleteSecret(e.ctx, "vault", "API_KEY"), ErrNotFound, 0)

	err = e.c.PutSecret(e.ctx, "missing", "API_KEY", value)
	wantKind(t, err, ErrNotFound, 10007)
	if strings.Contains(err.Error(), value) {
		t.Errorf("error shows the secret: %v", err)
	}
	_, err = e.c.ListSecrets(e.ctx, "missing")
	wantKind(t, err, ErrNotFound, 10007)

	// With the latest version not deployed, the API refuses secret changes.
	if _, err := e.c.UploadVersion(e.ctx, VersionUpload{Script: "vault", MainModule: "index.js", Modules: []Module{{Name: "index.js", Content: []byte(wkCode)}}}); err != nil {
		t.Fatal(err)
	}
	err = e.c.PutSecret(e.ctx, "vault", "API_KEY", value)
	wantKind(t, err, ErrValidation, 10215)
	if strings.Contains(err.Error(), value) {
		t.Errorf("error shows the secret: %v", err)
	}
}

func wkStoredSecret(t *testing.T, e *wkEnv, script, name, want string) {
	t.Helper()
	stored, err := e.srv.ScriptBindings(script)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range stored {
		if b["name"] == name {
			if b["type"] != BindingSecretText || b["text"] != want {
				t.Errorf("stored %s = %v %v", name, b["type"], b["text"] == want)
			}
			return
		}
	}
	t.Errorf("secret %s not stored", name)
}
