package workers_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	cloudflare "github.com/cloudflare/cloudflare-go/v7"
	cfworkers "github.com/cloudflare/cloudflare-go/v7/workers"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

func servicePath(name string) string {
	return "/accounts/" + edgetest.AccountID + "/workers/services/" + name
}

// result decodes a successful envelope's result.
func result(t *testing.T, status int, body []byte, out any) {
	t.Helper()
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	var env struct {
		Success bool            `json:"success"`
		Result  json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(body, &env); err != nil || !env.Success {
		t.Fatalf("envelope %s: %v", body, err)
	}
	if err := json.Unmarshal(env.Result, out); err != nil {
		t.Fatalf("result %s: %v", env.Result, err)
	}
}

// wantError asserts a failed envelope with the status and Cloudflare code.
func wantError(t *testing.T, status int, body []byte, wantStatus, code int) {
	t.Helper()
	var env struct {
		Success bool `json:"success"`
		Errors  []struct {
			Code int `json:"code"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &env); err != nil || status != wantStatus || env.Success || len(env.Errors) == 0 || env.Errors[0].Code != code {
		t.Fatalf("want %d/%d, got %d %s", wantStatus, code, status, body)
	}
}

func TestWorkersServiceGetAndDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	status, _, body := e.Raw(http.MethodGet, servicePath("svc"), nil, nil)
	wantError(t, status, body, http.StatusNotFound, 10090)
	status, _, body = e.Raw(http.MethodDelete, servicePath("svc"), nil, nil)
	wantError(t, status, body, http.StatusNotFound, 10090)

	up := e.mustUpload("svc", cfworkers.ScriptUpdateParamsMetadata{CompatibilityDate: cloudflare.F("2025-01-01")})
	var svc struct {
		ID                 string `json:"id"`
		DefaultEnvironment struct {
			Environment string         `json:"environment"`
			ScriptTag   string         `json:"script_tag"`
			Script      map[string]any `json:"script"`
		} `json:"default_environment"`
		Environments []struct {
			Environment string `json:"environment"`
		} `json:"environments"`
	}
	status, _, body = e.Raw(http.MethodGet, servicePath("svc"), nil, nil)
	result(t, status, body, &svc)
	script := svc.DefaultEnvironment.Script
	if svc.ID != "svc" || svc.DefaultEnvironment.Environment != "production" || svc.DefaultEnvironment.ScriptTag != up.Tag ||
		len(svc.Environments) != 1 || svc.Environments[0].Environment != "production" {
		t.Fatalf("service = %s", body)
	}
	// The script is the full script object, with the empty placement the API always has.
	if script["id"] != "svc" || script["tag"] != up.Tag || script["etag"] != up.Etag || script["compatibility_date"] != "2025-01-01" ||
		script["last_deployed_from"] != "api" || script["placement"] == nil || script["handlers"] == nil {
		t.Fatalf("default_environment.script = %v", script)
	}

	status, _, body = e.Raw(http.MethodDelete, servicePath("svc"), nil, nil)
	if status != http.StatusOK {
		t.Fatalf("DELETE service: %d %s", status, body)
	}
	if e.Server.ScriptExists("svc") {
		t.Fatal("the script outlived its service")
	}
}

// The official provider's Read: GET script settings and content decode into cloudflare-go's
// types, and the script list item carries the empty placement object.
func TestWorkersScriptReadShapes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustUpload("shape", cfworkers.ScriptUpdateParamsMetadata{CompatibilityDate: cloudflare.F("2025-01-01")})
	settings, err := e.workers.Scripts.ScriptAndVersionSettings.Get(e.ctx, "shape", cfworkers.ScriptScriptAndVersionSettingGetParams{AccountID: cloudflare.F(edgetest.AccountID)})
	if err != nil || settings.CompatibilityDate != "2025-01-01" {
		t.Fatalf("settings = %v, %v", settings, err)
	}
	list, err := e.workers.Scripts.List(e.ctx, cfworkers.ScriptListParams{AccountID: cloudflare.F(edgetest.AccountID)})
	if err != nil || len(list.Result) != 1 {
		t.Fatalf("list = %v, %v", list, err)
	}
	if raw := list.Result[0].JSON.RawJSON(); !strings.Contains(raw, `"placement":{}`) {
		t.Fatalf("script list item has no empty placement: %s", raw)
	}
}

func TestWorkersScriptRoutesPut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustUpload("r", cfworkers.ScriptUpdateParamsMetadata{})
	e.mustUpload("other", cfworkers.ScriptUpdateParamsMetadata{})
	header := http.Header{"Content-Type": {"application/json"}}
	put := func(body string) (int, []byte) {
		status, _, out := e.Raw(http.MethodPut, wScriptPath("r")+"/routes", header, strings.NewReader(body))
		return status, out
	}
	type route struct {
		ID, Pattern, Script string
		ZoneID              string `json:"zone_id"`
		ZoneName            string `json:"zone_name"`
	}
	var routes []route
	status, body := put(`[{"pattern":"a.example.com/*"},{"pattern":"shop.example.com/cart*","zone_name":"shop.example.com"}]`)
	result(t, status, body, &routes)
	if len(routes) != 2 || routes[0].ZoneID != edgetest.ZoneID || routes[1].ZoneID != shopZone || routes[1].ZoneName != shopZoneName || routes[0].Script != "r" || !hexID.MatchString(routes[0].ID) {
		t.Fatalf("routes = %+v", routes)
	}
	kept := routes[0].ID

	// PUT replaces the set: a.example.com stays (same id), the shop route goes.
	status, body = put(`[{"pattern":"a.example.com/*"},{"pattern":"b.example.com/*","zone_id":"` + edgetest.ZoneID + `"}]`)
	result(t, status, body, &routes)
	var listed []route
	status, _, body = e.Raw(http.MethodGet, "/zones/"+shopZone+"/workers/routes", nil, nil)
	result(t, status, body, &listed)
	if len(routes) != 2 || routes[0].ID != kept || len(listed) != 0 {
		t.Fatalf("after replacing: %+v, shop zone %+v", routes, listed)
	}

	// A pattern another script holds, or outside every zone, fails the whole request.
	if _, _, body := e.Raw(http.MethodPost, "/zones/"+edgetest.ZoneID+"/workers/routes", header, strings.NewReader(`{"pattern":"taken.example.com/*","script":"other"}`)); !strings.Contains(string(body), `"success":true`) {
		t.Fatalf("creating the other script's route: %s", body)
	}
	status, body = put(`[{"pattern":"taken.example.com/*"}]`)
	wantError(t, status, body, http.StatusBadRequest, 10020)
	status, body = put(`[{"pattern":"nowhere.test/*"}]`)
	wantError(t, status, body, http.StatusBadRequest, 10021)
	status, _, body = e.Raw(http.MethodGet, wScriptPath("r")+"/routes", nil, nil)
	result(t, status, body, &listed)
	if len(listed) != 2 {
		t.Fatalf("a failed PUT changed the routes: %+v", listed)
	}
	status, body = func() (int, []byte) {
		s, _, b := e.Raw(http.MethodPut, wScriptPath("missing")+"/routes", header, strings.NewReader(`[]`))
		return s, b
	}()
	wantError(t, status, body, http.StatusNotFound, 10007)
}

func TestWorkersScriptReferences(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustUpload("callee", cfworkers.ScriptUpdateParamsMetadata{})
	e.mustUpload("caller", wWithBindings(cfworkers.ScriptUpdateParamsMetadata{}, wBind("service", "CALLEE", func(b *cfworkers.ScriptUpdateParamsMetadataBinding) {
		b.Service = cloudflare.F("callee")
	})))
	var refs struct {
		Services struct {
			Incoming []struct{ Service, Environment string } `json:"incoming"`
		} `json:"services"`
		DurableObjects    []any `json:"durable_objects"`
		DispatchOutbounds []any `json:"dispatch_outbounds"`
	}
	status, _, body := e.Raw(http.MethodGet, wScriptPath("callee")+"/references", nil, nil)
	result(t, status, body, &refs)
	if len(refs.Services.Incoming) != 1 || refs.Services.Incoming[0].Service != "caller" || refs.Services.Incoming[0].Environment != "production" ||
		refs.DurableObjects == nil || refs.DispatchOutbounds == nil {
		t.Fatalf("references = %s", body)
	}
	status, _, body = e.Raw(http.MethodGet, wScriptPath("caller")+"/references", nil, nil)
	result(t, status, body, &refs)
	if len(refs.Services.Incoming) != 0 {
		t.Fatalf("caller's references = %s", body)
	}
	status, _, body = e.Raw(http.MethodGet, wScriptPath("nope")+"/references", nil, nil)
	wantError(t, status, body, http.StatusNotFound, 10007)
}

func TestWorkersSubdomainAvailability(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path := "/accounts/" + edgetest.AccountID + "/workers/subdomains/"
	status, _, body := e.Raw(http.MethodGet, path+"localedge", nil, nil) // the account's own
	wantError(t, status, body, http.StatusConflict, 10031)
	status, _, body = e.Raw(http.MethodGet, path+"free-name", nil, nil)
	wantError(t, status, body, http.StatusNotFound, 10032)
	status, _, body = e.Raw(http.MethodGet, path+"Bad_Name", nil, nil)
	wantError(t, status, body, http.StatusBadRequest, 10021)
}

// Versions and deployments carry their author and client; a deployment going back past a
// newer deployed version is a rollback, refused (10220) when secrets changed since, unless
// forced.
func TestWorkersRollback(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := cloudflare.F(edgetest.AccountID)
	e.mustUpload("rb", cfworkers.ScriptUpdateParamsMetadata{})
	header := http.Header{"Content-Type": {"application/json"}, "User-Agent": {"wrangler/4.60.0"}}
	deploy := func(query, version string) (int, []byte) {
		s, _, b := e.Raw(http.MethodPost, wScriptPath("rb")+"/deployments"+query, header,
			strings.NewReader(`{"strategy":"percentage","versions":[{"version_id":"`+version+`","percentage":100}]}`))
		return s, b
	}
	deps, err := e.workers.Scripts.Deployments.List(e.ctx, "rb", cfworkers.ScriptDeploymentListParams{AccountID: acct})
	if err != nil {
		t.Fatal(err)
	}
	first := deps.Deployments[0].Versions[0].VersionID
	if deps.Deployments[0].AuthorEmail != "developer@localedge.localhost" {
		t.Fatalf("deployment author = %q", deps.Deployments[0].AuthorEmail)
	}
	if _, err := e.workers.Scripts.Secrets.Update(e.ctx, "rb", cfworkers.ScriptSecretUpdateParams{
		AccountID: acct, Body: cfworkers.ScriptSecretUpdateParamsBodyWorkersBindingKindSecretText{Name: cloudflare.F("KEY"), Text: cloudflare.F("v"), Type: cloudflare.F(cfworkers.ScriptSecretUpdateParamsBodyWorkersBindingKindSecretTextTypeSecretText)},
	}); err != nil {
		t.Fatal(err)
	}
	status, body := deploy("", first)
	wantError(t, status, body, http.StatusBadRequest, 10220)
	if !strings.HasSuffix(strings.SplitN(string(body), `"message":"`, 2)[1], `The following secrets have changed: KEY"}],"messages":[],"result":null}`+"\n") {
		t.Fatalf("10220 does not end with the changed secrets: %s", body)
	}
	var d struct {
		Source      string            `json:"source"`
		AuthorEmail string            `json:"author_email"`
		Annotations map[string]string `json:"annotations"`
	}
	status, body = deploy("?force=true", first)
	result(t, status, body, &d)
	if d.Annotations["workers/triggered_by"] != "rollback" || d.Source != "wrangler" || d.AuthorEmail != "developer@localedge.localhost" {
		t.Fatalf("forced rollback = %s", body)
	}
	var svc struct {
		DefaultEnvironment struct {
			Script struct {
				LastDeployedFrom string `json:"last_deployed_from"`
			} `json:"script"`
		} `json:"default_environment"`
	}
	s, _, b := e.Raw(http.MethodGet, servicePath("rb"), nil, nil)
	result(t, s, b, &svc)
	if svc.DefaultEnvironment.Script.LastDeployedFrom != "wrangler" {
		t.Fatalf("last_deployed_from after wrangler's rollback: %s", b)
	}
	v, err := e.workers.Scripts.Versions.Get(e.ctx, "rb", first, cfworkers.ScriptVersionGetParams{AccountID: acct})
	if err != nil || v.Metadata.AuthorEmail != "developer@localedge.localhost" || v.Metadata.Source != "api" {
		t.Fatalf("version metadata = %+v, %v", v.Metadata, err)
	}
}
