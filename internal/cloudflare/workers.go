package cloudflare

import (
	"context"
	"encoding/json"
	"path"
	"strings"
	"time"
)

// WorkersAPI is every Workers operation the provider performs: scripts, versions,
// deployments, secrets, triggers, routing and Durable Object namespaces.
type WorkersAPI interface {
	UploadScript(ctx context.Context, upload ScriptUpload) (Script, error)
	GetScript(ctx context.Context, name string) (Script, error)
	ListScripts(ctx context.Context) ([]Script, error)
	GetScriptContent(ctx context.Context, name, versionID string) (ScriptContent, error)
	GetScriptSettings(ctx context.Context, name string) (ScriptSettings, error)
	EditScriptSettings(ctx context.Context, name string, patch ScriptSettingsPatch) (ScriptSettings, error)
	GetScriptLevelSettings(ctx context.Context, name string) (ScriptLevelSettings, error)
	EditScriptLevelSettings(ctx context.Context, name string, patch ScriptLevelSettingsPatch) (ScriptLevelSettings, error)
	DeleteScript(ctx context.Context, name string, force bool) error

	UploadVersion(ctx context.Context, upload VersionUpload) (Version, error)
	ListVersions(ctx context.Context, script string) ([]Version, error)
	GetVersion(ctx context.Context, script, versionID string) (Version, error)

	CreateDeployment(ctx context.Context, script string, versions []DeploymentVersion, message string, force bool) (Deployment, error)
	ListDeployments(ctx context.Context, script string) ([]Deployment, error)
	ActiveDeployment(ctx context.Context, script string) (Deployment, bool, error)

	PutSecret(ctx context.Context, script, name, text string) error
	ListSecrets(ctx context.Context, script string) ([]Secret, error)
	DeleteSecret(ctx context.Context, script, name string) error

	GetSchedules(ctx context.Context, script string) ([]string, error)
	SetSchedules(ctx context.Context, script string, crons []string) ([]string, error)

	GetAccountSubdomain(ctx context.Context) (string, error)
	GetScriptSubdomain(ctx context.Context, script string) (ScriptSubdomain, error)
	SetScriptSubdomain(ctx context.Context, script string, enabled, previewsEnabled bool) (ScriptSubdomain, error)

	ListRoutes(ctx context.Context, zoneID string) ([]Route, error)
	CreateRoute(ctx context.Context, zoneID, pattern, script string) (Route, error)
	UpdateRoute(ctx context.Context, zoneID, id, pattern, script string) (Route, error)
	DeleteRoute(ctx context.Context, zoneID, id string) error

	ListDomains(ctx context.Context, filter DomainFilter) ([]Domain, error)
	AttachDomain(ctx context.Context, hostname, service, zoneID string) (Domain, error)
	DeleteDomain(ctx context.Context, id string) error

	ListDONamespaces(ctx context.Context) ([]DONamespace, error)
}

var _ WorkersAPI = (*Client)(nil)

// Module is one part of a Worker's code.
type Module struct {
	Name string
	// ContentType is e.g. application/javascript+module or application/wasm; empty on upload
	// means "from the file extension" (see ModuleContentType).
	ContentType string
	Content     []byte
}

// Binding kinds the provider declares.
const (
	BindingPlainText     = "plain_text"
	BindingSecretText    = "secret_text"
	BindingJSON          = "json"
	BindingKVNamespace   = "kv_namespace"
	BindingR2Bucket      = "r2_bucket"
	BindingDurableObject = "durable_object_namespace"
	BindingService       = "service"
	BindingRateLimit     = "ratelimit"
	BindingWorkflow      = "workflow"
	BindingQueue         = "queue"
)

// Binding is one binding in the API's JSON shape; which fields apply depends on Type.
type Binding struct {
	Type string `json:"type"`
	Name string `json:"name"`
	// Text is the value of plain_text and secret_text. Secrets are read back without it; a
	// secret_text without Text in EditScriptSettings keeps the current value.
	Text string `json:"text,omitempty"`
	// JSON is the value of a json binding.
	JSON json.RawMessage `json:"json,omitempty"`
	// NamespaceID is the KV namespace (kv_namespace) or rate-limit namespace (ratelimit).
	NamespaceID  string `json:"namespace_id,omitempty"`
	BucketName   string `json:"bucket_name,omitempty"`
	Jurisdiction string `json:"jurisdiction,omitempty"`
	// ClassName and ScriptName name a Durable Object class; ScriptName is empty for a class of
	// the bound script itself.
	ClassName  string `json:"class_name,omitempty"`
	ScriptName string `json:"script_name,omitempty"`
	// Service and Entrypoint are the target of a service binding.
	Service     string `json:"service,omitempty"`
	Entrypoint  string `json:"entrypoint,omitempty"`
	Environment string `json:"environment,omitempty"`
	// Simple is the limit of a ratelimit binding.
	Simple *RateLimit `json:"simple,omitempty"`
	// WorkflowName is the Workflow of a workflow binding (ClassName and ScriptName say what
	// runs it).
	WorkflowName string `json:"workflow_name,omitempty"`
	// QueueName is the queue a queue binding (a producer) sends to.
	QueueName string `json:"queue_name,omitempty"`
}

// RateLimit is a ratelimit binding's limit: Limit requests per Period seconds (10 or 60).
type RateLimit struct {
	Limit  int64 `json:"limit"`
	Period int64 `json:"period"`
}

// MarshalJSON always sends plain_text's text: an empty variable is still a value, and the
// API requires the field.
func (b Binding) MarshalJSON() ([]byte, error) {
	type wire Binding
	out := struct {
		wire
		Text *string `json:"text,omitempty"`
	}{wire: wire(b)}
	if b.Text != "" || b.Type == BindingPlainText {
		out.Text = &b.Text
	}
	return json.Marshal(out)
}

// Migration is one Durable Object migration step guarded by tags.
type Migration struct {
	OldTag           string         `json:"old_tag,omitempty"`
	NewTag           string         `json:"new_tag,omitempty"`
	NewClasses       []string       `json:"new_classes,omitempty"`
	NewSqliteClasses []string       `json:"new_sqlite_classes,omitempty"`
	DeletedClasses   []string       `json:"deleted_classes,omitempty"`
	RenamedClasses   []RenamedClass `json:"renamed_classes,omitempty"`
}

// RenamedClass renames a Durable Object class, keeping its namespace and data.
type RenamedClass struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Observability is a script's Workers Logs setting.
type Observability struct {
	Enabled bool `json:"enabled"`
	// HeadSamplingRate is 0..1; nil leaves the API's default (1).
	HeadSamplingRate *float64 `json:"head_sampling_rate,omitempty"`
}

// Annotations label the version an upload creates.
type Annotations struct {
	Message string
	Tag     string
}

func (a Annotations) wire() map[string]string {
	out := map[string]string{}
	if a.Message != "" {
		out["workers/message"] = a.Message
	}
	if a.Tag != "" {
		out["workers/tag"] = a.Tag
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// ScriptUpload is a full upload (PUT script): code, configuration and an optional
// migration; it creates a version and deploys it at 100 %.
type ScriptUpload struct {
	Name               string
	MainModule         string
	Modules            []Module
	CompatibilityDate  string
	CompatibilityFlags []string
	// Bindings is the complete binding set (with secret values), except the types named in
	// KeepBindings, which are carried over from the previous version when not given.
	Bindings     []Binding
	KeepBindings []string
	Migration    *Migration
	UsageModel   string
	// CPUMs is the CPU time limit per request; 0 leaves it unset.
	CPUMs int64
	// Tags replace the script's tags (none when empty).
	Tags []string
	// Observability nil leaves the current setting.
	Observability *Observability
	Annotations   Annotations
}

// VersionUpload is a version upload (POST versions): code and version-level configuration
// only; it moves no traffic and cannot carry migrations or script-level settings.
type VersionUpload struct {
	Script             string
	MainModule         string
	Modules            []Module
	CompatibilityDate  string
	CompatibilityFlags []string
	Bindings           []Binding
	KeepBindings       []string
	UsageModel         string
	Annotations        Annotations
}

// NamedHandler is a class or entrypoint export and the handlers it implements.
type NamedHandler struct {
	Name     string   `json:"name"`
	Handlers []string `json:"handlers"`
}

// Script is a Worker script as uploaded or listed.
type Script struct {
	Name               string
	Tag                string
	Etag               string
	CreatedOn          time.Time
	ModifiedOn         time.Time
	MigrationTag       string
	UsageModel         string
	Tags               []string
	CompatibilityDate  string
	CompatibilityFlags []string
	Handlers           []string
	NamedHandlers      []NamedHandler
	HasModules         bool
	// Routes are the zone routes pointing at the script; only ListScripts and GetScript
	// fill them.
	Routes []Route
}

// ScriptContent is the code of a script's serving (or a given) version.
type ScriptContent struct {
	MainModule string
	Modules    []Module
}

// ScriptSettings are the settings of a script's serving version plus its script-level ones.
type ScriptSettings struct {
	// Bindings come back without secret values.
	Bindings           []Binding
	CompatibilityDate  string
	CompatibilityFlags []string
	CPUMs              int64
	UsageModel         string
	Tags               []string
	Observability      *Observability
	Logpush            bool
	Annotations        Annotations
	TriggeredBy        string
}

// ScriptSettingsPatch changes settings through PATCH settings, which creates a version and
// deploys it at 100 %. Nil and zero fields are left as they are; a non-nil empty slice
// clears.
type ScriptSettingsPatch struct {
	Bindings           []Binding
	KeepBindings       []string
	CompatibilityDate  string
	CompatibilityFlags []string
	CPUMs              int64
	UsageModel         string
	Tags               []string
	Observability      *Observability
	Logpush            *bool
	Migration          *Migration
	Annotations        Annotations
}

// ScriptLevelSettings are the settings that belong to the script, not to a version.
type ScriptLevelSettings struct {
	Logpush       bool
	Observability *Observability
	Tags          []string
}

// ScriptLevelSettingsPatch changes script-level settings without creating a version. Nil
// fields are left as they are; a non-nil empty Tags clears them.
type ScriptLevelSettingsPatch struct {
	Logpush       *bool
	Observability *Observability
	Tags          []string
}

// Version is an immutable Worker version. ListVersions fills only ID, Number, CreatedOn,
// Source and the annotations; MainModule is known only to UploadVersion (the API does not
// return it).
type Version struct {
	ID                 string
	Number             int64
	CreatedOn          time.Time
	Source             string
	Message            string
	Tag                string
	TriggeredBy        string
	MainModule         string
	Bindings           []Binding
	CompatibilityDate  string
	CompatibilityFlags []string
	UsageModel         string
	MigrationTag       string
	CPUMs              int64
	Handlers           []string
	Etag               string
}

// DeploymentVersion is one version of a deployment and its share of traffic.
type DeploymentVersion struct {
	VersionID  string
	Percentage float64
}

// Deployment splits a script's traffic between one or two versions.
type Deployment struct {
	ID          string
	CreatedOn   time.Time
	Source      string
	Message     string
	TriggeredBy string
	AuthorEmail string
	Versions    []DeploymentVersion
}

// Secret is a secret's name and type; values are never returned.
type Secret struct {
	Name string
	Type string
}

// ScriptSubdomain is whether a script is reachable on workers.dev.
type ScriptSubdomain struct {
	Enabled         bool
	PreviewsEnabled bool
}

// Route sends requests matching Pattern in a zone to Script (none: Workers off).
type Route struct {
	ID      string
	Pattern string
	Script  string
}

// Domain is a custom domain attached to a Worker.
type Domain struct {
	ID       string
	Hostname string
	Service  string
	ZoneID   string
	ZoneName string
}

// DomainFilter narrows ListDomains; empty fields match everything.
type DomainFilter struct {
	Service  string
	Hostname string
	ZoneID   string
}

// DONamespace is a Durable Object namespace, created by a migration.
type DONamespace struct {
	ID        string
	Name      string
	Script    string
	Class     string
	UseSQLite bool
}

// moduleTypes maps module file extensions to the content types the Workers API accepts.
var moduleTypes = map[string]string{
	".js":   "application/javascript+module",
	".mjs":  "application/javascript+module",
	".cjs":  "application/javascript",
	".py":   "text/x-python",
	".wasm": "application/wasm",
	".map":  "application/source-map",
	".txt":  "text/plain",
	".html": "text/plain",
	".sql":  "text/plain",
}

// ModuleContentType is the content type a module is uploaded with when Module.ContentType
// is empty, following wrangler's default module rules: ES module for .js/.mjs, CommonJS for
// .cjs, Wasm for .wasm, text for .txt/.html/.sql, else binary data.
func ModuleContentType(name string) string {
	if ct, ok := moduleTypes[strings.ToLower(path.Ext(name))]; ok {
		return ct
	}
	return "application/octet-stream"
}

// parseTime reads the API's RFC 3339 timestamps; anything else is the zero time, since a
// malformed timestamp must not fail a read.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// decodeRaw decodes an SDK object's raw JSON into one of our wire structs. The SDK's own
// types drop fields (version annotations) and model bindings as unions; the raw JSON is
// the API's answer as sent.
func decodeRaw(raw string, v any) error {
	if raw == "" {
		return nil
	}
	return json.Unmarshal([]byte(raw), v)
}

// rawObservability decodes an observability object; absent or null is nil.
func rawObservability(raw json.RawMessage) *Observability {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return nil
	}
	var o Observability
	if json.Unmarshal(raw, &o) != nil {
		return nil
	}
	return &o
}
