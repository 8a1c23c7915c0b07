package workers

import (
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"

	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// maxUploadBytes bounds a multipart upload; more is Cloudflare's 10027.
const maxUploadBytes = 64 << 20

// moduleContentTypes are the part content types the upload endpoints accept.
var moduleContentTypes = map[string]bool{
	"application/javascript+module": true,
	"text/javascript+module":        true,
	"application/javascript":        true,
	"text/javascript":               true,
	"text/x-python":                 true,
	"text/x-python-requirement":     true,
	"application/wasm":              true,
	"text/plain":                    true,
	"application/octet-stream":      true,
	"application/source-map":        true,
}

// mainModuleTypes are the content types that can be a main module; anything else (such as
// the octet-stream an SDK reader without ContentType() produces) is a data module.
var mainModuleTypes = map[string]bool{
	"application/javascript+module": true,
	"text/javascript+module":        true,
	"application/javascript":        true,
	"text/javascript":               true,
	"text/x-python":                 true,
}

// uploadForm is a parsed multipart upload: the JSON document (metadata or settings) and the
// modules in the order received.
type uploadForm struct {
	doc     json.RawMessage
	modules []workerModule
}

func (f *uploadForm) module(name string) *workerModule {
	for i := range f.modules {
		if f.modules[i].Name == name {
			return &f.modules[i]
		}
	}
	return nil
}

// parseUploadForm reads a multipart body. The JSON document is either a part named docField
// holding JSON (wrangler, curl, the v6 SDK) or, as cloudflare-go v7 encodes it, one form field
// per leaf named "<docField>.<path>" (array items by index), which is rebuilt into JSON here.
// Every other part is a module named by its filename (else its form name).
func parseUploadForm(w http.ResponseWriter, r *http.Request, docField string) (*uploadForm, error) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" {
		return nil, api.Errorf(http.StatusBadRequest, 10026, "could not parse request body: expected multipart/form-data, got %q", r.Header.Get("Content-Type"))
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUploadBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, api.Errorf(http.StatusBadRequest, 10026, "could not parse request body: %v", err)
	}
	form := &uploadForm{}
	flat := map[string]string{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, uploadReadError(err)
		}
		content, err := io.ReadAll(part)
		if err != nil {
			return nil, uploadReadError(err)
		}
		// Parse the disposition ourselves: Part.FileName() drops directories ("lib/x.js").
		_, params, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
		name, filename := params["name"], params["filename"]
		switch {
		case name == docField && filename == "":
			form.doc = content
			continue
		case strings.HasPrefix(name, docField+".") && filename == "":
			flat[strings.TrimPrefix(name, docField+".")] = string(content)
			continue
		}
		modName := filename
		if modName == "" {
			modName = name
		}
		ct := part.Header.Get("Content-Type")
		if ct == "" {
			ct = "application/octet-stream"
		}
		if mt, _, err := mime.ParseMediaType(ct); err == nil {
			ct = mt
		}
		if !moduleContentTypes[ct] {
			return nil, api.Errorf(http.StatusBadRequest, 10021, "Unsupported content type %q for part %q", ct, modName)
		}
		if form.module(modName) != nil {
			return nil, api.Errorf(http.StatusBadRequest, 10021, "Duplicate module %q in the upload", modName)
		}
		form.modules = append(form.modules, workerModule{Name: modName, ContentType: ct, Content: content})
	}
	if form.doc == nil && len(flat) > 0 {
		raw, err := json.Marshal(unflatten(flat))
		if err != nil {
			return nil, err
		}
		form.doc = raw
	}
	return form, nil
}

func uploadReadError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return api.Errorf(http.StatusBadRequest, 10027, "Your Worker exceeded the size limit of %d bytes", maxUploadBytes)
	}
	return api.Errorf(http.StatusBadRequest, 10026, "could not parse request body: %v", err)
}

// Leaf keys whose flattened string values are booleans or numbers in the JSON document.
var (
	flatBoolKeys   = map[string]bool{"logpush": true, "keep_assets": true, "enabled": true, "invocation_logs": true, "persist": true, "run_worker_first": true, "previews_enabled": true, "serve_directly": true}
	flatNumberKeys = map[string]bool{"cpu_ms": true, "subrequests": true, "head_sampling_rate": true, "limit": true, "period": true, "delivery_delay": true, "percentage": true}
)

// unflatten rebuilds a JSON tree from "a.b.0.c" → value fields. Nodes whose keys are all
// indexes become arrays. Leaves are strings except for known boolean/number keys and the
// free-form value of a json binding.
func unflatten(flat map[string]string) any {
	root := map[string]any{}
	for path, value := range flat {
		segs := strings.Split(path, ".")
		node := root
		for i, seg := range segs {
			if i == len(segs)-1 {
				node[seg] = flatLeaf(segs, value)
				break
			}
			child, ok := node[seg].(map[string]any)
			if !ok {
				child = map[string]any{}
				node[seg] = child
			}
			node = child
		}
	}
	return arrayify(root)
}

func flatLeaf(segs []string, value string) any {
	key := segs[len(segs)-1]
	for _, s := range segs {
		if s == "json" && json.Valid([]byte(value)) {
			return json.RawMessage(value)
		}
	}
	if flatBoolKeys[key] && (value == "true" || value == "false") {
		return value == "true"
	}
	if flatNumberKeys[key] {
		if _, err := strconv.ParseFloat(value, 64); err == nil {
			return json.Number(value)
		}
	}
	return value
}

func arrayify(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	for k, c := range m {
		m[k] = arrayify(c)
	}
	if len(m) == 0 {
		return m
	}
	idx := make([]int, 0, len(m))
	for k := range m {
		n, err := strconv.Atoi(k)
		if err != nil || n < 0 {
			return m
		}
		idx = append(idx, n)
	}
	sort.Ints(idx)
	out := make([]any, 0, len(idx))
	for _, n := range idx {
		out = append(out, m[strconv.Itoa(n)])
	}
	return out
}

// uploadMetadata is the metadata of PUT script, POST versions and PUT content, and (without
// the module fields) the settings of PATCH settings.
type uploadMetadata struct {
	MainModule         string            `json:"main_module"`
	BodyPart           string            `json:"body_part"`
	CompatibilityDate  *string           `json:"compatibility_date"`
	CompatibilityFlags *[]string         `json:"compatibility_flags"`
	Bindings           *[]api.Binding    `json:"bindings"`
	KeepBindings       []string          `json:"keep_bindings"`
	Migrations         json.RawMessage   `json:"migrations"`
	Tags               *[]string         `json:"tags"`
	TailConsumers      json.RawMessage   `json:"tail_consumers"`
	UsageModel         *string           `json:"usage_model"`
	Limits             json.RawMessage   `json:"limits"`
	Placement          json.RawMessage   `json:"placement"`
	Observability      json.RawMessage   `json:"observability"`
	Logpush            *bool             `json:"logpush"`
	Annotations        map[string]string `json:"annotations"`
}

func decodeMetadata(doc json.RawMessage, part string) (*uploadMetadata, error) {
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil, api.Errorf(http.StatusBadRequest, 10021, "could not read content for part %s", part)
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var md uploadMetadata
	if err := dec.Decode(&md); err != nil {
		return nil, api.Errorf(http.StatusBadRequest, 10021, "could not read content for part %s: %v", part, err)
	}
	if md.UsageModel != nil {
		switch *md.UsageModel {
		case "standard", "bundled", "unbound":
		default:
			return nil, api.Errorf(http.StatusBadRequest, 10021, "Invalid usage_model %q: must be one of standard, bundled, unbound", *md.UsageModel)
		}
	}
	for k, v := range md.Annotations {
		switch k {
		case "workers/message":
			if len(v) > 1000 {
				md.Annotations[k] = v[:1000]
			}
		case "workers/tag":
			if len(v) > 100 {
				return nil, api.Errorf(http.StatusBadRequest, 10021, "annotation workers/tag must be at most 100 bytes")
			}
		case "workers/alias":
		default:
			delete(md.Annotations, k)
		}
	}
	return &md, nil
}

// entrypoint checks main_module / body_part against the modules and returns which is set.
func (md *uploadMetadata) entrypoint(form *uploadForm) (main, body string, err error) {
	switch {
	case md.MainModule != "":
		m := form.module(md.MainModule)
		if m == nil {
			return "", "", api.Errorf(http.StatusBadRequest, 10021, "Uncaught Error: No such module %q.\n  at null.<anonymous> (main_module)", md.MainModule)
		}
		if !mainModuleTypes[m.ContentType] {
			return "", "", api.Errorf(http.StatusBadRequest, 10021, "main module %q has content type %q; a main module must be JavaScript (application/javascript+module) or Python", m.Name, m.ContentType)
		}
		return md.MainModule, "", nil
	case md.BodyPart != "":
		m := form.module(md.BodyPart)
		if m == nil {
			return "", "", api.Errorf(http.StatusBadRequest, 10021, "Uncaught Error: No such module %q.\n  at null.<anonymous> (body_part)", md.BodyPart)
		}
		if m.ContentType != "application/javascript" && m.ContentType != "text/javascript" {
			return "", "", api.Errorf(http.StatusBadRequest, 10021, "body part %q has content type %q; a service-worker script must be application/javascript", m.Name, m.ContentType)
		}
		return "", md.BodyPart, nil
	case len(form.modules) == 0:
		return "", "", api.Errorf(http.StatusBadRequest, 10021, "No modules were uploaded; at least one module referenced by main_module is required")
	default:
		return "", "", api.Errorf(http.StatusBadRequest, 10021, "metadata must name the entry module in main_module (or body_part for service-worker syntax)")
	}
}

// newVersionFrom builds the version of an upload from its metadata and modules.
func newVersionFrom(md *uploadMetadata, form *uploadForm, mainModule, bodyPart string, bindings []api.Binding) *workerVersion {
	v := &workerVersion{
		MainModule: mainModule, BodyPart: bodyPart, Modules: form.modules, Bindings: bindings,
		CompatibilityDate: "2021-11-02", CompatibilityFlags: []string{}, UsageModel: "standard",
		Annotations: map[string]string{},
	}
	applyRuntime(v, md)
	for k, val := range md.Annotations {
		v.Annotations[k] = val
	}
	return v
}

// applyRuntime copies the version-level settings present in md onto v.
func applyRuntime(v *workerVersion, md *uploadMetadata) {
	if md.CompatibilityDate != nil {
		v.CompatibilityDate = *md.CompatibilityDate
	}
	if md.CompatibilityFlags != nil {
		v.CompatibilityFlags = *md.CompatibilityFlags
	}
	if md.UsageModel != nil {
		v.UsageModel = *md.UsageModel
	}
	if len(md.Limits) > 0 {
		v.Limits = nullToEmpty(md.Limits)
	}
	if len(md.Placement) > 0 {
		v.Placement = nullToEmpty(md.Placement)
	}
}

// applyScriptSettings copies the script-level settings present in md onto sc.
func applyScriptSettings(sc *workerScript, md *uploadMetadata) {
	if md.Logpush != nil {
		sc.Logpush = *md.Logpush
	}
	if md.Tags != nil {
		sc.Tags = *md.Tags
	}
	if len(md.TailConsumers) > 0 {
		sc.TailConsumers = nullToEmpty(md.TailConsumers)
	}
	if len(md.Observability) > 0 {
		sc.Observability = nullToEmpty(md.Observability)
	}
}

func nullToEmpty(r json.RawMessage) json.RawMessage {
	if string(bytes.TrimSpace(r)) == "null" {
		return nil
	}
	return r
}

func validCompatDate(md *uploadMetadata) error {
	if md.CompatibilityDate == nil {
		return nil
	}
	d := *md.CompatibilityDate
	if len(d) != 10 || d[4] != '-' || d[7] != '-' {
		return api.Errorf(http.StatusBadRequest, 10021, "Invalid compatibility_date %q: expected YYYY-MM-DD", d)
	}
	for i, c := range d {
		if i != 4 && i != 7 && (c < '0' || c > '9') {
			return api.Errorf(http.StatusBadRequest, 10021, "Invalid compatibility_date %q: expected YYYY-MM-DD", d)
		}
	}
	return nil
}

// upload is a parsed script or version upload: its form, metadata and entry point.
type upload struct {
	form                 *uploadForm
	md                   *uploadMetadata
	mainModule, bodyPart string
	// strictInherit is bindings_inherit=strict: an inherit binding with nothing to inherit
	// fails instead of being dropped.
	strictInherit bool
}

// readUpload parses and checks the parts common to PUT script and POST versions.
func readUpload(w http.ResponseWriter, r *http.Request) (*upload, error) {
	form, err := parseUploadForm(w, r, "metadata")
	if err != nil {
		return nil, err
	}
	md, err := decodeMetadata(form.doc, "metadata")
	if err != nil {
		return nil, err
	}
	up := &upload{form: form, md: md, strictInherit: r.URL.Query().Get("bindings_inherit") == "strict"}
	if up.mainModule, up.bodyPart, err = md.entrypoint(form); err != nil {
		return nil, err
	}
	if err := validCompatDate(md); err != nil {
		return nil, err
	}
	return up, nil
}

// version resolves and validates the upload's bindings against the previous version (nil for
// a new script) and returns the new, not yet stored, version.
func (s *Workers) version(tx *api.Tx, script string, up *upload, prev *workerVersion) (*workerVersion, error) {
	req := bindingRequest{keep: up.md.KeepBindings, strictInherit: up.strictInherit}
	if up.md.Bindings != nil {
		req.given = *up.md.Bindings
	}
	bindings, err := req.resolve(tx, script, prev)
	if err != nil {
		return nil, err
	}
	v := newVersionFrom(up.md, up.form, up.mainModule, up.bodyPart, bindings)
	if err := s.validateBindings(tx, script, v); err != nil {
		return nil, err
	}
	return v, nil
}
