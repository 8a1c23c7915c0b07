package workers_test

import (
	"encoding/json"
	"io"
	"net/url"
	"strings"
	"testing"

	cloudflare "github.com/cloudflare/cloudflare-go/v7"
	cfworkers "github.com/cloudflare/cloudflare-go/v7/workers"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

func (e *env) newVersion(script, code string, md cfworkers.ScriptVersionNewParamsMetadata) (*cfworkers.ScriptVersionNewResponse, error) {
	if !md.MainModule.Present {
		md.MainModule = cloudflare.F("index.js")
	}
	return e.workers.Scripts.Versions.New(e.ctx, script, cfworkers.ScriptVersionNewParams{
		AccountID: cloudflare.F(edgetest.AccountID), Metadata: cloudflare.F(md), Files: cloudflare.F([]io.Reader{wModule("index.js", code)}),
	})
}

// wAnnotations decodes the raw annotations object of a version response.
func wAnnotations(t *testing.T, raw string) map[string]string {
	t.Helper()
	out := map[string]string{}
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWorkersVersionsAndDeployments(t *testing.T) {
	e := newEnv(t)
	acct := cloudflare.F(edgetest.AccountID)
	_, err := e.newVersion("ghost", wCode, cfworkers.ScriptVersionNewParamsMetadata{})
	edgetest.WantAPIError(t, err, 404, 10007)

	e.mustUpload("w", cfworkers.ScriptUpdateParamsMetadata{
		CompatibilityDate: cloudflare.F("2025-01-01"),
		Migrations: cloudflare.F[cfworkers.ScriptUpdateParamsMetadataMigrationsUnion](cfworkers.SingleStepMigrationParam{
			NewTag: cloudflare.F("v1"), NewSqliteClasses: cloudflare.F([]string{"Counter"}),
		}),
	})
	v2, err := e.newVersion("w", "export default { fetch() { return new Response('v2') } }", cfworkers.ScriptVersionNewParamsMetadata{
		CompatibilityDate: cloudflare.F("2025-03-03"),
		Annotations:       cloudflare.F(cfworkers.ScriptVersionNewParamsMetadataAnnotations{WorkersMessage: cloudflare.F("second"), WorkersTag: cloudflare.F("t2")}),
		Bindings: cloudflare.F([]cfworkers.ScriptVersionNewParamsMetadataBindingUnion{
			cfworkers.ScriptVersionNewParamsMetadataBinding{Name: cloudflare.F("DO"), Type: cloudflare.F(cfworkers.ScriptVersionNewParamsMetadataBindingsType("durable_object_namespace")), ClassName: cloudflare.F("Counter")},
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if v2.Number != 2 || v2.ID == "" || v2.Resources.ScriptRuntime.CompatibilityDate != "2025-03-03" || v2.Resources.ScriptRuntime.MigrationTag != "v1" ||
		len(v2.Resources.Bindings) != 1 || v2.Resources.Script.Etag == "" || len(v2.Resources.Script.NamedHandlers) != 1 || v2.Metadata.Source != "api" {
		t.Fatalf("version = %s", v2.JSON.RawJSON())
	}
	// A version upload does not deploy: the script still serves version 1.
	mods, _ := e.Server.ScriptModules("w")
	if string(mods["index.js"]) != wCode {
		t.Fatal("POST versions deployed the version")
	}
	// Migrations belong to PUT script.
	_, err = e.workers.Scripts.Versions.New(e.ctx, "w", cfworkers.ScriptVersionNewParams{AccountID: acct,
		Metadata: cloudflare.F(cfworkers.ScriptVersionNewParamsMetadata{MainModule: cloudflare.F("index.js")}),
		Files:    cloudflare.F([]io.Reader{wModule("index.js", wCode)}),
	})
	if err != nil {
		t.Fatal(err)
	}
	status, body := e.rawMultipart("POST", wScriptPath("w")+"/versions",
		wRawPart{name: "files", filename: "index.js", contentType: "application/javascript+module", body: wCode},
		wRawPart{name: "metadata", body: `{"main_module":"index.js","migrations":{"old_tag":"v1","new_tag":"v2","new_sqlite_classes":["B"]}}`},
	)
	if status != 400 || !strings.Contains(string(body), `"code":10211`) {
		t.Fatalf("migrations in a version: %d %s", status, body)
	}
	// A binding to a class without a migration.
	_, err = e.newVersion("w", wCode, cfworkers.ScriptVersionNewParamsMetadata{Bindings: cloudflare.F([]cfworkers.ScriptVersionNewParamsMetadataBindingUnion{
		cfworkers.ScriptVersionNewParamsMetadataBinding{Name: cloudflare.F("X"), Type: cloudflare.F(cfworkers.ScriptVersionNewParamsMetadataBindingsType("durable_object_namespace")), ClassName: cloudflare.F("Nope")},
	})})
	edgetest.WantAPIError(t, err, 400, 10061)

	// Detail with annotations (not in the SDK struct: read from ExtraFields).
	got, err := e.workers.Scripts.Versions.Get(e.ctx, "w", v2.ID, cfworkers.ScriptVersionGetParams{AccountID: acct})
	if err != nil || got.ID != v2.ID || got.Number != 2 {
		t.Fatalf("version get = %+v, %v", got, err)
	}
	ann := wAnnotations(t, got.JSON.ExtraFields["annotations"].Raw())
	if ann["workers/message"] != "second" || ann["workers/tag"] != "t2" || ann["workers/triggered_by"] != "upload" {
		t.Fatalf("annotations = %v", ann)
	}
	_, err = e.workers.Scripts.Versions.Get(e.ctx, "w", "00000000-0000-4000-8000-000000000000", cfworkers.ScriptVersionGetParams{AccountID: acct})
	edgetest.WantAPIError(t, err, 404, 10007)

	// More versions, then page through them all, newest first.
	for i := 0; i < 4; i++ {
		if _, err := e.newVersion("w", wCode, cfworkers.ScriptVersionNewParamsMetadata{}); err != nil {
			t.Fatal(err)
		}
	}
	pager := e.workers.Scripts.Versions.ListAutoPaging(e.ctx, "w", cfworkers.ScriptVersionListParams{AccountID: acct, PerPage: cloudflare.F(int64(2))})
	var numbers []int
	for pager.Next() {
		numbers = append(numbers, int(pager.Current().Number))
	}
	if err := pager.Err(); err != nil {
		t.Fatal(err)
	}
	if len(numbers) != 7 || numbers[0] != 7 || numbers[6] != 1 {
		t.Fatalf("paged versions = %v", numbers)
	}
	page, err := e.workers.Scripts.Versions.List(e.ctx, "w", cfworkers.ScriptVersionListParams{AccountID: acct, Page: cloudflare.F(int64(9)), PerPage: cloudflare.F(int64(2))})
	if err != nil || page.Result.Items == nil || len(page.Result.Items) != 0 {
		t.Fatalf("past the end = %+v, %v", page, err)
	}
	all, err := e.workers.Scripts.Versions.List(e.ctx, "w", cfworkers.ScriptVersionListParams{AccountID: acct, Deployable: cloudflare.F(true), PerPage: cloudflare.F(int64(2))})
	if err != nil || len(all.Result.Items) != 7 {
		t.Fatalf("deployable = %d, %v", len(all.Result.Items), err)
	}
	page, _ = e.workers.Scripts.Versions.List(e.ctx, "w", cfworkers.ScriptVersionListParams{AccountID: acct, Deployable: cloudflare.F(true), Page: cloudflare.F(int64(2))})
	if len(page.Result.Items) != 0 {
		t.Fatalf("deployable page 2 = %d items", len(page.Result.Items))
	}

	// A gradual deployment: 10 % to version 2.
	v1ID := wVersionID(t, e, "w", 1)
	dep, err := e.workers.Scripts.Deployments.New(e.ctx, "w", cfworkers.ScriptDeploymentNewParams{AccountID: acct, Deployment: cfworkers.DeploymentParam{
		Strategy:    cloudflare.F(cfworkers.DeploymentStrategyPercentage),
		Versions:    cloudflare.F([]cfworkers.DeploymentVersionParam{{VersionID: cloudflare.F(v1ID), Percentage: cloudflare.F(90.0)}, {VersionID: cloudflare.F(v2.ID), Percentage: cloudflare.F(10.0)}}),
		Annotations: cloudflare.F(cfworkers.DeploymentAnnotationsParam{WorkersMessage: cloudflare.F("canary")}),
	}})
	if err != nil || dep.ID == "" || len(dep.Versions) != 2 || dep.Annotations.WorkersMessage != "canary" || dep.Annotations.WorkersTriggeredBy != "deployment" || dep.Source != "api" || dep.CreatedOn.IsZero() {
		t.Fatalf("deployment = %+v, %v", dep, err)
	}
	deps, err := e.workers.Scripts.Deployments.List(e.ctx, "w", cfworkers.ScriptDeploymentListParams{AccountID: acct})
	if err != nil || len(deps.Deployments) != 2 || deps.Deployments[0].ID != dep.ID {
		t.Fatalf("deployments = %+v, %v", deps, err)
	}
	first := deps.Deployments[1]
	if first.Annotations.WorkersTriggeredBy != "upload" || first.Versions[0].Percentage != 100 {
		t.Fatalf("upload deployment = %+v", first)
	}
	one, err := e.workers.Scripts.Deployments.Get(e.ctx, "w", first.ID, cfworkers.ScriptDeploymentGetParams{AccountID: acct})
	if err != nil || one.ID != first.ID {
		t.Fatalf("deployment get = %+v, %v", one, err)
	}
	_, err = e.workers.Scripts.Deployments.Get(e.ctx, "w", "nope", cfworkers.ScriptDeploymentGetParams{AccountID: acct})
	edgetest.WantAPIError(t, err, 404, 10007)

	// A version at 0 % stays in the deployment (reachable only with the version-override
	// header): Cloudflare's blue/green preview.
	preview, err := e.workers.Scripts.Deployments.New(e.ctx, "w", cfworkers.ScriptDeploymentNewParams{AccountID: acct, Deployment: cfworkers.DeploymentParam{
		Strategy: cloudflare.F(cfworkers.DeploymentStrategyPercentage),
		Versions: cloudflare.F([]cfworkers.DeploymentVersionParam{{VersionID: cloudflare.F(v1ID), Percentage: cloudflare.F(100.0)}, {VersionID: cloudflare.F(v2.ID), Percentage: cloudflare.F(0.0)}}),
	}})
	if err != nil || len(preview.Versions) != 2 || preview.Versions[1].VersionID != v2.ID || preview.Versions[1].Percentage != 0 {
		t.Fatalf("deployment with a 0 %% version = %+v, %v", preview, err)
	}
	deps, err = e.workers.Scripts.Deployments.List(e.ctx, "w", cfworkers.ScriptDeploymentListParams{AccountID: acct})
	if err != nil || len(deps.Deployments) != 3 || deps.Deployments[0].ID != preview.ID || deps.Deployments[1].ID != dep.ID {
		t.Fatalf("deployments after the preview = %+v, %v", deps, err)
	}
	dep = preview

	bad := []struct {
		name string
		d    cfworkers.DeploymentParam
	}{
		{"negative", cfworkers.DeploymentParam{Strategy: cloudflare.F(cfworkers.DeploymentStrategyPercentage), Versions: cloudflare.F([]cfworkers.DeploymentVersionParam{
			{VersionID: cloudflare.F(v1ID), Percentage: cloudflare.F(110.0)}, {VersionID: cloudflare.F(v2.ID), Percentage: cloudflare.F(-10.0)}})}},
		{"only 0 %", cfworkers.DeploymentParam{Strategy: cloudflare.F(cfworkers.DeploymentStrategyPercentage), Versions: cloudflare.F([]cfworkers.DeploymentVersionParam{{VersionID: cloudflare.F(v1ID), Percentage: cloudflare.F(0.0)}})}},
		{"sum", cfworkers.DeploymentParam{Strategy: cloudflare.F(cfworkers.DeploymentStrategyPercentage), Versions: cloudflare.F([]cfworkers.DeploymentVersionParam{{VersionID: cloudflare.F(v1ID), Percentage: cloudflare.F(50.0)}})}},
		{"three", cfworkers.DeploymentParam{Strategy: cloudflare.F(cfworkers.DeploymentStrategyPercentage), Versions: cloudflare.F([]cfworkers.DeploymentVersionParam{
			{VersionID: cloudflare.F(v1ID), Percentage: cloudflare.F(50.0)}, {VersionID: cloudflare.F(v2.ID), Percentage: cloudflare.F(25.0)}, {VersionID: cloudflare.F(v2.ID), Percentage: cloudflare.F(25.0)}})}},
		{"none", cfworkers.DeploymentParam{Strategy: cloudflare.F(cfworkers.DeploymentStrategyPercentage), Versions: cloudflare.F([]cfworkers.DeploymentVersionParam{})}},
		{"unknown version", cfworkers.DeploymentParam{Strategy: cloudflare.F(cfworkers.DeploymentStrategyPercentage), Versions: cloudflare.F([]cfworkers.DeploymentVersionParam{{VersionID: cloudflare.F("00000000-0000-4000-8000-000000000000"), Percentage: cloudflare.F(100.0)}})}},
		{"strategy", cfworkers.DeploymentParam{Strategy: cloudflare.F(cfworkers.DeploymentStrategy("blue-green")), Versions: cloudflare.F([]cfworkers.DeploymentVersionParam{{VersionID: cloudflare.F(v1ID), Percentage: cloudflare.F(100.0)}})}},
	}
	for _, tc := range bad {
		_, err := e.workers.Scripts.Deployments.New(e.ctx, "w", cfworkers.ScriptDeploymentNewParams{AccountID: acct, Deployment: tc.d})
		t.Run(tc.name, func(t *testing.T) { edgetest.WantAPIError(t, err, 400, 10021) })
	}

	// The active deployment cannot be deleted; older ones can (the result is the envelope).
	_, err = e.workers.Scripts.Deployments.Delete(e.ctx, "w", dep.ID, cfworkers.ScriptDeploymentDeleteParams{AccountID: acct})
	edgetest.WantAPIError(t, err, 400, 10021)
	delRes, err := e.workers.Scripts.Deployments.Delete(e.ctx, "w", first.ID, cfworkers.ScriptDeploymentDeleteParams{AccountID: acct})
	if err != nil || !delRes.Success {
		t.Fatalf("delete deployment = %+v, %v", delRes, err)
	}
	_, err = e.workers.Scripts.Deployments.Delete(e.ctx, "w", first.ID, cfworkers.ScriptDeploymentDeleteParams{AccountID: acct})
	edgetest.WantAPIError(t, err, 404, 10007)
	_, err = e.workers.Scripts.Deployments.List(e.ctx, "ghost", cfworkers.ScriptDeploymentListParams{AccountID: acct})
	edgetest.WantAPIError(t, err, 404, 10007)
}

func wVersionID(t *testing.T, e *env, script string, number int) string {
	t.Helper()
	list, err := e.workers.Scripts.Versions.List(e.ctx, script, cfworkers.ScriptVersionListParams{AccountID: cloudflare.F(edgetest.AccountID), Deployable: cloudflare.F(true)})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range list.Result.Items {
		if int(v.Number) == number {
			return v.ID
		}
	}
	t.Fatalf("no version %d", number)
	return ""
}

func TestWorkersSecrets(t *testing.T) {
	e := newEnv(t)
	acct := cloudflare.F(edgetest.AccountID)
	put := func(script, name, text string) (*cfworkers.ScriptSecretUpdateResponse, error) {
		return e.workers.Scripts.Secrets.Update(e.ctx, script, cfworkers.ScriptSecretUpdateParams{AccountID: acct, Body: cfworkers.ScriptSecretUpdateParamsBodyWorkersBindingKindSecretText{
			Name: cloudflare.F(name), Text: cloudflare.F(text), Type: cloudflare.F(cfworkers.ScriptSecretUpdateParamsBodyWorkersBindingKindSecretTextTypeSecretText),
		}})
	}
	_, err := put("ghost", "S", "v")
	edgetest.WantAPIError(t, err, 404, 10007)
	_, err = e.workers.Scripts.Secrets.List(e.ctx, "ghost", cfworkers.ScriptSecretListParams{AccountID: acct})
	edgetest.WantAPIError(t, err, 404, 10007)

	e.mustUpload("w", wWithBindings(cfworkers.ScriptUpdateParamsMetadata{},
		wBind("plain_text", "VAR", func(b *cfworkers.ScriptUpdateParamsMetadataBinding) { b.Text = cloudflare.F("x") })))
	res, err := put("w", "API_KEY", "one")
	if err != nil || res.Name != "API_KEY" || res.Type != "secret_text" || strings.Contains(res.JSON.RawJSON(), "one") {
		t.Fatalf("put = %+v, %v", res, err)
	}
	if _, err := put("w", "API_KEY", "two"); err != nil {
		t.Fatal(err)
	}
	if _, err := put("w", "OTHER", "o"); err != nil {
		t.Fatal(err)
	}
	_, err = put("w", "VAR", "clash")
	edgetest.WantAPIError(t, err, 400, 10021)
	bs, _ := e.Server.ScriptBindings("w")
	if len(bs) != 3 || bs[0]["name"] != "API_KEY" || bs[0]["text"] != "two" {
		t.Fatalf("bindings = %v", bs)
	}
	list, err := e.workers.Scripts.Secrets.List(e.ctx, "w", cfworkers.ScriptSecretListParams{AccountID: acct})
	if err != nil || len(list.Result) != 2 || strings.Contains(list.JSON.RawJSON(), "two") {
		t.Fatalf("list = %+v, %v", list, err)
	}
	got, err := e.workers.Scripts.Secrets.Get(e.ctx, "w", "API_KEY", cfworkers.ScriptSecretGetParams{AccountID: acct})
	if err != nil || got.Name != "API_KEY" || got.Type != "secret_text" || strings.Contains(got.JSON.RawJSON(), "two") {
		t.Fatalf("get = %+v, %v", got, err)
	}
	_, err = e.workers.Scripts.Secrets.Get(e.ctx, "w", "NOPE", cfworkers.ScriptSecretGetParams{AccountID: acct})
	edgetest.WantAPIError(t, err, 404, 10056)

	// Each change is a version and a deployment triggered by the secret.
	deps, _ := e.workers.Scripts.Deployments.List(e.ctx, "w", cfworkers.ScriptDeploymentListParams{AccountID: acct})
	if len(deps.Deployments) != 4 || deps.Deployments[0].Annotations.WorkersTriggeredBy != "secret" {
		t.Fatalf("deployments = %+v", deps.Deployments)
	}
	// Names with characters that need escaping.
	if _, err := put("w", "a/b c", "z"); err != nil {
		t.Fatal(err)
	}
	got, err = e.workers.Scripts.Secrets.Get(e.ctx, "w", url.PathEscape("a/b c"), cfworkers.ScriptSecretGetParams{AccountID: acct})
	if err != nil || got.Name != "a/b c" {
		t.Fatalf("escaped get = %+v, %v", got, err)
	}
	if _, err := e.workers.Scripts.Secrets.Delete(e.ctx, "w", url.PathEscape("a/b c"), cfworkers.ScriptSecretDeleteParams{AccountID: acct}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.workers.Scripts.Secrets.Delete(e.ctx, "w", "OTHER", cfworkers.ScriptSecretDeleteParams{AccountID: acct}); err != nil {
		t.Fatal(err)
	}
	_, err = e.workers.Scripts.Secrets.Delete(e.ctx, "w", "OTHER", cfworkers.ScriptSecretDeleteParams{AccountID: acct})
	edgetest.WantAPIError(t, err, 404, 10056)
	list, _ = e.workers.Scripts.Secrets.List(e.ctx, "w", cfworkers.ScriptSecretListParams{AccountID: acct})
	if len(list.Result) != 1 {
		t.Fatalf("after delete = %+v", list.Result)
	}

	// With a newer, undeployed version, secret changes are refused (10215).
	if _, err := e.newVersion("w", wCode, cfworkers.ScriptVersionNewParamsMetadata{KeepBindings: cloudflare.F([]string{"secret_text"})}); err != nil {
		t.Fatal(err)
	}
	_, err = put("w", "API_KEY", "three")
	edgetest.WantAPIError(t, err, 400, 10215)
	_, err = e.workers.Scripts.Secrets.Delete(e.ctx, "w", "API_KEY", cfworkers.ScriptSecretDeleteParams{AccountID: acct})
	edgetest.WantAPIError(t, err, 400, 10215)
}
