package workers_test

import (
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	cfkv "github.com/cloudflare/cloudflare-go/v7/kv"
	cfr2 "github.com/cloudflare/cloudflare-go/v7/r2"

	cloudflare "github.com/cloudflare/cloudflare-go/v7"
	"github.com/cloudflare/cloudflare-go/v7/option"
	cfworkers "github.com/cloudflare/cloudflare-go/v7/workers"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

// wReadParts decodes a multipart download into ordered (name, content type, body) triples.
func wReadParts(t *testing.T, contentType string, body io.Reader) [][3]string {
	t.Helper()
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("want multipart/form-data, got %q", contentType)
	}
	mr := multipart.NewReader(body, params["boundary"])
	var out [][3]string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		_, dp, _ := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
		out = append(out, [3]string{dp["filename"], p.Header.Get("Content-Type"), string(b)})
	}
}

func TestWorkersScriptUploadAndRead(t *testing.T) {
	e := newEnv(t)
	ns, err := e.kv.Namespaces.New(e.ctx, cfkv.NamespaceNewParams{AccountID: cloudflare.F(edgetest.AccountID), Title: cloudflare.F("t")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.r2.Buckets.New(e.ctx, cfr2.BucketNewParams{AccountID: cloudflare.F(edgetest.AccountID), Name: cloudflare.F("assets")}); err != nil {
		t.Fatal(err)
	}
	md := wWithBindings(cfworkers.ScriptUpdateParamsMetadata{
		CompatibilityDate:  cloudflare.F("2025-01-01"),
		CompatibilityFlags: cloudflare.F([]string{"nodejs_compat"}),
		Tags:               cloudflare.F([]string{"team:a"}),
		Logpush:            cloudflare.F(true),
		Limits:             cloudflare.F(cfworkers.ScriptUpdateParamsMetadataLimits{CPUMs: cloudflare.F(int64(50))}),
		Observability:      cloudflare.F(cfworkers.ScriptUpdateParamsMetadataObservability{Enabled: cloudflare.F(true), HeadSamplingRate: cloudflare.F(0.5)}),
	},
		wBind("plain_text", "GREETING", func(b *cfworkers.ScriptUpdateParamsMetadataBinding) { b.Text = cloudflare.F("hello") }),
		wBind("secret_text", "API_KEY", func(b *cfworkers.ScriptUpdateParamsMetadataBinding) { b.Text = cloudflare.F("s3cret") }),
		wBind("json", "CONFIG", func(b *cfworkers.ScriptUpdateParamsMetadataBinding) {
			b.Json = cloudflare.F[any](map[string]any{"a": 1})
		}),
		wBind("kv_namespace", "KV", func(b *cfworkers.ScriptUpdateParamsMetadataBinding) { b.NamespaceID = cloudflare.F(ns.ID) }),
		wBind("r2_bucket", "BUCKET", func(b *cfworkers.ScriptUpdateParamsMetadataBinding) { b.BucketName = cloudflare.F("assets") }),
		wBind("service", "SELF", func(b *cfworkers.ScriptUpdateParamsMetadataBinding) { b.Service = cloudflare.F("api") }),
	)
	res := e.mustUpload("api", md, wModule("index.js", wCode), wModule("lib/util.js", "export const x = 1"))
	if res.ID != "api" || !hexID.MatchString(res.Tag) || res.Etag == "" || !res.HasModules || res.CompatibilityDate != "2025-01-01" ||
		len(res.CompatibilityFlags) != 1 || !res.Logpush || res.UsageModel != "standard" || res.CreatedOn.IsZero() {
		t.Fatalf("unexpected script object: %+v", res)
	}
	if len(res.Handlers) != 1 || res.Handlers[0] != "fetch" {
		t.Fatalf("handlers = %v", res.Handlers)
	}
	if !e.Server.ScriptExists("api") || e.Server.ScriptExists("nope") {
		t.Fatal("ScriptExists is wrong")
	}
	mods, err := e.Server.ScriptModules("api")
	if err != nil || string(mods["lib/util.js"]) != "export const x = 1" || string(mods["index.js"]) != wCode {
		t.Fatalf("ScriptModules = %v, %v", mods, err)
	}
	bs, err := e.Server.ScriptBindings("api")
	if err != nil || len(bs) != 6 || bs[0]["name"] != "API_KEY" || bs[0]["text"] != "s3cret" {
		t.Fatalf("ScriptBindings = %v, %v", bs, err)
	}

	// Scripts.Get needs a non-JSON body: the multipart download, main module first.
	code, err := e.workers.Scripts.Get(e.ctx, "api", cfworkers.ScriptGetParams{AccountID: cloudflare.F(edgetest.AccountID)})
	if err != nil || !strings.Contains(*code, wCode) {
		t.Fatalf("Scripts.Get = %v, %v", code, err)
	}
	resp, err := e.workers.Scripts.Content.Get(e.ctx, "api", cfworkers.ScriptContentGetParams{AccountID: cloudflare.F(edgetest.AccountID)})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("cf-entrypoint") != "index.js" {
		t.Fatalf("cf-entrypoint = %q", resp.Header.Get("cf-entrypoint"))
	}
	parts := wReadParts(t, resp.Header.Get("Content-Type"), resp.Body)
	if len(parts) != 2 || parts[0][0] != "index.js" || parts[0][1] != "application/javascript+module" || parts[0][2] != wCode || parts[1][0] != "lib/util.js" {
		t.Fatalf("content parts = %v", parts)
	}

	settings, err := e.workers.Scripts.ScriptAndVersionSettings.Get(e.ctx, "api", cfworkers.ScriptScriptAndVersionSettingGetParams{AccountID: cloudflare.F(edgetest.AccountID)})
	if err != nil {
		t.Fatal(err)
	}
	if settings.CompatibilityDate != "2025-01-01" || !settings.Logpush || settings.Limits.CPUMs != 50 || !settings.Observability.Enabled || settings.Observability.HeadSamplingRate != 0.5 {
		t.Fatalf("settings = %s", settings.JSON.RawJSON())
	}
	for _, b := range settings.Bindings {
		switch b.Name {
		case "API_KEY":
			if b.Text != "" || strings.Contains(b.JSON.RawJSON(), "s3cret") {
				t.Fatalf("secret leaked: %s", b.JSON.RawJSON())
			}
		case "GREETING":
			if b.Text != "hello" {
				t.Fatalf("plain_text = %s", b.JSON.RawJSON())
			}
		case "CONFIG":
			if m, ok := b.Json.(map[string]any); !ok || m["a"] != float64(1) {
				t.Fatalf("json binding = %s", b.JSON.RawJSON())
			}
		}
	}

	// Routes show up in the list.
	if _, err := e.workers.Routes.New(e.ctx, cfworkers.RouteNewParams{ZoneID: cloudflare.F(edgetest.ZoneID), Pattern: cloudflare.F("example.com/api/*"), Script: cloudflare.F("api")}); err != nil {
		t.Fatal(err)
	}
	e.mustUpload("other", cfworkers.ScriptUpdateParamsMetadata{Tags: cloudflare.F([]string{"team:b"})})
	list, err := e.workers.Scripts.List(e.ctx, cfworkers.ScriptListParams{AccountID: cloudflare.F(edgetest.AccountID)})
	if err != nil || len(list.Result) != 2 || list.Result[0].ID != "api" || len(list.Result[0].Routes) != 1 || list.Result[0].Routes[0].Pattern != "example.com/api/*" {
		t.Fatalf("list = %+v, %v", list, err)
	}
	list, err = e.workers.Scripts.List(e.ctx, cfworkers.ScriptListParams{AccountID: cloudflare.F(edgetest.AccountID), Tags: cloudflare.F("team:b:yes")})
	if err != nil || len(list.Result) != 1 || list.Result[0].ID != "other" {
		t.Fatalf("tag filter yes = %+v, %v", list, err)
	}
	list, err = e.workers.Scripts.List(e.ctx, cfworkers.ScriptListParams{AccountID: cloudflare.F(edgetest.AccountID)}, option.WithQuery("tags", "team:b:no"))
	if err != nil || len(list.Result) != 1 || list.Result[0].ID != "api" {
		t.Fatalf("tag filter no = %+v, %v", list, err)
	}

	// A re-upload replaces the bindings; keep_bindings keeps the secret.
	res2 := e.mustUpload("api", cfworkers.ScriptUpdateParamsMetadata{KeepBindings: cloudflare.F([]string{"secret_text"})})
	if res2.Tag != res.Tag || res2.Etag == res.Etag {
		t.Fatalf("tag must be stable and etag change: %s/%s %s/%s", res.Tag, res2.Tag, res.Etag, res2.Etag)
	}
	bs, _ = e.Server.ScriptBindings("api")
	if len(bs) != 1 || bs[0]["name"] != "API_KEY" || bs[0]["text"] != "s3cret" {
		t.Fatalf("keep_bindings: %v", bs)
	}
}

func TestWorkersScriptUploadErrors(t *testing.T) {
	e := newEnv(t)
	_, err := e.upload("1bad", cfworkers.ScriptUpdateParamsMetadata{})
	edgetest.WantAPIError(t, err, 400, 10016)
	_, err = e.upload("bad-", cfworkers.ScriptUpdateParamsMetadata{})
	edgetest.WantAPIError(t, err, 400, 10016)

	_, err = e.upload("w", cfworkers.ScriptUpdateParamsMetadata{MainModule: cloudflare.F("worker.js")})
	cfErr := edgetest.WantAPIError(t, err, 400, 10021)
	if !strings.Contains(cfErr.Errors[0].Message, "No such module") {
		t.Fatalf("message = %q", cfErr.Errors[0].Message)
	}
	// A reader without ContentType() goes out as octet-stream: a data module, not a main module.
	_, err = e.upload("w", cfworkers.ScriptUpdateParamsMetadata{}, cloudflare.FileParam(strings.NewReader(wCode), "index.js", "").Value)
	edgetest.WantAPIError(t, err, 400, 10021)

	missing := []struct {
		name string
		b    cfworkers.ScriptUpdateParamsMetadataBindingUnion
		code int64
	}{
		{"kv", wBind("kv_namespace", "KV", func(b *cfworkers.ScriptUpdateParamsMetadataBinding) { b.NamespaceID = cloudflare.F("nope") }), 10056},
		{"r2", wBind("r2_bucket", "R2", func(b *cfworkers.ScriptUpdateParamsMetadataBinding) { b.BucketName = cloudflare.F("nope") }), 10056},
		{"r2 eu", wBind("r2_bucket", "R2", func(b *cfworkers.ScriptUpdateParamsMetadataBinding) {
			b.BucketName = cloudflare.F("nope")
			b.Jurisdiction = cloudflare.F(cfworkers.ScriptUpdateParamsMetadataBindingsJurisdictionEu)
		}), 10056},
		{"service", wBind("service", "SVC", func(b *cfworkers.ScriptUpdateParamsMetadataBinding) { b.Service = cloudflare.F("ghost") }), 10056},
		{"do class", wBind("durable_object_namespace", "DO", func(b *cfworkers.ScriptUpdateParamsMetadataBinding) { b.ClassName = cloudflare.F("Counter") }), 10061},
		{"unnamed", wBind("plain_text", "", func(b *cfworkers.ScriptUpdateParamsMetadataBinding) { b.Text = cloudflare.F("x") }), 10052},
		{"no text", wBind("plain_text", "P", nil), 10021},
		{"unknown type", wBind("teleporter", "T", nil), 10021},
	}
	for _, tc := range missing {
		_, err := e.upload("w", wWithBindings(cfworkers.ScriptUpdateParamsMetadata{}, tc.b))
		t.Run(tc.name, func(t *testing.T) { edgetest.WantAPIError(t, err, 400, tc.code) })
	}
	if e.Server.ScriptExists("w") {
		t.Fatal("failed uploads must not create the script")
	}

	// Missing metadata part (raw request, as curl would send it).
	status, body := e.rawMultipart("PUT", wScriptPath("w"), wRawPart{name: "index.js", filename: "index.js", contentType: "application/javascript+module", body: wCode})
	if status != 400 || !strings.Contains(string(body), `"code":10021`) || !strings.Contains(string(body), "could not read content for part metadata") {
		t.Fatalf("missing metadata: %d %s", status, body)
	}
	status, _, body = e.rawRequest("PUT", wScriptPath("w"), "application/json", []byte(`{}`))
	if status != 400 || !strings.Contains(string(body), `"code":10026`) {
		t.Fatalf("non-multipart: %d %s", status, body)
	}

	// Missing scripts are 404 10007 everywhere.
	acct := cloudflare.F(edgetest.AccountID)
	_, err = e.workers.Scripts.Get(e.ctx, "ghost", cfworkers.ScriptGetParams{AccountID: acct})
	edgetest.WantAPIError(t, err, 404, 10007)
	_, err = e.workers.Scripts.Delete(e.ctx, "ghost", cfworkers.ScriptDeleteParams{AccountID: acct})
	edgetest.WantAPIError(t, err, 404, 10007)
	_, err = e.workers.Scripts.Content.Get(e.ctx, "ghost", cfworkers.ScriptContentGetParams{AccountID: acct})
	edgetest.WantAPIError(t, err, 404, 10007)
	_, err = e.workers.Scripts.ScriptAndVersionSettings.Get(e.ctx, "ghost", cfworkers.ScriptScriptAndVersionSettingGetParams{AccountID: acct})
	edgetest.WantAPIError(t, err, 404, 10007)
	_, err = e.workers.Scripts.Settings.Get(e.ctx, "ghost", cfworkers.ScriptSettingGetParams{AccountID: acct})
	cfErr = edgetest.WantAPIError(t, err, 404, 10007)
	if cfErr.Errors[0].Message != "This Worker does not exist on your account." {
		t.Fatalf("message = %q", cfErr.Errors[0].Message)
	}
	_, err = e.workers.Scripts.Schedules.Get(e.ctx, "ghost", cfworkers.ScriptScheduleGetParams{AccountID: acct})
	edgetest.WantAPIError(t, err, 404, 10007)
	_, err = e.workers.Scripts.Subdomain.Get(e.ctx, "ghost", cfworkers.ScriptSubdomainGetParams{AccountID: acct})
	edgetest.WantAPIError(t, err, 404, 10007)
}

// TestWorkersRawMultipartJSONMetadata covers the wire format of wrangler, curl and the v6 SDK:
// a JSON metadata part and module parts named after the module.
func TestWorkersRawMultipartJSONMetadata(t *testing.T) {
	e := newEnv(t)
	status, body := e.rawMultipart("PUT", wScriptPath("raw"),
		wRawPart{name: "index.js", filename: "index.js", contentType: "application/javascript+module", body: wCode},
		wRawPart{name: "lib/data.txt", filename: "lib/data.txt", contentType: "text/plain", body: "data"},
		wRawPart{name: "metadata", contentType: "application/json", body: `{"main_module":"index.js","compatibility_date":"2024-09-23","bindings":[{"type":"plain_text","name":"A","text":"1"},{"type":"json","name":"J","json":{"x":[1,2]}}],"usage_model":"standard","logpush":false}`},
	)
	if status != 200 {
		t.Fatalf("upload: %d %s", status, body)
	}
	var env struct {
		Success bool           `json:"success"`
		Result  map[string]any `json:"result"`
	}
	if err := json.Unmarshal(body, &env); err != nil || !env.Success || env.Result["id"] != "raw" || env.Result["compatibility_date"] != "2024-09-23" {
		t.Fatalf("envelope: %s", body)
	}
	bs, _ := e.Server.ScriptBindings("raw")
	if len(bs) != 2 || bs[0]["text"] != "1" {
		t.Fatalf("bindings = %v", bs)
	}
	mods, _ := e.Server.ScriptModules("raw")
	if string(mods["lib/data.txt"]) != "data" {
		t.Fatalf("modules = %v", mods)
	}
	// Service-worker syntax: body_part, downloaded as raw JavaScript.
	sw := "addEventListener('fetch', e => e.respondWith(new Response('sw')))"
	status, body = e.rawMultipart("PUT", wScriptPath("sw"),
		wRawPart{name: "worker.js", filename: "worker.js", contentType: "application/javascript", body: sw},
		wRawPart{name: "metadata", body: `{"body_part":"worker.js"}`},
	)
	if status != 200 || !strings.Contains(string(body), `"has_modules":false`) || !strings.Contains(string(body), `"handlers":["fetch"]`) {
		t.Fatalf("service worker upload: %d %s", status, body)
	}
	status, hdr, got := e.rawRequest("GET", wScriptPath("sw"), "", nil)
	if status != 200 || string(got) != sw || !strings.HasPrefix(hdr.Get("Content-Type"), "application/javascript") {
		t.Fatalf("service worker download: %d %q %q", status, hdr.Get("Content-Type"), got)
	}
	// Bad JSON metadata.
	status, body = e.rawMultipart("PUT", wScriptPath("raw"),
		wRawPart{name: "index.js", filename: "index.js", contentType: "application/javascript+module", body: wCode},
		wRawPart{name: "metadata", body: `{"main_module":`},
	)
	if status != 400 || !strings.Contains(string(body), `"code":10021`) {
		t.Fatalf("bad metadata: %d %s", status, body)
	}
}

func TestWorkersContentAndSettings(t *testing.T) {
	e := newEnv(t)
	acct := cloudflare.F(edgetest.AccountID)
	e.mustUpload("w", wWithBindings(cfworkers.ScriptUpdateParamsMetadata{CompatibilityDate: cloudflare.F("2024-01-01")},
		wBind("secret_text", "TOKEN", func(b *cfworkers.ScriptUpdateParamsMetadataBinding) { b.Text = cloudflare.F("t0k") }),
		wBind("plain_text", "MODE", func(b *cfworkers.ScriptUpdateParamsMetadataBinding) { b.Text = cloudflare.F("a") }),
	))
	first, err := e.workers.Scripts.Versions.List(e.ctx, "w", cfworkers.ScriptVersionListParams{AccountID: acct})
	if err != nil || len(first.Result.Items) != 1 {
		t.Fatalf("versions = %+v, %v", first, err)
	}
	firstID := first.Result.Items[0].ID

	// PUT content: new code, same bindings, new version deployed at 100 %.
	newCode := "export default { fetch() { return new Response('v2') } }"
	script, err := e.workers.Scripts.Content.Update(e.ctx, "w", cfworkers.ScriptContentUpdateParams{
		AccountID: acct, Metadata: cloudflare.F(cfworkers.ScriptContentUpdateParamsMetadata{MainModule: cloudflare.F("main.js")}),
		Files: cloudflare.F([]io.Reader{wModule("main.js", newCode)}),
	})
	if err != nil || script.ID != "w" || script.CompatibilityDate != "2024-01-01" {
		t.Fatalf("content update = %+v, %v", script, err)
	}
	mods, _ := e.Server.ScriptModules("w")
	if len(mods) != 1 || string(mods["main.js"]) != newCode {
		t.Fatalf("modules = %v", mods)
	}
	bs, _ := e.Server.ScriptBindings("w")
	if len(bs) != 2 {
		t.Fatalf("content update lost bindings: %v", bs)
	}
	// The old version's code is still readable by id.
	resp, err := e.workers.Scripts.Content.Get(e.ctx, "w", cfworkers.ScriptContentGetParams{AccountID: acct}, option.WithQuery("version", firstID))
	if err != nil {
		t.Fatal(err)
	}
	parts := wReadParts(t, resp.Header.Get("Content-Type"), resp.Body)
	resp.Body.Close()
	if len(parts) != 1 || parts[0][2] != wCode || resp.Header.Get("cf-entrypoint") != "index.js" {
		t.Fatalf("old version content = %v", parts)
	}
	_, err = e.workers.Scripts.Content.Get(e.ctx, "w", cfworkers.ScriptContentGetParams{AccountID: acct}, option.WithQuery("version", "00000000-0000-4000-8000-000000000000"))
	edgetest.WantAPIError(t, err, 404, 10007)
	_, err = e.workers.Scripts.Content.Update(e.ctx, "w", cfworkers.ScriptContentUpdateParams{
		AccountID: acct, Metadata: cloudflare.F(cfworkers.ScriptContentUpdateParamsMetadata{MainModule: cloudflare.F("nope.js")}),
		Files: cloudflare.F([]io.Reader{wModule("main.js", newCode)}),
	})
	edgetest.WantAPIError(t, err, 400, 10021)

	// PATCH settings (multipart "settings", flattened by the v7 SDK): bindings omitted are kept.
	edited, err := e.workers.Scripts.ScriptAndVersionSettings.Edit(e.ctx, "w", cfworkers.ScriptScriptAndVersionSettingEditParams{
		AccountID: acct, Settings: cloudflare.F(cfworkers.ScriptScriptAndVersionSettingEditParamsSettings{
			CompatibilityDate: cloudflare.F("2025-02-02"), Logpush: cloudflare.F(true), Tags: cloudflare.F([]string{"x", "y"}),
			Limits: cloudflare.F(cfworkers.ScriptScriptAndVersionSettingEditParamsSettingsLimits{CPUMs: cloudflare.F(int64(100))}),
		}),
	})
	if err != nil || edited.CompatibilityDate != "2025-02-02" || !edited.Logpush || len(edited.Tags) != 2 || edited.Limits.CPUMs != 100 || len(edited.Bindings) != 2 {
		t.Fatalf("settings edit = %+v, %v", edited, err)
	}
	if got := edited.Annotations.WorkersTriggeredBy; got != "settings" {
		t.Fatalf("triggered_by = %q", got)
	}
	// Replacing bindings: a secret listed without text keeps its value.
	_, err = e.workers.Scripts.ScriptAndVersionSettings.Edit(e.ctx, "w", cfworkers.ScriptScriptAndVersionSettingEditParams{
		AccountID: acct, Settings: cloudflare.F(cfworkers.ScriptScriptAndVersionSettingEditParamsSettings{
			Bindings: cloudflare.F([]cfworkers.ScriptScriptAndVersionSettingEditParamsSettingsBindingUnion{
				cfworkers.ScriptScriptAndVersionSettingEditParamsSettingsBinding{Name: cloudflare.F("TOKEN"), Type: cloudflare.F(cfworkers.ScriptScriptAndVersionSettingEditParamsSettingsBindingsType("secret_text"))},
			}),
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	bs, _ = e.Server.ScriptBindings("w")
	if len(bs) != 1 || bs[0]["text"] != "t0k" {
		t.Fatalf("bindings after settings = %v", bs)
	}
	deps, err := e.workers.Scripts.Deployments.List(e.ctx, "w", cfworkers.ScriptDeploymentListParams{AccountID: acct})
	if err != nil || len(deps.Deployments) != 4 {
		t.Fatalf("every change deploys: %+v, %v", deps, err)
	}

	// script-settings: plain JSON, no new version.
	ss, err := e.workers.Scripts.Settings.Edit(e.ctx, "w", cfworkers.ScriptSettingEditParams{AccountID: acct, ScriptSetting: cfworkers.ScriptSettingParam{
		Logpush: cloudflare.F(false), Tags: cloudflare.F([]string{"z"}),
		Observability: cloudflare.F(cfworkers.ScriptSettingObservabilityParam{Enabled: cloudflare.F(true)}),
	}})
	if err != nil || ss.Logpush || len(ss.Tags) != 1 || !ss.Observability.Enabled {
		t.Fatalf("script-settings edit = %+v, %v", ss, err)
	}
	got, err := e.workers.Scripts.Settings.Get(e.ctx, "w", cfworkers.ScriptSettingGetParams{AccountID: acct})
	if err != nil || got.Tags[0] != "z" || got.TailConsumers != nil {
		t.Fatalf("script-settings get = %+v, %v", got, err)
	}
	versions, _ := e.workers.Scripts.Versions.List(e.ctx, "w", cfworkers.ScriptVersionListParams{AccountID: acct})
	if len(versions.Result.Items) != 4 {
		t.Fatalf("script-settings must not create versions: %d", len(versions.Result.Items))
	}
}

func TestWorkersSchedulesAndSubdomains(t *testing.T) {
	e := newEnv(t)
	acct := cloudflare.F(edgetest.AccountID)
	e.mustUpload("cron", cfworkers.ScriptUpdateParamsMetadata{})
	up, err := e.workers.Scripts.Schedules.Update(e.ctx, "cron", cfworkers.ScriptScheduleUpdateParams{AccountID: acct, Body: []cfworkers.ScriptScheduleUpdateParamsBody{
		{Cron: cloudflare.F("*/5 * * * *")}, {Cron: cloudflare.F("0 12 * * MON-FRI")}, {Cron: cloudflare.F("0 0 L * *")},
	}})
	if err != nil || len(up.Schedules) != 3 || up.Schedules[0].Cron != "*/5 * * * *" || up.Schedules[0].CreatedOn == "" {
		t.Fatalf("schedules update = %+v, %v", up, err)
	}
	got, err := e.workers.Scripts.Schedules.Get(e.ctx, "cron", cfworkers.ScriptScheduleGetParams{AccountID: acct})
	if err != nil || len(got.Schedules) != 3 {
		t.Fatalf("schedules get = %+v, %v", got, err)
	}
	for _, bad := range []string{"* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8", "*/0 * * * *", "5-1 * * * *", "a * * * *"} {
		_, err := e.workers.Scripts.Schedules.Update(e.ctx, "cron", cfworkers.ScriptScheduleUpdateParams{AccountID: acct, Body: []cfworkers.ScriptScheduleUpdateParamsBody{{Cron: cloudflare.F(bad)}}})
		cfErr := edgetest.WantAPIError(t, err, 400, 10021)
		if !strings.Contains(cfErr.Errors[0].Message, "Invalid cron expression") {
			t.Fatalf("%q: %s", bad, cfErr.Errors[0].Message)
		}
	}
	cleared, err := e.workers.Scripts.Schedules.Update(e.ctx, "cron", cfworkers.ScriptScheduleUpdateParams{AccountID: acct, Body: []cfworkers.ScriptScheduleUpdateParamsBody{}})
	if err != nil || len(cleared.Schedules) != 0 {
		t.Fatalf("clear = %+v, %v", cleared, err)
	}

	// Account workers.dev subdomain: a fresh edge has the default one, as a new account does.
	fresh, err := e.workers.Subdomains.Get(e.ctx, cfworkers.SubdomainGetParams{AccountID: acct})
	if err != nil || fresh.Subdomain != localedge.DefaultWorkersSubdomain {
		t.Fatalf("fresh subdomain = %+v, %v", fresh, err)
	}
	if err := e.workers.Subdomains.Delete(e.ctx, cfworkers.SubdomainDeleteParams{AccountID: acct}); err != nil {
		t.Fatal(err)
	}
	_, err = e.workers.Subdomains.Get(e.ctx, cfworkers.SubdomainGetParams{AccountID: acct})
	edgetest.WantAPIError(t, err, 404, 10007)
	_, err = e.workers.Subdomains.Update(e.ctx, cfworkers.SubdomainUpdateParams{AccountID: acct, Subdomain: cloudflare.F("Bad_Name")})
	edgetest.WantAPIError(t, err, 400, 10021)
	sub, err := e.workers.Subdomains.Update(e.ctx, cfworkers.SubdomainUpdateParams{AccountID: acct, Subdomain: cloudflare.F("my-acct")})
	if err != nil || sub.Subdomain != "my-acct" {
		t.Fatalf("subdomain put = %+v, %v", sub, err)
	}
	gotSub, err := e.workers.Subdomains.Get(e.ctx, cfworkers.SubdomainGetParams{AccountID: acct})
	if err != nil || gotSub.Subdomain != "my-acct" {
		t.Fatalf("subdomain get = %+v, %v", gotSub, err)
	}
	if err := e.workers.Subdomains.Delete(e.ctx, cfworkers.SubdomainDeleteParams{AccountID: acct}); err != nil {
		t.Fatal(err)
	}
	status, _, body := e.rawRequest("DELETE", "/accounts/"+edgetest.AccountID+"/workers/subdomain", "", nil)
	if status != 404 {
		t.Fatalf("second delete: %d %s", status, body)
	}
	if _, err := e.workers.Subdomains.Update(e.ctx, cfworkers.SubdomainUpdateParams{AccountID: acct, Subdomain: cloudflare.F("again")}); err != nil {
		t.Fatal(err)
	}
	status, _, body = e.rawRequest("DELETE", "/accounts/"+edgetest.AccountID+"/workers/subdomain", "", nil)
	if status != http.StatusNoContent || len(body) != 0 {
		t.Fatalf("delete: %d %q", status, body)
	}

	// Script workers.dev subdomain: disabled by default.
	ss, err := e.workers.Scripts.Subdomain.Get(e.ctx, "cron", cfworkers.ScriptSubdomainGetParams{AccountID: acct})
	if err != nil || ss.Enabled || ss.PreviewsEnabled {
		t.Fatalf("script subdomain default = %+v, %v", ss, err)
	}
	created, err := e.workers.Scripts.Subdomain.New(e.ctx, "cron", cfworkers.ScriptSubdomainNewParams{AccountID: acct, Enabled: cloudflare.F(true), PreviewsEnabled: cloudflare.F(false)})
	if err != nil || !created.Enabled || created.PreviewsEnabled {
		t.Fatalf("script subdomain post = %+v, %v", created, err)
	}
	ss, _ = e.workers.Scripts.Subdomain.Get(e.ctx, "cron", cfworkers.ScriptSubdomainGetParams{AccountID: acct})
	if !ss.Enabled {
		t.Fatal("script subdomain not persisted")
	}
	del, err := e.workers.Scripts.Subdomain.Delete(e.ctx, "cron", cfworkers.ScriptSubdomainDeleteParams{AccountID: acct})
	if err != nil || del.Enabled {
		t.Fatalf("script subdomain delete = %+v, %v", del, err)
	}
	_, err = e.workers.Scripts.Subdomain.New(e.ctx, "ghost", cfworkers.ScriptSubdomainNewParams{AccountID: acct, Enabled: cloudflare.F(true)})
	edgetest.WantAPIError(t, err, 404, 10007)
}

func TestWorkersDeleteScript(t *testing.T) {
	e := newEnv(t)
	acct := cloudflare.F(edgetest.AccountID)
	e.mustUpload("do", cfworkers.ScriptUpdateParamsMetadata{Migrations: cloudflare.F[cfworkers.ScriptUpdateParamsMetadataMigrationsUnion](cfworkers.SingleStepMigrationParam{
		NewTag: cloudflare.F("v1"), NewSqliteClasses: cloudflare.F([]string{"Counter"}),
	})})
	e.mustUpload("client", wWithBindings(cfworkers.ScriptUpdateParamsMetadata{},
		wBind("service", "DO_SVC", func(b *cfworkers.ScriptUpdateParamsMetadataBinding) { b.Service = cloudflare.F("do") }),
	))
	if _, err := e.workers.Routes.New(e.ctx, cfworkers.RouteNewParams{ZoneID: cloudflare.F(edgetest.ZoneID), Pattern: cloudflare.F("example.com/*"), Script: cloudflare.F("do")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.workers.Domains.Update(e.ctx, cfworkers.DomainUpdateParams{AccountID: acct, Hostname: cloudflare.F("app.example.com"), Service: cloudflare.F("do")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.workers.Scripts.Secrets.Update(e.ctx, "do", cfworkers.ScriptSecretUpdateParams{AccountID: acct, Body: cfworkers.ScriptSecretUpdateParamsBodyWorkersBindingKindSecretText{
		Name: cloudflare.F("S"), Text: cloudflare.F("v"), Type: cloudflare.F(cfworkers.ScriptSecretUpdateParamsBodyWorkersBindingKindSecretTextTypeSecretText),
	}}); err != nil {
		t.Fatal(err)
	}

	// Without force: refused while it has Durable Objects or dependents.
	_, err := e.workers.Scripts.Delete(e.ctx, "do", cfworkers.ScriptDeleteParams{AccountID: acct})
	edgetest.WantAPIError(t, err, 400, 10021)
	if _, err := e.workers.Scripts.Delete(e.ctx, "do", cfworkers.ScriptDeleteParams{AccountID: acct, Force: cloudflare.F(true)}); err != nil {
		t.Fatal(err)
	}
	if e.Server.ScriptExists("do") {
		t.Fatal("script still exists")
	}
	routes, _ := e.workers.Routes.List(e.ctx, cfworkers.RouteListParams{ZoneID: cloudflare.F(edgetest.ZoneID)})
	domains, _ := e.workers.Domains.List(e.ctx, cfworkers.DomainListParams{AccountID: acct})
	nss, _ := e.durable.Namespaces.List(e.ctx, wDOListParams())
	if len(routes.Result) != 0 || len(domains.Result) != 0 || len(nss.Result) != 0 {
		t.Fatalf("leftovers: routes %v domains %v namespaces %v", routes.Result, domains.Result, nss.Result)
	}
	// A plain script deletes without force; the response is a JSON envelope with null result.
	status, hdr, body := e.rawRequest("DELETE", wScriptPath("client"), "", nil)
	if status != 200 || hdr.Get("Content-Type") != "application/json" || !strings.Contains(string(body), `"result":null`) {
		t.Fatalf("delete: %d %s", status, body)
	}
	// Re-creating a deleted script starts over: a new tag and no migration tag.
	res := e.mustUpload("do", cfworkers.ScriptUpdateParamsMetadata{})
	if res.MigrationTag != "" {
		t.Fatalf("migration tag survived delete: %q", res.MigrationTag)
	}
	// Nor do the deleted script's versions and deployments.
	versions, err := e.workers.Scripts.Versions.List(e.ctx, "do", cfworkers.ScriptVersionListParams{AccountID: acct})
	if err != nil || len(versions.Result.Items) != 1 {
		t.Fatalf("versions of the re-created script: %+v, %v", versions, err)
	}
	deployments, err := e.workers.Scripts.Deployments.List(e.ctx, "do", cfworkers.ScriptDeploymentListParams{AccountID: acct})
	if err != nil || len(deployments.Deployments) != 1 {
		t.Fatalf("deployments of the re-created script: %+v, %v", deployments, err)
	}
}
