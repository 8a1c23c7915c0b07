package runtime

import "encoding/json"

// Snapshot is what the local edge serves: every script with an active deployment. Apply makes
// the running Workers match it. It is sent to the Node program as JSON.
type Snapshot struct {
	Scripts []Script `json:"scripts"`
}

// Script is one deployed Worker script.
type Script struct {
	Name string `json:"name"`
	// Versions holds every version the deployment references (at least those).
	Versions []Version `json:"versions"`
	// Deployment is the active deployment: one or two versions with their percentages
	// (summing to 100; a version may have 0 %, reachable only through a version override).
	Deployment []Split `json:"deployment"`
	// DOClasses are the Durable Object classes the script implements (the namespaces its
	// migrations created). They run in the Worker of the deployment's largest version.
	DOClasses []DOClass `json:"doClasses,omitempty"`
}

// Split is one entry of a deployment.
type Split struct {
	VersionID  string  `json:"versionId"`
	Percentage float64 `json:"percentage"`
}

// DOClass is a Durable Object class of a script.
type DOClass struct {
	Class string `json:"class"`
	// SQLite is true for a SQLite-backed class (new_sqlite_classes).
	SQLite bool `json:"sqlite,omitempty"`
	// NamespaceID, when set, keys the class's storage, so that objects keep their state when
	// the class is renamed or moves to another script; otherwise "<script>-<class>" does.
	NamespaceID string `json:"namespaceId,omitempty"`
}

// Version is one immutable version of a script.
type Version struct {
	ID string `json:"id"`
	// MainModule names the module among Modules that is the entry point.
	MainModule string `json:"mainModule"`
	// ServiceWorker marks service-worker syntax (a body_part upload): MainModule is then run as
	// a classic script, not as an ES module.
	ServiceWorker      bool      `json:"serviceWorker,omitempty"`
	Modules            []Module  `json:"modules"`
	CompatibilityDate  string    `json:"compatibilityDate,omitempty"`
	CompatibilityFlags []string  `json:"compatibilityFlags,omitempty"`
	Bindings           []Binding `json:"bindings,omitempty"`
}

// Module is one module of a version. ContentType is the upload's part type:
// application/javascript+module (ES module), application/javascript (CommonJS),
// application/wasm, text/plain or application/octet-stream.
type Module struct {
	Name        string `json:"name"`
	ContentType string `json:"contentType"`
	Content     []byte `json:"content"`
}

// Binding types the runtime supports; others are left out with a note in the log.
const (
	BindingPlainText     = "plain_text"
	BindingSecretText    = "secret_text"
	BindingJSON          = "json"
	BindingKVNamespace   = "kv_namespace"
	BindingR2Bucket      = "r2_bucket"
	BindingDurableObject = "durable_object_namespace"
	BindingService       = "service"
	BindingRateLimit     = "ratelimit"
)

// Binding is one binding of a version, with the fields of its type:
//
//	plain_text, secret_text   Text
//	json                      JSON
//	kv_namespace              NamespaceID
//	r2_bucket                 BucketName, Jurisdiction ("" or "default" for the default one)
//	durable_object_namespace  ClassName, ScriptName ("" for the same script)
//	service                   Service (target script), Entrypoint (named entrypoint, optional)
//	ratelimit                 NamespaceID, Limit, Period (10 or 60 seconds)
type Binding struct {
	Type         string          `json:"type"`
	Name         string          `json:"name"`
	Text         string          `json:"text,omitempty"`
	JSON         json.RawMessage `json:"json,omitempty"`
	NamespaceID  string          `json:"namespaceId,omitempty"`
	BucketName   string          `json:"bucketName,omitempty"`
	Jurisdiction string          `json:"jurisdiction,omitempty"`
	ClassName    string          `json:"className,omitempty"`
	ScriptName   string          `json:"scriptName,omitempty"`
	Service      string          `json:"service,omitempty"`
	Entrypoint   string          `json:"entrypoint,omitempty"`
	Limit        int64           `json:"limit,omitempty"`
	Period       int64           `json:"period,omitempty"`
}
