package cloudflare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

var wkHex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

// The upload must go out as wrangler sends it: one part per module carrying the module's
// name as filename and its content type, and the metadata as one JSON field, not the
// flattened "metadata.x.y" fields cloudflare-go v7 would produce.
func TestWorkersUploadWireFormat(t *testing.T) {
	t.Parallel()
	e := newWKEnv(t)
	u := wkUpload("wire")
	u.Modules = append(u.Modules, Module{Name: "lib/add.wasm", Content: wkWasm})
	u.Bindings = []Binding{{Type: BindingPlainText, Name: "GREETING", Text: "hello"}}
	e.mustUpload(u)

	req := e.lastRequest("PUT", "/workers/scripts/wire")
	_, params, err := mime.ParseMediaType(req.ContentType)
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(bytes.NewReader(req.Body), params["boundary"])
	files := map[string]string{}
	var metadata []byte
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(part)
		_, disp, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
		switch {
		case disp["filename"] != "":
			files[disp["filename"]] = part.Header.Get("Content-Type")
			if disp["name"] != disp["filename"] {
				t.Errorf("module %q sent as form field %q", disp["filename"], disp["name"])
			}
		case disp["name"] == "metadata":
			metadata = body
			if ct := part.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("metadata content type = %q", ct)
			}
		default:
			t.Errorf("unexpected form field %q (flattened metadata?)", disp["name"])
		}
	}
	want := map[string]string{"index.js": "application/javascript+module", "lib/add.wasm": "application/wasm"}
	if !reflect.DeepEqual(files, want) {
		t.Errorf("module parts = %v, want %v", files, want)
	}
	var md map[string]any
	if err := json.Unmarshal(metadata, &md); err != nil {
		t.Fatalf("metadata is not one JSON document: %v: %s", err, metadata)
	}
	if md["main_module"] != "index.js" || md["compatibility_date"] != "2025-01-01" {
		t.Errorf("metadata = %s", metadata)
	}
	// Empty lists are sent as such: tags and flags are replaced, not left as they were.
	if !reflect.DeepEqual(md["tags"], []any{}) || !reflect.DeepEqual(md["compatibility_flags"], []any{}) {
		t.Errorf("tags/flags not sent as empty lists: %s", metadata)
	}
	if _, ok := md["migrations"]; ok {
		t.Errorf("migrations sent without a migration: %s", metadata)
	}
}

// Uploads and settings changes run in parallel under Terraform; the request bodies must be
// built without shared state (run with -race).
func TestWorkersConcurrentUploads(t *testing.T) {
	t.Parallel()
	e := newWKEnv(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 8 {
		wg.Go(func() {
			name := fmt.Sprintf("par-%d", i)
			u := wkUpload(name)
			u.Bindings = []Binding{{Type: BindingPlainText, Name: "N", Text: name}}
			if _, err := e.c.UploadScript(e.ctx, u); err != nil {
				errs <- err
				return
			}
			if _, err := e.c.EditScriptSettings(e.ctx, name, ScriptSettingsPatch{Tags: []string{name}}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	scripts, err := e.c.ListScripts(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(scripts) != 8 {
		t.Errorf("scripts = %d, want 8", len(scripts))
	}
	for _, s := range scripts {
		if !slices.Equal(s.Tags, []string{s.Name}) {
			t.Errorf("%s tags = %v", s.Name, s.Tags)
		}
	}
}

// Code round trip: a JS main module, a Wasm module and a text module come back
// byte-identical with their content types, the main module named; an older version's code
// is readable by id.
func TestWorkersScriptContentRoundTrip(t *testing.T) {
	t.Parallel()
	e := newWKEnv(t)
	u := wkUpload("content")
	u.Modules = []Module{
		{Name: "index.js", Content: []byte(wkCode)},
		{Name: "lib/add.wasm", Content: wkWasm},
		{Name: "data/greeting.txt", ContentType: "text/plain", Content: []byte("héllo\x00world\n")},
	}
	u.CompatibilityFlags = []string{"nodejs_compat"}
	u.Tags = []string{"team:checkout", "svc"}
	s := e.mustUpload(u)
	if s.Name != "content" || !wkHex32.MatchString(s.Tag) || s.Etag == "" || !s.HasModules {
		t.Errorf("script = %+v", s)
	}
	if s.CreatedOn.IsZero() || s.ModifiedOn.IsZero() {
		t.Errorf("timestamps not parsed: %+v", s)
	}
	if !slices.Equal(s.Handlers, []string{"fetch"}) || s.CompatibilityDate != "2025-01-01" || !slices.Equal(s.CompatibilityFlags, []string{"nodejs_compat"}) {
		t.Errorf("script = %+v", s)
	}
	if !slices.Equal(s.Tags, []string{"team:checkout", "svc"}) {
		t.Errorf("tags = %v", s.Tags)
	}
	first, ok, err := e.c.ActiveDeployment(e.ctx, "content")
	if err != nil || !ok {
		t.Fatalf("active deployment: %v %v", ok, err)
	}

	got, err := e.c.GetScriptContent(e.ctx, "content", "")
	if err != nil {
		t.Fatal(err)
	}
	if got.MainModule != "index.js" {
		t.Errorf("main module = %q", got.MainModule)
	}
	wantTypes := map[string]string{"index.js": "application/javascript+module", "lib/add.wasm": "application/wasm", "data/greeting.txt": "text/plain"}
	if len(got.Modules) != len(u.Modules) {
		t.Fatalf("modules = %d, want %d", len(got.Modules), len(u.Modules))
	}
	for _, want := range u.Modules {
		i := slices.IndexFunc(got.Modules, func(m Module) bool { return m.Name == want.Name })
		if i < 0 {
			t.Errorf("module %q missing", want.Name)
			continue
		}
		if !bytes.Equal(got.Modules[i].Content, want.Content) {
			t.Errorf("module %q = %q, want %q", want.Name, got.Modules[i].Content, want.Content)
		}
		if got.Modules[i].ContentType != wantTypes[want.Name] {
			t.Errorf("module %q content type = %q, want %q", want.Name, got.Modules[i].ContentType, wantTypes[want.Name])
		}
	}

	// A new upload serves new code; the first version's code stays readable by id.
	u2 := wkUpload("content")
	u2.Modules = []Module{{Name: "index.js", Content: []byte("export default { fetch() { return new Response('v2') } }")}}
	s2 := e.mustUpload(u2)
	if s2.Etag == s.Etag {
		t.Error("etag did not change with the code")
	}
	cur, err := e.c.GetScriptContent(e.ctx, "content", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(cur.Modules) != 1 || !bytes.Equal(cur.Modules[0].Content, u2.Modules[0].Content) {
		t.Errorf("serving code = %+v", cur.Modules)
	}
	old, err := e.c.GetScriptContent(e.ctx, "content", first.Versions[0].VersionID)
	if err != nil {
		t.Fatal(err)
	}
	if len(old.Modules) != 3 || old.MainModule != "index.js" {
		t.Errorf("first version's code = %+v", old)
	}
	if q := e.lastRequest("GET", "/workers/scripts/content/content/v2").RawQuery; q != "version="+first.Versions[0].VersionID {
		t.Errorf("query = %q", q)
	}

	// GetScript and ListScripts describe the script the same way.
	listed, err := e.c.GetScript(e.ctx, "content")
	if err != nil {
		t.Fatal(err)
	}
	if listed.Etag != s2.Etag || listed.Tag != s.Tag || !listed.CreatedOn.Equal(s.CreatedOn) {
		t.Errorf("listed = %+v, uploaded = %+v", listed, s2)
	}
}

// Every binding kind the provider declares reads back from the settings (secrets without
// their text) and from the version.
func TestWorkersBindingsRoundTrip(t *testing.T) {
	t.Parallel()
	e := newWKEnv(t)
	ns, err := e.c.CreateKVNamespace(e.ctx, "registry")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.CreateR2Bucket(e.ctx, R2BucketSpec{Name: "uploads", Jurisdiction: "eu"}); err != nil {
		t.Fatal(err)
	}
	e.mustUpload(wkUpload("backend"))

	u := wkUpload("bound")
	u.Migration = &Migration{NewTag: "v1", NewSqliteClasses: []string{"Counter"}}
	u.Bindings = []Binding{
		{Type: BindingPlainText, Name: "GREETING", Text: "hello"},
		{Type: BindingSecretText, Name: "API_KEY", Text: "s3cr3t-value"},
		{Type: BindingJSON, Name: "CONFIG", JSON: json.RawMessage(`{"limits":[1,2.5],"on":true,"name":"x"}`)},
		{Type: BindingKVNamespace, Name: "REGISTRY", NamespaceID: ns.ID},
		{Type: BindingR2Bucket, Name: "UPLOADS", BucketName: "uploads", Jurisdiction: "eu"},
		{Type: BindingDurableObject, Name: "COUNTER", ClassName: "Counter"},
		{Type: BindingService, Name: "BACKEND", Service: "backend", Entrypoint: "Api"},
		{Type: BindingRateLimit, Name: "LIMITER", NamespaceID: "1001", Simple: &RateLimit{Limit: 100, Period: 60}},
	}
	e.mustUpload(u)

	want := sortedBindings(u.Bindings)
	want[0].Text = "" // API_KEY: secrets come back without their value
	settings, err := e.c.GetScriptSettings(e.ctx, "bound")
	if err != nil {
		t.Fatal(err)
	}
	wkSameBindings(t, "settings", settings.Bindings, want)

	active, _, err := e.c.ActiveDeployment(e.ctx, "bound")
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.c.GetVersion(e.ctx, "bound", active.Versions[0].VersionID)
	if err != nil {
		t.Fatal(err)
	}
	wkSameBindings(t, "version", v.Bindings, want)

	// The secret's value reached the platform.
	stored, err := e.srv.ScriptBindings("bound")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range stored {
		if b["name"] == "API_KEY" && b["text"] != "s3cr3t-value" {
			t.Errorf("stored secret = %v", b["text"])
		}
	}
}

// wkSameBindings compares binding sets as JSON values, ignoring order and JSON formatting.
func wkSameBindings(t *testing.T, what string, got, want []Binding) {
	t.Helper()
	norm := func(bs []Binding) any {
		raw, err := json.Marshal(sortedBindings(bs))
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if g, w := norm(got), norm(want); !reflect.DeepEqual(g, w) {
		gj, _ := json.Marshal(g)
		wj, _ := json.Marshal(w)
		t.Errorf("%s bindings:\n got %s\nwant %s", what, gj, wj)
	}
}

// Migrations: new_sqlite_classes creates a namespace and sets the tag; a stale old tag is
// refused with 10079; a rename keeps the namespace; a delete removes it; an upload without
// a migration keeps the tag.
func TestWorkersMigrations(t *testing.T) {
	t.Parallel()
	e := newWKEnv(t)
	doBinding := func(class string) []Binding {
		return []Binding{{Type: BindingDurableObject, Name: "STATE", ClassName: class}}
	}
	u := wkUpload("stateful")
	u.Migration = &Migration{NewTag: "v1", NewSqliteClasses: []string{"Counter"}}
	u.Bindings = doBinding("Counter")
	s := e.mustUpload(u)
	if s.MigrationTag != "v1" {
		t.Errorf("migration tag = %q", s.MigrationTag)
	}
	if !slices.ContainsFunc(s.NamedHandlers, func(h NamedHandler) bool { return h.Name == "Counter" }) {
		t.Errorf("named handlers = %+v", s.NamedHandlers)
	}
	nss, err := e.c.ListDONamespaces(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(nss) != 1 {
		t.Fatalf("namespaces = %+v", nss)
	}
	created := nss[0]
	if !wkHex32.MatchString(created.ID) || created.Name != "stateful_Counter" || created.Script != "stateful" || created.Class != "Counter" || !created.UseSQLite {
		t.Errorf("namespace = %+v", created)
	}

	stale := wkUpload("stateful")
	stale.Migration = &Migration{OldTag: "v0", NewTag: "v2", NewSqliteClasses: []string{"Other"}}
	stale.Bindings = doBinding("Counter")
	_, err = e.c.UploadScript(e.ctx, stale)
	wantKind(t, err, ErrValidation, 10079)
	if !strings.Contains(err.Error(), `uploading Worker "stateful"`) {
		t.Errorf("error does not name the script: %v", err)
	}

	rename := wkUpload("stateful")
	rename.Migration = &Migration{OldTag: "v1", NewTag: "v2", RenamedClasses: []RenamedClass{{From: "Counter", To: "Tally"}}}
	rename.Bindings = doBinding("Tally")
	if s := e.mustUpload(rename); s.MigrationTag != "v2" {
		t.Errorf("migration tag = %q", s.MigrationTag)
	}
	nss, err = e.c.ListDONamespaces(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(nss) != 1 || nss[0].ID != created.ID || nss[0].Class != "Tally" || nss[0].Name != "stateful_Tally" {
		t.Errorf("after rename: %+v", nss)
	}

	del := wkUpload("stateful")
	del.Migration = &Migration{OldTag: "v2", NewTag: "v3", DeletedClasses: []string{"Tally"}}
	if s := e.mustUpload(del); s.MigrationTag != "v3" {
		t.Errorf("migration tag = %q", s.MigrationTag)
	}
	if nss, err = e.c.ListDONamespaces(e.ctx); err != nil || len(nss) != 0 {
		t.Errorf("after delete: %+v %v", nss, err)
	}

	if s := e.mustUpload(wkUpload("stateful")); s.MigrationTag != "v3" {
		t.Errorf("an upload without a migration changed the tag to %q", s.MigrationTag)
	}

	// A binding to a class no migration created.
	orphan := wkUpload("stateful")
	orphan.Bindings = doBinding("Ghost")
	_, err = e.c.UploadScript(e.ctx, orphan)
	wantKind(t, err, ErrValidation, 10061)
}

// ListDONamespaces follows pages to the end.
func TestWorkersDONamespacesAllPages(t *testing.T) {
	t.Parallel()
	e := newWKEnv(t)
	u := wkUpload("many")
	var classes []string
	for i := range doNamespacesPerPage + 3 {
		classes = append(classes, fmt.Sprintf("Class%03d", i))
	}
	u.Migration = &Migration{NewTag: "v1", NewSqliteClasses: classes}
	e.mustUpload(u)
	nss, err := e.c.ListDONamespaces(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(nss) != len(classes) {
		t.Errorf("namespaces = %d, want %d", len(nss), len(classes))
	}
}

// Settings: what an upload sets reads back; a PATCH keeps a secret sent without its text,
// deploys a new version, and an empty tag list clears the tags; script-level settings
// change without a new version.
func TestWorkersSettings(t *testing.T) {
	t.Parallel()
	e := newWKEnv(t)
	rate := 0.25
	u := wkUpload("tuned")
	u.CompatibilityFlags = []string{"nodejs_compat"}
	u.CPUMs = 50
	u.UsageModel = "standard"
	u.Tags = []string{"a", "b"}
	u.Observability = &Observability{Enabled: true, HeadSamplingRate: &rate}
	u.Annotations = Annotations{Message: "first deploy", Tag: "v1.0.0"}
	u.Bindings = []Binding{
		{Type: BindingPlainText, Name: "MODE", Text: "prod"},
		{Type: BindingSecretText, Name: "TOKEN", Text: "tok-1"},
	}
	e.mustUpload(u)

	got, err := e.c.GetScriptSettings(e.ctx, "tuned")
	if err != nil {
		t.Fatal(err)
	}
	if got.CompatibilityDate != "2025-01-01" || !slices.Equal(got.CompatibilityFlags, []string{"nodejs_compat"}) || got.CPUMs != 50 || got.UsageModel != "standard" {
		t.Errorf("settings = %+v", got)
	}
	if !slices.Equal(got.Tags, []string{"a", "b"}) || got.Observability == nil || !got.Observability.Enabled ||
		got.Observability.HeadSamplingRate == nil || *got.Observability.HeadSamplingRate != rate {
		t.Errorf("settings = %+v (observability %+v)", got, got.Observability)
	}
	if got.Annotations != (Annotations{Message: "first deploy", Tag: "v1.0.0"}) || got.TriggeredBy != "upload" {
		t.Errorf("annotations = %+v, triggered by %q", got.Annotations, got.TriggeredBy)
	}
	before, err := e.c.ListVersions(e.ctx, "tuned")
	if err != nil {
		t.Fatal(err)
	}

	// Send the bindings as read (TOKEN without text) plus a new one.
	patched, err := e.c.EditScriptSettings(e.ctx, "tuned", ScriptSettingsPatch{
		Bindings:          append(got.Bindings, Binding{Type: BindingPlainText, Name: "EXTRA", Text: "1"}),
		CompatibilityDate: "2025-02-02",
		Tags:              []string{},
		Annotations:       Annotations{Message: "settings only"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if patched.CompatibilityDate != "2025-02-02" || len(patched.Tags) != 0 || patched.CPUMs != 50 || patched.Annotations.Message != "settings only" {
		t.Errorf("patched = %+v", patched)
	}
	if !slices.ContainsFunc(patched.Bindings, func(b Binding) bool { return b.Name == "EXTRA" && b.Text == "1" }) {
		t.Errorf("bindings = %+v", patched.Bindings)
	}
	stored, err := e.srv.ScriptBindings("tuned")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range stored {
		if b["name"] == "TOKEN" && b["text"] != "tok-1" {
			t.Errorf("secret sent without text changed to %v", b["text"])
		}
	}
	after, err := e.c.ListVersions(e.ctx, "tuned")
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before)+1 {
		t.Fatalf("versions %d → %d", len(before), len(after))
	}
	active, _, err := e.c.ActiveDeployment(e.ctx, "tuned")
	if err != nil {
		t.Fatal(err)
	}
	if len(active.Versions) != 1 || active.Versions[0].VersionID != after[0].ID || active.Versions[0].Percentage != 100 {
		t.Errorf("settings change not deployed: %+v", active)
	}

	// Script-level settings: in place, no new version.
	logpush := true
	level, err := e.c.EditScriptLevelSettings(e.ctx, "tuned", ScriptLevelSettingsPatch{Logpush: &logpush, Tags: []string{"x"}, Observability: &Observability{Enabled: false}})
	if err != nil {
		t.Fatal(err)
	}
	if !level.Logpush || !slices.Equal(level.Tags, []string{"x"}) || level.Observability == nil || level.Observability.Enabled {
		t.Errorf("script settings = %+v", level)
	}
	read, err := e.c.GetScriptLevelSettings(e.ctx, "tuned")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(read, level) {
		t.Errorf("read %+v, edited %+v", read, level)
	}
	if vs, err := e.c.ListVersions(e.ctx, "tuned"); err != nil || len(vs) != len(after) {
		t.Errorf("script-level edit created a version: %d → %d (%v)", len(after), len(vs), err)
	}
	// Only the given field changes.
	level, err = e.c.EditScriptLevelSettings(e.ctx, "tuned", ScriptLevelSettingsPatch{Tags: []string{"y"}})
	if err != nil {
		t.Fatal(err)
	}
	if !level.Logpush || !slices.Equal(level.Tags, []string{"y"}) {
		t.Errorf("script settings = %+v", level)
	}
}

// Deleting a script that implements Durable Objects needs force, and then takes its
// namespaces, routes and custom domains with it.
func TestWorkersDeleteScript(t *testing.T) {
	t.Parallel()
	e := newWKEnv(t)
	u := wkUpload("doomed")
	u.Migration = &Migration{NewTag: "v1", NewSqliteClasses: []string{"Room"}}
	e.mustUpload(u)
	if _, err := e.c.CreateRoute(e.ctx, wkZone, "example.com/doomed/*", "doomed"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.AttachDomain(e.ctx, "doomed.example.com", "doomed", ""); err != nil {
		t.Fatal(err)
	}

	wantKind(t, e.c.DeleteScript(e.ctx, "doomed", false), ErrValidation, 0)
	if err := e.c.DeleteScript(e.ctx, "doomed", true); err != nil {
		t.Fatal(err)
	}
	if q := e.lastRequest("DELETE", "/workers/scripts/doomed").RawQuery; q != "force=true" {
		t.Errorf("query = %q", q)
	}
	if nss, err := e.c.ListDONamespaces(e.ctx); err != nil || len(nss) != 0 {
		t.Errorf("namespaces left: %+v %v", nss, err)
	}
	if rs, err := e.c.ListRoutes(e.ctx, wkZone); err != nil || len(rs) != 0 {
		t.Errorf("routes left: %+v %v", rs, err)
	}
	if ds, err := e.c.ListDomains(e.ctx, DomainFilter{Service: "doomed"}); err != nil || len(ds) != 0 {
		t.Errorf("domains left: %+v %v", ds, err)
	}
	_, err := e.c.GetScript(e.ctx, "doomed")
	wantKind(t, err, ErrNotFound, 10007)
	_, err = e.c.GetScriptContent(e.ctx, "doomed", "")
	wantKind(t, err, ErrNotFound, 10007)
	wantKind(t, e.c.DeleteScript(e.ctx, "doomed", true), ErrNotFound, 10007)
}

// Error kinds of the script operations.
func TestWorkersScriptErrors(t *testing.T) {
	t.Parallel()
	e := newWKEnv(t)

	_, err := e.c.GetScriptSettings(e.ctx, "missing")
	if !IsNotFound(err) {
		t.Errorf("settings of a missing script: %v", err)
	}
	_, err = e.c.GetScriptLevelSettings(e.ctx, "missing")
	wantKind(t, err, ErrNotFound, 10007)
	_, err = e.c.GetScriptContent(e.ctx, "missing", "")
	wantKind(t, err, ErrNotFound, 10007)
	_, err = e.c.EditScriptSettings(e.ctx, "missing", ScriptSettingsPatch{CompatibilityDate: "2025-01-01"})
	wantKind(t, err, ErrNotFound, 10007)

	bad := wkUpload("broken")
	bad.MainModule = "nope.js"
	_, err = e.c.UploadScript(e.ctx, bad)
	wantKind(t, err, ErrValidation, 10021)

	unbound := wkUpload("broken")
	unbound.Bindings = []Binding{{Type: BindingKVNamespace, Name: "KV", NamespaceID: "00000000000000000000000000000000"}}
	_, err = e.c.UploadScript(e.ctx, unbound)
	wantKind(t, err, ErrValidation, 10056)

	_, err = e.c.UploadScript(e.ctx, wkUpload("bad name!"))
	wantKind(t, err, ErrValidation, 10016)

	e.mustUpload(wkUpload("present"))
	_, err = e.c.GetScriptContent(e.ctx, "present", "00000000-0000-4000-8000-000000000000")
	wantKind(t, err, ErrNotFound, 0)

	wrong, err := New(Config{AccountID: wkAccount, APIToken: "wrong", BaseURL: e.c.baseURL, MaxRetries: 0})
	if err != nil {
		t.Fatal(err)
	}
	_, err = wrong.ListScripts(e.ctx)
	wantKind(t, err, ErrAuth, 10000)
}

// ModuleContentType follows wrangler's default module rules.
func TestWorkersModuleContentType(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"index.js": "application/javascript+module", "a/b.MJS": "application/javascript+module",
		"legacy.cjs": "application/javascript", "add.wasm": "application/wasm", "main.py": "text/x-python",
		"page.html": "text/plain", "notes.txt": "text/plain", "blob.bin": "application/octet-stream", "README": "application/octet-stream",
	} {
		if got := ModuleContentType(name); got != want {
			t.Errorf("ModuleContentType(%q) = %q, want %q", name, got, want)
		}
	}
}

// plain_text always carries text (the API requires it); an unset secret text is left out so
// a settings PATCH keeps the value.
func TestWorkersBindingJSON(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		b    Binding
		want string
	}{
		{Binding{Type: BindingPlainText, Name: "EMPTY"}, `{"type":"plain_text","name":"EMPTY","text":""}`},
		{Binding{Type: BindingSecretText, Name: "S"}, `{"type":"secret_text","name":"S"}`},
		{Binding{Type: BindingSecretText, Name: "S", Text: "v"}, `{"type":"secret_text","name":"S","text":"v"}`},
		{Binding{Type: BindingR2Bucket, Name: "B", BucketName: "b", Jurisdiction: "eu"}, `{"type":"r2_bucket","name":"B","bucket_name":"b","jurisdiction":"eu"}`},
		{Binding{Type: BindingRateLimit, Name: "L", NamespaceID: "7", Simple: &RateLimit{Limit: 10, Period: 10}}, `{"type":"ratelimit","name":"L","namespace_id":"7","simple":{"limit":10,"period":10}}`},
	} {
		got, err := json.Marshal(c.b)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
}
