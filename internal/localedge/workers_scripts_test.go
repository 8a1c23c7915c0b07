package localedge

import (
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	cloudflare "github.com/cloudflare/cloudflare-go/v7"
	"github.com/cloudflare/cloudflare-go/v7/option"
	"github.com/cloudflare/cloudflare-go/v7/workers"
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
	e := newWorkersEnv(t)
	if err := e.srv.Store().Update(func(tx *Tx) error {
		if err := tx.Put(bucketKVNamespaces, "kvns1", map[string]string{"id": "kvns1", "title": "t"}); err != nil {
			return err
		}
		return tx.Put(bucketR2Buckets, "default/assets", map[string]string{"name": "assets"})
	}); err != nil {
		t.Fatal(err)
	}
	md := wWithBindings(workers.ScriptUpdateParamsMetadata{
		CompatibilityDate:  cloudflare.F("2025-01-01"),
		CompatibilityFlags: cloudflare.F([]string{"nodejs_compat"}),
		Tags:               cloudflare.F([]string{"team:a"}),
		Logpush:            cloudflare.F(true),
		Limits:             cloudflare.F(workers.ScriptUpdateParamsMetadataLimits{CPUMs: cloudflare.F(int64(50))}),
		Observability:      cloudflare.F(workers.ScriptUpdateParamsMetadataObservability{Enabled: cloudflare.F(true), HeadSamplingRate: cloudflare.F(0.5)}),
	},
		wBind("plain_text", "GREETING", func(b *workers.ScriptUpdateParamsMetadataBinding) { b.Text = cloudflare.F("hello") }),
		wBind("secret_text", "API_KEY", func(b *workers.ScriptUpdateParamsMetadataBinding) { b.Text = cloudflare.F("s3cret") }),
		wBind("json", "CONFIG", func(b *workers.ScriptUpdateParamsMetadataBinding) { b.Json = cloudflare.F[any](map[string]any{"a": 1}) }),
		wBind("kv_namespace", "KV", func(b *workers.ScriptUpdateParamsMetadataBinding) { b.NamespaceID = cloudflare.F("kvns1") }),
		wBind("r2_bucket", "BUCKET", func(b *workers.ScriptUpdateParamsMetadataBinding) { b.BucketName = cloudflare.F("assets") }),
		wBind("service", "SELF", func(b *workers.ScriptUpdateParamsMetadataBinding) { b.Service = cloudflare.F("api") }),
	)
	res := e.mustUpload("api", md, wModule("index.js", wCode), wModule("lib/util.js", "export const x = 1"))
	if res.ID != "api" || !wHex32.MatchString(res.Tag) || res.Etag == "" || !res.HasModules || res.CompatibilityDate != "2025-01-01" ||
		len(res.CompatibilityFlags) != 1 || !res.Logpush || res.UsageModel != "standard" || res.CreatedOn.IsZero() {
		t.Fatalf("unexpected script object: %+v", res)
	}
	if len(res.Handlers) != 1 || res.Handlers[0] != "fetch" {
		t.Fatalf("handlers = %v", res.Handlers)
	}
	if !e.srv.ScriptExists("api") || e.srv.ScriptExists("nope") {
		t.Fatal("ScriptExists is wrong")
	}
	mods, err := e.srv.ScriptModules("api")
	if err != nil || string(mods["lib/util.js"]) != "export const x = 1" || string(mods["index.js"]) != wCode {
		t.Fatalf("ScriptModules = %v, %v", mods, err)
	}
	bs, err := e.srv.ScriptBindings("api")
	if err != nil || len(bs) != 6 || bs[0]["name"] != "API_KEY" || bs[0]["text"] != "s3cret" {
		t.Fatalf("ScriptBindings = %v, %v", bs, err)
	}

	// Scripts.Get needs a non-JSON body: the multipart download, main module first.
	code, err := e.client.Workers.Scripts.Get(e.ctx, "api", workers.ScriptGetParams{AccountID: cloudflare.F(wAccount)})
	if err != nil || !strings.Contains(*code, wCode) {
		t.Fatalf("Scripts.Get = %v, %v", code, err)
	}
	resp, err := e.client.Workers.Scripts.Content.Get(e.ctx, "api", workers.ScriptContentGetParams{AccountID: cloudflare.F(wAccount)})
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

	settings, err := e.client.Workers.Scripts.ScriptAndVersionSettings.Get(e.ctx, "api", workers.ScriptScriptAndVersionSettingGetParams{AccountID: cloudflare.F(wAccount)})
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
	if _, err := e.client.Workers.Routes.New(e.ctx, workers.RouteNewParams{ZoneID: cloudflare.F(wZone), Pattern: cloudflare.F("example.com/api/*"), Script: cloudflare.F("api")}); err != nil {
		t.Fatal(err)
	}
	e.mustUpload("other", workers.ScriptUpdateParamsMetadata{Tags: cloudflare.F([]string{"team:b"})})
	list, err := e.client.Workers.Scripts.List(e.ctx, workers.ScriptListParams{AccountID: cloudflare.F(wAccount)})
	if err != nil || len(list.Result) != 2 || list.Result[0].ID != "api" || len(list.Result[0].Routes) != 1 || list.Result[0].Routes[0].Pattern != "example.com/api/*" {
		t.Fatalf("list = %+v, %v", list, err)
	}
	list, err = e.client.Workers.Scripts.List(e.ctx, workers.ScriptListParams{AccountID: cloudflare.F(wAccount), Tags: cloudflare.F("team:b:yes")})
	if err != nil || len(list.Result) != 1 || list.Result[0].ID != "other" {
		t.Fatalf("tag filter yes = %+v, %v", list, err)
	}
	list, err = e.client.Workers.Scripts.List(e.ctx, workers.ScriptListParams{AccountID: cloudflare.F(wAccount)}, option.WithQuery("tags", "team:b:no"))
	if err != nil || len(list.Result) != 1 || list.Result[0].ID != "api" {
		t.Fatalf("tag filter no = %+v, %v", list, err)
	}

	// A re-upload replaces the bindings; keep_bindings keeps the secret.
	res2 := e.mustUpload("api", workers.ScriptUpdateParamsMetadata{KeepBindings: cloudflare.F([]string{"secret_text"})})
	if res2.Tag != res.Tag || res2.Etag == res.Etag {
		t.Fatalf("tag must be stable and etag change: %s/%s %s/%s", res.Tag, res2.Tag, res.Etag, res2.Etag)
	}
	bs, _ = e.srv.ScriptBindings("api")
	if len(bs) != 1 || bs[0]["name"] != "API_KEY" || bs[0]["text"] != "s3cret" {
		t.Fatalf("keep_bindings: %v", bs)
	}
}

func TestWorkersScriptUploadErrors(t *testing.T) {
	e := newWorkersEnv(t)
	_, err := e.upload("1bad", workers.ScriptUpdateParamsMetadata{})
	wantAPIError(t, err, 400, 10016)
	_, err = e.upload("bad-", workers.ScriptUpdateParamsMetadata{})
	wantAPIError(t, err, 400, 10016)

	_, err = e.upload("w", workers.ScriptUpdateParamsMetadata{MainModule: cloudflare.F("worker.js")})
	cfErr := wantAPIError(t, err, 400, 10021)
	if !strings.Contains(cfErr.Errors[0].Message, "No such module") {
		t.Fatalf("message = %q", cfErr.Errors[0].Message)
	}
	// A reader without ContentType() goes out as octet-stream: a data module, not a main module.
	_, err = e.upload("w", workers.ScriptUpdateParamsMetadata{}, cloudflare.FileParam(strings.NewReader(wCode), "index.js", "").Value)
	wantAPIError(t, err, 400, 10021)

	missing := []struct {
		name string
		b    workers.ScriptUpdateParamsMetadataBindingUnion
		code int64
	}{
		{"kv", wBind("kv_namespace", "KV", func(b *workers.ScriptUpdateParamsMetadataBinding) { b.NamespaceID = cloudflare.F("nope") }), 10056},
		{"r2", wBind("r2_bucket", "R2", func(b *workers.ScriptUpdateParamsMetadataBinding) { b.BucketName = cloudflare.F("nope") }), 10056},
		{"r2 eu", wBind("r2_bucket", "R2", func(b *workers.ScriptUpdateParamsMetadataBinding) {
			b.BucketName = cloudflare.F("nope")
			b.Jurisdiction = cloudflare.F(workers.ScriptUpdateParamsMetadataBindingsJurisdictionEu)
		}), 10056},
		{"service", wBind("service", "SVC", func(b *workers.ScriptUpdateParamsMetadataBinding) { b.Service = cloudflare.F("ghost") }), 10056},
		{"do class", wBind("durable_object_namespace", "DO", func(b *workers.ScriptUpdateParamsMetadataBinding) { b.ClassName = cloudflare.F("Counter") }), 10061},
		{"unnamed", wBind("plain_text", "", func(b *workers.ScriptUpdateParamsMetadataBinding) { b.Text = cloudflare.F("x") }), 10052},
		{"no text", wBind("plain_text", "P", nil), 10021},
		{"unknown type", wBind("teleporter", "T", nil), 10021},
	}
	for _, tc := range missing {
		_, err := e.upload("w", wWithBindings(workers.ScriptUpdateParamsMetadata{}, tc.b))
		t.Run(tc.name, func(t *testing.T) { wantAPIError(t, err, 400, tc.code) })
	}
	if e.srv.ScriptExists("w") {
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
	acct := cloudflare.F(wAccount)
	_, err = e.client.Workers.Scripts.Get(e.ctx, "ghost", workers.ScriptGetParams{AccountID: acct})
	wantAPIError(t, err, 404, 10007)
	_, err = e.client.Workers.Scripts.Delete(e.ctx, "ghost", workers.ScriptDeleteParams{AccountID: acct})
	wantAPIError(t, err, 404, 10007)
	_, err = e.client.Workers.Scripts.Content.Get(e.ctx, "ghost", workers.ScriptContentGetParams{AccountID: acct})
	wantAPIError(t, err, 404, 10007)
	_, err = e.client.Workers.Scripts.ScriptAndVersionSettings.Get(e.ctx, "ghost", workers.ScriptScriptAndVersionSettingGetParams{AccountID: acct})
	wantAPIError(t, err, 404, 10007)
	_, err = e.client.Workers.Scripts.Settings.Get(e.ctx, "ghost", workers.ScriptSettingGetParams{AccountID: acct})
	cfErr = wantAPIError(t, err, 404, 10007)
	if cfErr.Errors[0].Message != "This Worker does not exist on your account." {
		t.Fatalf("message = %q", cfErr.Errors[0].Message)
	}
	_, err = e.client.Workers.Scripts.Schedules.Get(e.ctx, "ghost", workers.ScriptScheduleGetParams{AccountID: acct})
	wantAPIError(t, err, 404, 10007)
	_, err = e.client.Workers.Scripts.Subdomain.Get(e.ctx, "ghost", workers.ScriptSubdomainGetParams{AccountID: acct})
	wantAPIError(t, err, 404, 10007)
}

// TestWorkersRawMultipartJSONMetadata covers the wire format of wrangler, curl and the v6 SDK:
// a JSON metadata part and module parts named after the module.
func TestWorkersRawMultipartJSONMetadata(t *testing.T) {
	e := newWorkersEnv(t)
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
	bs, _ := e.srv.ScriptBindings("raw")
	if len(bs) != 2 || bs[0]["text"] != "1" {
		t.Fatalf("bindings = %v", bs)
	}
	mods, _ := e.srv.ScriptModules("raw")
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
	e := newWorkersEnv(t)
	acct := cloudflare.F(wAccount)
	e.mustUpload("w", wWithBindings(workers.ScriptUpdateParamsMetadata{CompatibilityDate: cloudflare.F("2024-01-01")},
		wBind("secret_text", "TOKEN", func(b *workers.ScriptUpdateParamsMetadataBinding) { b.Text = cloudflare.F("t0k") }),
		wBind("plain_text", "MODE", func(b *workers.ScriptUpdateParamsMetadataBinding) { b.Text = cloudflare.F("a") }),
	))
	first, err := e.client.Workers.Scripts.Versions.List(e.ctx, "w", workers.ScriptVersionListParams{AccountID: acct})
	if err != nil || len(first.Result.Items) != 1 {
		t.Fatalf("versions = %+v, %v", first, err)
	}
	firstID := first.Result.Items[0].ID

	// PUT content: new code, same bindings, new version deployed at 100 %.
	newCode := "export default { fetch() { return new Response('v2') } }"
	script, err := e.client.Workers.Scripts.Content.Update(e.ctx, "w", workers.ScriptContentUpdateParams{
		AccountID: acct, Metadata: cloudflare.F(workers.ScriptContentUpdateParamsMetadata{MainModule: cloudflare.F("main.js")}),
		Files: cloudflare.F([]io.Reader{wModule("main.js", newCode)}),
	})
	if err != nil || script.ID != "w" || script.CompatibilityDate != "2024-01-01" {
		t.Fatalf("content update = %+v, %v", script, err)
	}
	mods, _ := e.srv.ScriptModules("w")
	if len(mods) != 1 || string(mods["main.js"]) != newCode {
		t.Fatalf("modules = %v", mods)
	}
	bs, _ := e.srv.ScriptBindings("w")
	if len(bs) != 2 {
		t.Fatalf("content update lost bindings: %v", bs)
	}
	// The old version's code is still readable by id.
	resp, err := e.client.Workers.Scripts.Content.Get(e.ctx, "w", workers.ScriptContentGetParams{AccountID: acct}, option.WithQuery("version", firstID))
	if err != nil {
		t.Fatal(err)
	}
	parts := wReadParts(t, resp.Header.Get("Content-Type"), resp.Body)
	resp.Body.Close()
	if len(parts) != 1 || parts[0][2] != wCode || resp.Header.Get("cf-entrypoint") != "index.js" {
		t.Fatalf("old version content = %v", parts)
	}
	_, err = e.client.Workers.Scripts.Content.Get(e.ctx, "w", workers.ScriptContentGetParams{AccountID: acct}, option.WithQuery("version", "00000000-0000-4000-8000-000000000000"))
	wantAPIError(t, err, 404, 10007)
	_, err = e.client.Workers.Scripts.Content.Update(e.ctx, "w", workers.ScriptContentUpdateParams{
		AccountID: acct, Metadata: cloudflare.F(workers.ScriptContentUpdateParamsMetadata{MainModule: cloudflare.F("nope.js")}),
		Files: cloudflare.F([]io.Reader{wModule("main.js", newCode)}),
	})
	wantAPIError(t, err, 400, 10021)

	// PATCH settings (multipart "settings", flattened by the v7 SDK): bindings omitted are kept.
	edited, err := e.client.Workers.Scripts.ScriptAndVersionSettings.Edit(e.ctx, "w", workers.ScriptScriptAndVersionSettingEditParams{
		AccountID: acct, Settings: cloudflare.F(workers.ScriptScriptAndVersionSettingEditParamsSettings{
			CompatibilityDate: cloudflare.F("2025-02-02"), Logpush: cloudflare.F(true), Tags: cloudflare.F([]string{"x", "y"}),
			Limits: cloudflare.F(workers.ScriptScriptAndVersionSettingEditParamsSettingsLimits{CPUMs: cloudflare.F(int64(100))}),
		}),
	})
	if err != nil || edited.CompatibilityDate != "2025-02-02" || !edited.Logpush || len(edited.Tags) != 2 || edited.Limits.CPUMs != 100 || len(edited.Bindings) != 2 {
		t.Fatalf("settings edit = %+v, %v", edited, err)
	}
	if got := edited.Annotations.WorkersTriggeredBy; got != "settings" {
		t.Fatalf("triggered_by = %q", got)
	}
	// Replacing bindings: a secret listed without text keeps its value.
	_, err = e.client.Workers.Scripts.ScriptAndVersionSettings.Edit(e.ctx, "w", workers.ScriptScriptAndVersionSettingEditParams{
		AccountID: acct, Settings: cloudflare.F(workers.ScriptScriptAndVersionSettingEditParamsSettings{
			Bindings: cloudflare.F([]workers.ScriptScriptAndVersionSettingEditParamsSettingsBindingUnion{
				workers.ScriptScriptAndVersionSettingEditParamsSettingsBinding{Name: cloudflare.F("TOKEN"), Type: cloudflare.F(workers.ScriptScriptAndVersionSettingEditParamsSettingsBindingsType("secret_text"))},
			}),
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	bs, _ = e.srv.ScriptBindings("w")
	if len(bs) != 1 || bs[0]["text"] != "t0k" {
		t.Fatalf("bindings after settings = %v", bs)
	}
	deps, err := e.client.Workers.Scripts.Deployments.List(e.ctx, "w", workers.ScriptDeploymentListParams{AccountID: acct})
	if err != nil || len(deps.Deployments) != 4 {
		t.Fatalf("every change deploys: %+v, %v", deps, err)
	}

	// script-settings: plain JSON, no new version.
	ss, err := e.client.Workers.Scripts.Settings.Edit(e.ctx, "w", workers.ScriptSettingEditParams{AccountID: acct, ScriptSetting: workers.ScriptSettingParam{
		Logpush: cloudflare.F(false), Tags: cloudflare.F([]string{"z"}),
		Observability: cloudflare.F(workers.ScriptSettingObservabilityParam{Enabled: cloudflare.F(true)}),
	}})
	if err != nil || ss.Logpush || len(ss.Tags) != 1 || !ss.Observability.Enabled {
		t.Fatalf("script-settings edit = %+v, %v", ss, err)
	}
	got, err := e.client.Workers.Scripts.Settings.Get(e.ctx, "w", workers.ScriptSettingGetParams{AccountID: acct})
	if err != nil || got.Tags[0] != "z" || got.TailConsumers != nil {
		t.Fatalf("script-settings get = %+v, %v", got, err)
	}
	versions, _ := e.client.Workers.Scripts.Versions.List(e.ctx, "w", workers.ScriptVersionListParams{AccountID: acct})
	if len(versions.Result.Items) != 4 {
		t.Fatalf("script-settings must not create versions: %d", len(versions.Result.Items))
	}
}

func TestWorkersSchedulesAndSubdomains(t *testing.T) {
	e := newWorkersEnv(t)
	acct := cloudflare.F(wAccount)
	e.mustUpload("cron", workers.ScriptUpdateParamsMetadata{})
	up, err := e.client.Workers.Scripts.Schedules.Update(e.ctx, "cron", workers.ScriptScheduleUpdateParams{AccountID: acct, Body: []workers.ScriptScheduleUpdateParamsBody{
		{Cron: cloudflare.F("*/5 * * * *")}, {Cron: cloudflare.F("0 12 * * MON-FRI")}, {Cron: cloudflare.F("0 0 L * *")},
	}})
	if err != nil || len(up.Schedules) != 3 || up.Schedules[0].Cron != "*/5 * * * *" || up.Schedules[0].CreatedOn == "" {
		t.Fatalf("schedules update = %+v, %v", up, err)
	}
	got, err := e.client.Workers.Scripts.Schedules.Get(e.ctx, "cron", workers.ScriptScheduleGetParams{AccountID: acct})
	if err != nil || len(got.Schedules) != 3 {
		t.Fatalf("schedules get = %+v, %v", got, err)
	}
	for _, bad := range []string{"* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8", "*/0 * * * *", "5-1 * * * *", "a * * * *"} {
		_, err := e.client.Workers.Scripts.Schedules.Update(e.ctx, "cron", workers.ScriptScheduleUpdateParams{AccountID: acct, Body: []workers.ScriptScheduleUpdateParamsBody{{Cron: cloudflare.F(bad)}}})
		cfErr := wantAPIError(t, err, 400, 10021)
		if !strings.Contains(cfErr.Errors[0].Message, "Invalid cron expression") {
			t.Fatalf("%q: %s", bad, cfErr.Errors[0].Message)
		}
	}
	cleared, err := e.client.Workers.Scripts.Schedules.Update(e.ctx, "cron", workers.ScriptScheduleUpdateParams{AccountID: acct, Body: []workers.ScriptScheduleUpdateParamsBody{}})
	if err != nil || len(cleared.Schedules) != 0 {
		t.Fatalf("clear = %+v, %v", cleared, err)
	}

	// Account workers.dev subdomain.
	_, err = e.client.Workers.Subdomains.Get(e.ctx, workers.SubdomainGetParams{AccountID: acct})
	wantAPIError(t, err, 404, 10007)
	_, err = e.client.Workers.Subdomains.Update(e.ctx, workers.SubdomainUpdateParams{AccountID: acct, Subdomain: cloudflare.F("Bad_Name")})
	wantAPIError(t, err, 400, 10021)
	sub, err := e.client.Workers.Subdomains.Update(e.ctx, workers.SubdomainUpdateParams{AccountID: acct, Subdomain: cloudflare.F("my-acct")})
	if err != nil || sub.Subdomain != "my-acct" {
		t.Fatalf("subdomain put = %+v, %v", sub, err)
	}
	gotSub, err := e.client.Workers.Subdomains.Get(e.ctx, workers.SubdomainGetParams{AccountID: acct})
	if err != nil || gotSub.Subdomain != "my-acct" {
		t.Fatalf("subdomain get = %+v, %v", gotSub, err)
	}
	if err := e.client.Workers.Subdomains.Delete(e.ctx, workers.SubdomainDeleteParams{AccountID: acct}); err != nil {
		t.Fatal(err)
	}
	status, _, body := e.rawRequest("DELETE", "/accounts/"+wAccount+"/workers/subdomain", "", nil)
	if status != 404 {
		t.Fatalf("second delete: %d %s", status, body)
	}
	if _, err := e.client.Workers.Subdomains.Update(e.ctx, workers.SubdomainUpdateParams{AccountID: acct, Subdomain: cloudflare.F("again")}); err != nil {
		t.Fatal(err)
	}
	status, _, body = e.rawRequest("DELETE", "/accounts/"+wAccount+"/workers/subdomain", "", nil)
	if status != http.StatusNoContent || len(body) != 0 {
		t.Fatalf("delete: %d %q", status, body)
	}

	// Script workers.dev subdomain: disabled by default.
	ss, err := e.client.Workers.Scripts.Subdomain.Get(e.ctx, "cron", workers.ScriptSubdomainGetParams{AccountID: acct})
	if err != nil || ss.Enabled || ss.PreviewsEnabled {
		t.Fatalf("script subdomain default = %+v, %v", ss, err)
	}
	created, err := e.client.Workers.Scripts.Subdomain.New(e.ctx, "cron", workers.ScriptSubdomainNewParams{AccountID: acct, Enabled: cloudflare.F(true), PreviewsEnabled: cloudflare.F(false)})
	if err != nil || !created.Enabled || created.PreviewsEnabled {
		t.Fatalf("script subdomain post = %+v, %v", created, err)
	}
	ss, _ = e.client.Workers.Scripts.Subdomain.Get(e.ctx, "cron", workers.ScriptSubdomainGetParams{AccountID: acct})
	if !ss.Enabled {
		t.Fatal("script subdomain not persisted")
	}
	del, err := e.client.Workers.Scripts.Subdomain.Delete(e.ctx, "cron", workers.ScriptSubdomainDeleteParams{AccountID: acct})
	if err != nil || del.Enabled {
		t.Fatalf("script subdomain delete = %+v, %v", del, err)
	}
	_, err = e.client.Workers.Scripts.Subdomain.New(e.ctx, "ghost", workers.ScriptSubdomainNewParams{AccountID: acct, Enabled: cloudflare.F(true)})
	wantAPIError(t, err, 404, 10007)
}

func TestWorkersDeleteScript(t *testing.T) {
	e := newWorkersEnv(t)
	acct := cloudflare.F(wAccount)
	e.mustUpload("do", workers.ScriptUpdateParamsMetadata{Migrations: cloudflare.F[workers.ScriptUpdateParamsMetadataMigrationsUnion](workers.SingleStepMigrationParam{
		NewTag: cloudflare.F("v1"), NewSqliteClasses: cloudflare.F([]string{"Counter"}),
	})})
	e.mustUpload("client", wWithBindings(workers.ScriptUpdateParamsMetadata{},
		wBind("service", "DO_SVC", func(b *workers.ScriptUpdateParamsMetadataBinding) { b.Service = cloudflare.F("do") }),
	))
	if _, err := e.client.Workers.Routes.New(e.ctx, workers.RouteNewParams{ZoneID: cloudflare.F(wZone), Pattern: cloudflare.F("example.com/*"), Script: cloudflare.F("do")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Workers.Domains.Update(e.ctx, workers.DomainUpdateParams{AccountID: acct, Hostname: cloudflare.F("app.example.com"), Service: cloudflare.F("do")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Workers.Scripts.Secrets.Update(e.ctx, "do", workers.ScriptSecretUpdateParams{AccountID: acct, Body: workers.ScriptSecretUpdateParamsBodyWorkersBindingKindSecretText{
		Name: cloudflare.F("S"), Text: cloudflare.F("v"), Type: cloudflare.F(workers.ScriptSecretUpdateParamsBodyWorkersBindingKindSecretTextTypeSecretText),
	}}); err != nil {
		t.Fatal(err)
	}

	// Without force: refused while it has Durable Objects or dependents.
	_, err := e.client.Workers.Scripts.Delete(e.ctx, "do", workers.ScriptDeleteParams{AccountID: acct})
	wantAPIError(t, err, 400, 10021)
	if _, err := e.client.Workers.Scripts.Delete(e.ctx, "do", workers.ScriptDeleteParams{AccountID: acct, Force: cloudflare.F(true)}); err != nil {
		t.Fatal(err)
	}
	if e.srv.ScriptExists("do") {
		t.Fatal("script still exists")
	}
	routes, _ := e.client.Workers.Routes.List(e.ctx, workers.RouteListParams{ZoneID: cloudflare.F(wZone)})
	domains, _ := e.client.Workers.Domains.List(e.ctx, workers.DomainListParams{AccountID: acct})
	nss, _ := e.client.DurableObjects.Namespaces.List(e.ctx, wDOListParams())
	if len(routes.Result) != 0 || len(domains.Result) != 0 || len(nss.Result) != 0 {
		t.Fatalf("leftovers: routes %v domains %v namespaces %v", routes.Result, domains.Result, nss.Result)
	}
	if err := e.srv.Store().View(func(tx *Tx) error {
		for _, b := range []string{bucketWorkerVersions, bucketWorkerDeployments} {
			if err := tx.Each(b, "do/", "", func(k string, _ []byte) (bool, error) {
				t.Errorf("leftover %s %s", b, k)
				return true, nil
			}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// A plain script deletes without force; the response is a JSON envelope with null result.
	status, hdr, body := e.rawRequest("DELETE", wScriptPath("client"), "", nil)
	if status != 200 || hdr.Get("Content-Type") != "application/json" || !strings.Contains(string(body), `"result":null`) {
		t.Fatalf("delete: %d %s", status, body)
	}
	// Re-creating a deleted script starts over: a new tag and no migration tag.
	res := e.mustUpload("do", workers.ScriptUpdateParamsMetadata{})
	if res.MigrationTag != "" {
		t.Fatalf("migration tag survived delete: %q", res.MigrationTag)
	}
}
