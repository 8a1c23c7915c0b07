package cloudflare

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"

	cf "github.com/cloudflare/cloudflare-go/v7"
	"github.com/cloudflare/cloudflare-go/v7/option"
	"github.com/cloudflare/cloudflare-go/v7/workers"
)

// versionsPerPage is the page size of ListVersions, the API's maximum.
const versionsPerPage = 100

// scriptWire is the script object of PUT script and of the script list.
type scriptWire struct {
	ID                 string         `json:"id"`
	Tag                string         `json:"tag"`
	Etag               string         `json:"etag"`
	CreatedOn          string         `json:"created_on"`
	ModifiedOn         string         `json:"modified_on"`
	MigrationTag       string         `json:"migration_tag"`
	UsageModel         string         `json:"usage_model"`
	Tags               []string       `json:"tags"`
	CompatibilityDate  string         `json:"compatibility_date"`
	CompatibilityFlags []string       `json:"compatibility_flags"`
	Handlers           []string       `json:"handlers"`
	NamedHandlers      []NamedHandler `json:"named_handlers"`
	HasModules         bool           `json:"has_modules"`
	Routes             []struct {
		ID      string `json:"id"`
		Pattern string `json:"pattern"`
		Script  string `json:"script"`
	} `json:"routes"`
}

func (w scriptWire) script() Script {
	s := Script{
		Name: w.ID, Tag: w.Tag, Etag: w.Etag, CreatedOn: parseTime(w.CreatedOn), ModifiedOn: parseTime(w.ModifiedOn),
		MigrationTag: w.MigrationTag, UsageModel: w.UsageModel, Tags: w.Tags, CompatibilityDate: w.CompatibilityDate,
		CompatibilityFlags: w.CompatibilityFlags, Handlers: w.Handlers, NamedHandlers: w.NamedHandlers, HasModules: w.HasModules,
	}
	for _, r := range w.Routes {
		s.Routes = append(s.Routes, Route(r))
	}
	return s
}

// uploadMetadata is the `metadata` JSON of PUT script and POST versions.
type uploadMetadata struct {
	MainModule         string            `json:"main_module"`
	CompatibilityDate  string            `json:"compatibility_date,omitempty"`
	CompatibilityFlags []string          `json:"compatibility_flags"`
	Bindings           []Binding         `json:"bindings"`
	KeepBindings       []string          `json:"keep_bindings,omitempty"`
	Migrations         *Migration        `json:"migrations,omitempty"`
	UsageModel         string            `json:"usage_model,omitempty"`
	Limits             *limitsWire       `json:"limits,omitempty"`
	Tags               *[]string         `json:"tags,omitempty"`
	Observability      *Observability    `json:"observability,omitempty"`
	Annotations        map[string]string `json:"annotations,omitempty"`
}

type limitsWire struct {
	CPUMs int64 `json:"cpu_ms"`
}

func cpuLimit(ms int64) *limitsWire {
	if ms <= 0 {
		return nil
	}
	return &limitsWire{CPUMs: ms}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// multipartBody builds an upload body the way wrangler does: one part per module, named by
// the module and carrying it as filename (the API resolves main_module by filename) with its
// content type (without one a module is binary data), then the JSON document (metadata or
// settings) as one application/json part.
//
// The body is built here and sent with option.WithRequestBody because cloudflare-go v7's
// form encoder would flatten the document into one field per leaf ("metadata.bindings.0.name"),
// losing types and empty lists, and its cf.Raw escape hatch races between concurrent
// requests (apiform's field encoder mutates its shared encoder).
func multipartBody(docField string, doc any, modules []Module) (string, []byte, error) {
	raw, err := json.Marshal(doc)
	if err != nil {
		return "", nil, err
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, m := range modules {
		ct := m.ContentType
		if ct == "" {
			ct = ModuleContentType(m.Name)
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%s; filename=%s`, quoteParam(m.Name), quoteParam(m.Name)))
		h.Set("Content-Type", ct)
		pw, err := mw.CreatePart(h)
		if err != nil {
			return "", nil, err
		}
		if _, err := pw.Write(m.Content); err != nil {
			return "", nil, err
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%s`, quoteParam(docField)))
	h.Set("Content-Type", "application/json")
	pw, err := mw.CreatePart(h)
	if err != nil {
		return "", nil, err
	}
	if _, err := pw.Write(raw); err != nil {
		return "", nil, err
	}
	if err := mw.Close(); err != nil {
		return "", nil, err
	}
	return mw.FormDataContentType(), buf.Bytes(), nil
}

// quoteParam quotes a Content-Disposition parameter as mime/multipart does.
func quoteParam(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// UploadScript uploads a script's code and configuration, applies its migration and deploys
// the new version at 100 %.
func (c *Client) UploadScript(ctx context.Context, upload ScriptUpload) (Script, error) {
	op := fmt.Sprintf("uploading Worker %q", upload.Name)
	tags := nonNil(upload.Tags)
	ct, body, err := multipartBody("metadata", uploadMetadata{
		MainModule: upload.MainModule, CompatibilityDate: upload.CompatibilityDate,
		CompatibilityFlags: nonNil(upload.CompatibilityFlags), Bindings: nonNil(upload.Bindings),
		KeepBindings: upload.KeepBindings, Migrations: upload.Migration, UsageModel: upload.UsageModel,
		Limits: cpuLimit(upload.CPUMs), Tags: &tags, Observability: upload.Observability,
		Annotations: upload.Annotations.wire(),
	}, upload.Modules)
	if err != nil {
		return Script{}, wrap(op, err)
	}
	res, err := c.workers.Scripts.Update(ctx, escape(upload.Name), workers.ScriptUpdateParams{AccountID: cf.F(c.accountID)},
		option.WithRequestBody(ct, body))
	if err != nil {
		return Script{}, wrap(op, err)
	}
	var w scriptWire
	if err := decodeRaw(res.JSON.RawJSON(), &w); err != nil {
		return Script{}, wrap(op, err)
	}
	if w.ID == "" {
		w.ID = upload.Name
	}
	return w.script(), nil
}

// ListScripts lists every script of the account with its routes.
func (c *Client) ListScripts(ctx context.Context) ([]Script, error) {
	page, err := c.workers.Scripts.List(ctx, workers.ScriptListParams{AccountID: cf.F(c.accountID)})
	if err != nil {
		return nil, wrap("listing Workers", err)
	}
	out := make([]Script, 0, len(page.Result))
	for _, item := range page.Result {
		var w scriptWire
		if err := decodeRaw(item.JSON.RawJSON(), &w); err != nil {
			return nil, wrap("listing Workers", err)
		}
		out = append(out, w.script())
	}
	return out, nil
}

// GetScript reads one script from the list: the API has no single-script metadata read.
func (c *Client) GetScript(ctx context.Context, name string) (Script, error) {
	op := fmt.Sprintf("reading Worker %q", name)
	scripts, err := c.ListScripts(ctx)
	if err != nil {
		return Script{}, wrap(op, err)
	}
	for _, s := range scripts {
		if s.Name == name {
			return s, nil
		}
	}
	return Script{}, &Error{Kind: KindNotFound, Op: op, Status: http.StatusNotFound, Code: 10007, Message: "This Worker does not exist on your account."}
}

// GetScriptContent downloads the modules of the serving version, or of versionID when given.
func (c *Client) GetScriptContent(ctx context.Context, name, versionID string) (ScriptContent, error) {
	op := fmt.Sprintf("downloading the code of Worker %q", name)
	var opts []option.RequestOption
	if versionID != "" {
		op = fmt.Sprintf("downloading the code of version %s of Worker %q", versionID, name)
		opts = append(opts, option.WithQuery("version", versionID))
	}
	res, err := c.workers.Scripts.Content.Get(ctx, escape(name), workers.ScriptContentGetParams{AccountID: cf.F(c.accountID)}, opts...)
	if err != nil {
		return ScriptContent{}, wrap(op, err)
	}
	defer res.Body.Close()
	content, err := readModules(res)
	return content, wrap(op, err)
}

// readModules parses the content response: a multipart form with one part per module
// (named by its filename) and the main module in the cf-entrypoint header; a
// service-worker script comes back as the bare script.
func readModules(res *http.Response) (ScriptContent, error) {
	out := ScriptContent{MainModule: res.Header.Get("cf-entrypoint")}
	mediaType, params, err := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" {
		body, err := io.ReadAll(res.Body)
		if err != nil {
			return ScriptContent{}, err
		}
		if out.MainModule == "" {
			out.MainModule = "worker.js"
		}
		out.Modules = []Module{{Name: out.MainModule, ContentType: mediaType, Content: body}}
		return out, nil
	}
	mr := multipart.NewReader(res.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return ScriptContent{}, fmt.Errorf("reading the multipart response: %w", err)
		}
		body, err := io.ReadAll(part)
		if err != nil {
			return ScriptContent{}, fmt.Errorf("reading the multipart response: %w", err)
		}
		// Parse the disposition here: Part.FileName drops directories ("lib/util.js").
		_, disp, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
		name := disp["filename"]
		if name == "" {
			name = disp["name"]
		}
		ct := part.Header.Get("Content-Type")
		if mt, _, err := mime.ParseMediaType(ct); err == nil {
			ct = mt
		}
		out.Modules = append(out.Modules, Module{Name: name, ContentType: ct, Content: body})
	}
	if out.MainModule == "" && len(out.Modules) > 0 {
		// Without the header the main module is the first part, as the API sends it.
		out.MainModule = out.Modules[0].Name
	}
	return out, nil
}

// settingsWire is the settings object of GET/PATCH settings.
type settingsWire struct {
	Annotations        map[string]string `json:"annotations"`
	Bindings           []Binding         `json:"bindings"`
	CompatibilityDate  string            `json:"compatibility_date"`
	CompatibilityFlags []string          `json:"compatibility_flags"`
	Limits             *limitsWire       `json:"limits"`
	Logpush            bool              `json:"logpush"`
	Observability      json.RawMessage   `json:"observability"`
	Tags               []string          `json:"tags"`
	UsageModel         string            `json:"usage_model"`
}

func (w settingsWire) settings() ScriptSettings {
	s := ScriptSettings{
		Bindings: w.Bindings, CompatibilityDate: w.CompatibilityDate, CompatibilityFlags: w.CompatibilityFlags,
		UsageModel: w.UsageModel, Tags: w.Tags, Observability: rawObservability(w.Observability), Logpush: w.Logpush,
		Annotations: Annotations{Message: w.Annotations["workers/message"], Tag: w.Annotations["workers/tag"]},
		TriggeredBy: w.Annotations["workers/triggered_by"],
	}
	if w.Limits != nil {
		s.CPUMs = w.Limits.CPUMs
	}
	return s
}

// GetScriptSettings reads the settings of the serving version.
func (c *Client) GetScriptSettings(ctx context.Context, name string) (ScriptSettings, error) {
	op := fmt.Sprintf("reading the settings of Worker %q", name)
	res, err := c.workers.Scripts.ScriptAndVersionSettings.Get(ctx, escape(name), workers.ScriptScriptAndVersionSettingGetParams{AccountID: cf.F(c.accountID)})
	if err != nil {
		return ScriptSettings{}, wrap(op, err)
	}
	var w settingsWire
	if err := decodeRaw(res.JSON.RawJSON(), &w); err != nil {
		return ScriptSettings{}, wrap(op, err)
	}
	return w.settings(), nil
}

// EditScriptSettings changes settings without new code; the API makes a version of it and
// deploys it at 100 %.
func (c *Client) EditScriptSettings(ctx context.Context, name string, patch ScriptSettingsPatch) (ScriptSettings, error) {
	op := fmt.Sprintf("changing the settings of Worker %q", name)
	doc := map[string]any{}
	if patch.Bindings != nil {
		doc["bindings"] = patch.Bindings
	}
	if len(patch.KeepBindings) > 0 {
		doc["keep_bindings"] = patch.KeepBindings
	}
	if patch.CompatibilityDate != "" {
		doc["compatibility_date"] = patch.CompatibilityDate
	}
	if patch.CompatibilityFlags != nil {
		doc["compatibility_flags"] = patch.CompatibilityFlags
	}
	if l := cpuLimit(patch.CPUMs); l != nil {
		doc["limits"] = l
	}
	if patch.UsageModel != "" {
		doc["usage_model"] = patch.UsageModel
	}
	if patch.Tags != nil {
		doc["tags"] = patch.Tags
	}
	if patch.Observability != nil {
		doc["observability"] = patch.Observability
	}
	if patch.Logpush != nil {
		doc["logpush"] = *patch.Logpush
	}
	if patch.Migration != nil {
		doc["migrations"] = patch.Migration
	}
	if a := patch.Annotations.wire(); a != nil {
		doc["annotations"] = a
	}
	// PATCH settings is multipart too: one application/json part named settings.
	ct, body, err := multipartBody("settings", doc, nil)
	if err != nil {
		return ScriptSettings{}, wrap(op, err)
	}
	res, err := c.workers.Scripts.ScriptAndVersionSettings.Edit(ctx, escape(name), workers.ScriptScriptAndVersionSettingEditParams{AccountID: cf.F(c.accountID)},
		option.WithRequestBody(ct, body))
	if err != nil {
		return ScriptSettings{}, wrap(op, err)
	}
	var w settingsWire
	if err := decodeRaw(res.JSON.RawJSON(), &w); err != nil {
		return ScriptSettings{}, wrap(op, err)
	}
	return w.settings(), nil
}

type scriptLevelWire struct {
	Logpush       bool            `json:"logpush"`
	Observability json.RawMessage `json:"observability"`
	Tags          []string        `json:"tags"`
}

func (w scriptLevelWire) settings() ScriptLevelSettings {
	return ScriptLevelSettings{Logpush: w.Logpush, Observability: rawObservability(w.Observability), Tags: w.Tags}
}

// GetScriptLevelSettings reads the settings that belong to the script (logpush,
// observability, tags).
func (c *Client) GetScriptLevelSettings(ctx context.Context, name string) (ScriptLevelSettings, error) {
	op := fmt.Sprintf("reading the script settings of Worker %q", name)
	res, err := c.workers.Scripts.Settings.Get(ctx, escape(name), workers.ScriptSettingGetParams{AccountID: cf.F(c.accountID)})
	if err != nil {
		return ScriptLevelSettings{}, wrap(op, err)
	}
	var w scriptLevelWire
	if err := decodeRaw(res.JSON.RawJSON(), &w); err != nil {
		return ScriptLevelSettings{}, wrap(op, err)
	}
	return w.settings(), nil
}

// EditScriptLevelSettings changes script-level settings in place: no version is created and
// no traffic moves, so it is safe during a managed rollout.
func (c *Client) EditScriptLevelSettings(ctx context.Context, name string, patch ScriptLevelSettingsPatch) (ScriptLevelSettings, error) {
	op := fmt.Sprintf("changing the script settings of Worker %q", name)
	var setting workers.ScriptSettingParam
	if patch.Logpush != nil {
		setting.Logpush = cf.F(*patch.Logpush)
	}
	if patch.Tags != nil {
		setting.Tags = cf.F(patch.Tags)
	}
	if o := patch.Observability; o != nil {
		obs := workers.ScriptSettingObservabilityParam{Enabled: cf.F(o.Enabled)}
		if o.HeadSamplingRate != nil {
			obs.HeadSamplingRate = cf.F(*o.HeadSamplingRate)
		}
		setting.Observability = cf.F(obs)
	}
	res, err := c.workers.Scripts.Settings.Edit(ctx, escape(name), workers.ScriptSettingEditParams{AccountID: cf.F(c.accountID), ScriptSetting: setting})
	if err != nil {
		return ScriptLevelSettings{}, wrap(op, err)
	}
	var w scriptLevelWire
	if err := decodeRaw(res.JSON.RawJSON(), &w); err != nil {
		return ScriptLevelSettings{}, wrap(op, err)
	}
	return w.settings(), nil
}

// DeleteScript deletes a script with its versions, routes and custom domains. force is
// needed when it implements Durable Objects (their namespaces and data go too) or other
// scripts bind to it.
func (c *Client) DeleteScript(ctx context.Context, name string, force bool) error {
	params := workers.ScriptDeleteParams{AccountID: cf.F(c.accountID)}
	if force {
		params.Force = cf.F(true)
	}
	_, err := c.workers.Scripts.Delete(ctx, escape(name), params)
	return wrap(fmt.Sprintf("deleting Worker %q", name), err)
}

// versionWire is a version as POST versions, GET version and the version list return it.
type versionWire struct {
	ID          string            `json:"id"`
	Number      int64             `json:"number"`
	Annotations map[string]string `json:"annotations"`
	Metadata    struct {
		CreatedOn string `json:"created_on"`
		Source    string `json:"source"`
	} `json:"metadata"`
	Resources struct {
		Bindings []Binding `json:"bindings"`
		Script   struct {
			Etag     string   `json:"etag"`
			Handlers []string `json:"handlers"`
		} `json:"script"`
		ScriptRuntime struct {
			CompatibilityDate  string      `json:"compatibility_date"`
			CompatibilityFlags []string    `json:"compatibility_flags"`
			Limits             *limitsWire `json:"limits"`
			MigrationTag       string      `json:"migration_tag"`
			UsageModel         string      `json:"usage_model"`
		} `json:"script_runtime"`
	} `json:"resources"`
}

func (w versionWire) version() Version {
	rt := w.Resources.ScriptRuntime
	v := Version{
		ID: w.ID, Number: w.Number, CreatedOn: parseTime(w.Metadata.CreatedOn), Source: w.Metadata.Source,
		Message: w.Annotations["workers/message"], Tag: w.Annotations["workers/tag"], TriggeredBy: w.Annotations["workers/triggered_by"],
		Bindings: w.Resources.Bindings, CompatibilityDate: rt.CompatibilityDate, CompatibilityFlags: rt.CompatibilityFlags,
		UsageModel: rt.UsageModel, MigrationTag: rt.MigrationTag, Handlers: w.Resources.Script.Handlers, Etag: w.Resources.Script.Etag,
	}
	if rt.Limits != nil {
		v.CPUMs = rt.Limits.CPUMs
	}
	return v
}

// UploadVersion uploads a version without deploying it: traffic stays where it is.
func (c *Client) UploadVersion(ctx context.Context, upload VersionUpload) (Version, error) {
	op := fmt.Sprintf("uploading a version of Worker %q", upload.Script)
	ct, body, err := multipartBody("metadata", uploadMetadata{
		MainModule: upload.MainModule, CompatibilityDate: upload.CompatibilityDate,
		CompatibilityFlags: nonNil(upload.CompatibilityFlags), Bindings: nonNil(upload.Bindings),
		KeepBindings: upload.KeepBindings, UsageModel: upload.UsageModel, Annotations: upload.Annotations.wire(),
	}, upload.Modules)
	if err != nil {
		return Version{}, wrap(op, err)
	}
	res, err := c.workers.Scripts.Versions.New(ctx, escape(upload.Script), workers.ScriptVersionNewParams{AccountID: cf.F(c.accountID)},
		option.WithRequestBody(ct, body))
	if err != nil {
		return Version{}, wrap(op, err)
	}
	var w versionWire
	if err := decodeRaw(res.JSON.RawJSON(), &w); err != nil {
		return Version{}, wrap(op, err)
	}
	v := w.version()
	v.MainModule = upload.MainModule
	return v, nil
}

// ListVersions lists a script's versions, newest first.
func (c *Client) ListVersions(ctx context.Context, script string) ([]Version, error) {
	return c.listVersions(ctx, script, versionsPerPage)
}

// listVersions requests page after page until an empty one. It never sets deployable, which
// makes the API ignore pagination (so an auto-pager would loop), and it stops as well on a
// page with nothing new, in case the API ever repeats one.
func (c *Client) listVersions(ctx context.Context, script string, perPage int64) ([]Version, error) {
	op := fmt.Sprintf("listing the versions of Worker %q", script)
	var out []Version
	seen := map[string]bool{}
	for page := int64(1); ; page++ {
		res, err := c.workers.Scripts.Versions.List(ctx, escape(script), workers.ScriptVersionListParams{
			AccountID: cf.F(c.accountID), Page: cf.F(page), PerPage: cf.F(perPage),
		})
		if err != nil {
			return nil, wrap(op, err)
		}
		fresh := 0
		for _, item := range res.Result.Items {
			var w versionWire
			if err := decodeRaw(item.JSON.RawJSON(), &w); err != nil {
				return nil, wrap(op, err)
			}
			if seen[w.ID] {
				continue
			}
			seen[w.ID] = true
			fresh++
			out = append(out, w.version())
		}
		if fresh == 0 {
			return out, nil
		}
	}
}

// GetVersion reads one version with its bindings and runtime settings.
func (c *Client) GetVersion(ctx context.Context, script, versionID string) (Version, error) {
	op := fmt.Sprintf("reading version %s of Worker %q", versionID, script)
	res, err := c.workers.Scripts.Versions.Get(ctx, escape(script), escape(versionID), workers.ScriptVersionGetParams{AccountID: cf.F(c.accountID)})
	if err != nil {
		return Version{}, wrap(op, err)
	}
	var w versionWire
	if err := decodeRaw(res.JSON.RawJSON(), &w); err != nil {
		return Version{}, wrap(op, err)
	}
	return w.version(), nil
}

func toDeployment(d *workers.Deployment) Deployment {
	out := Deployment{
		ID: d.ID, CreatedOn: d.CreatedOn, Source: d.Source, AuthorEmail: d.AuthorEmail,
		Message: d.Annotations.WorkersMessage, TriggeredBy: d.Annotations.WorkersTriggeredBy,
	}
	for _, v := range d.Versions {
		out.Versions = append(out.Versions, DeploymentVersion{VersionID: v.VersionID, Percentage: v.Percentage})
	}
	return out
}

// CreateDeployment splits traffic between one or two versions by percentage (summing to
// 100). force overrides the API's safety blocks, e.g. on rolling back past a secret change.
func (c *Client) CreateDeployment(ctx context.Context, script string, versions []DeploymentVersion, message string, force bool) (Deployment, error) {
	op := fmt.Sprintf("deploying Worker %q", script)
	vs := make([]workers.DeploymentVersionParam, 0, len(versions))
	for _, v := range versions {
		vs = append(vs, workers.DeploymentVersionParam{VersionID: cf.F(v.VersionID), Percentage: cf.F(v.Percentage)})
	}
	params := workers.ScriptDeploymentNewParams{
		AccountID:  cf.F(c.accountID),
		Deployment: workers.DeploymentParam{Strategy: cf.F(workers.DeploymentStrategyPercentage), Versions: cf.F(vs)},
	}
	if message != "" {
		params.Deployment.Annotations = cf.F(workers.DeploymentAnnotationsParam{WorkersMessage: cf.F(message)})
	}
	if force {
		params.Force = cf.F(true)
	}
	d, err := c.workers.Scripts.Deployments.New(ctx, escape(script), params)
	if err != nil {
		return Deployment{}, wrap(op, err)
	}
	return toDeployment(d), nil
}

// ListDeployments lists a script's deployments, the active one first.
func (c *Client) ListDeployments(ctx context.Context, script string) ([]Deployment, error) {
	res, err := c.workers.Scripts.Deployments.List(ctx, escape(script), workers.ScriptDeploymentListParams{AccountID: cf.F(c.accountID)})
	if err != nil {
		return nil, wrap(fmt.Sprintf("listing the deployments of Worker %q", script), err)
	}
	out := make([]Deployment, 0, len(res.Deployments))
	for i := range res.Deployments {
		out = append(out, toDeployment(&res.Deployments[i]))
	}
	return out, nil
}

// ActiveDeployment returns the deployment serving traffic; false when there is none.
func (c *Client) ActiveDeployment(ctx context.Context, script string) (Deployment, bool, error) {
	deps, err := c.ListDeployments(ctx, script)
	if err != nil || len(deps) == 0 {
		return Deployment{}, false, err
	}
	return deps[0], true, nil
}

// PutSecret creates or replaces a secret_text secret; the API deploys a new version with it.
// The value never appears in errors.
func (c *Client) PutSecret(ctx context.Context, script, name, text string) error {
	_, err := c.workers.Scripts.Secrets.Update(ctx, escape(script), workers.ScriptSecretUpdateParams{
		AccountID: cf.F(c.accountID),
		Body: workers.ScriptSecretUpdateParamsBodyWorkersBindingKindSecretText{
			Name: cf.F(name), Text: cf.F(text),
			Type: cf.F(workers.ScriptSecretUpdateParamsBodyWorkersBindingKindSecretTextTypeSecretText),
		},
	})
	return wrap(fmt.Sprintf("setting secret %q of Worker %q", name, script), err)
}

// ListSecrets lists the names and types of a script's secrets.
func (c *Client) ListSecrets(ctx context.Context, script string) ([]Secret, error) {
	page, err := c.workers.Scripts.Secrets.List(ctx, escape(script), workers.ScriptSecretListParams{AccountID: cf.F(c.accountID)})
	if err != nil {
		return nil, wrap(fmt.Sprintf("listing the secrets of Worker %q", script), err)
	}
	out := make([]Secret, 0, len(page.Result))
	for _, s := range page.Result {
		out = append(out, Secret{Name: s.Name, Type: string(s.Type)})
	}
	return out, nil
}

// DeleteSecret deletes a secret; the API deploys a new version without it.
func (c *Client) DeleteSecret(ctx context.Context, script, name string) error {
	_, err := c.workers.Scripts.Secrets.Delete(ctx, escape(script), escape(name), workers.ScriptSecretDeleteParams{
		AccountID: cf.F(c.accountID), URLEncoded: cf.F(true),
	})
	return wrap(fmt.Sprintf("deleting secret %q of Worker %q", name, script), err)
}
