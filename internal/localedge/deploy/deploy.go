// Package deploy is what the local edge serves: the one description of deployed state that
// the workers product writes (Snapshot, built in one store transaction) and that the edge
// (routing, cron triggers) and the Workers runtime (Miniflare) read. It is sent to the
// runtime's Node program as JSON unchanged, bindings included in the API's own form.
package deploy

import "github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"

// Snapshot is every deployed script with how requests reach it.
type Snapshot struct {
	Scripts []Script `json:"scripts"`
	// Routes are zone route patterns; Domains are custom domains.
	Routes  []Route  `json:"routes,omitempty"`
	Domains []Domain `json:"domains,omitempty"`
	// WorkersSubdomain is the account's workers.dev subdomain ("" when none is registered):
	// <script>.<subdomain>.workers.dev reaches a script with WorkersDev on.
	WorkersSubdomain string `json:"workersSubdomain,omitempty"`
	// Workflows are the account's Workflows (the workflows product): each runs its class in
	// the Worker of its script, whether or not a Worker binds to it.
	Workflows []Workflow `json:"workflows,omitempty"`
}

// Workflow is a Workflow of the account: its name and the class and script that run it.
type Workflow struct {
	Name       string `json:"name"`
	ClassName  string `json:"className"`
	ScriptName string `json:"scriptName"`
}

// Script is one deployed Worker script.
type Script struct {
	Name string `json:"name"`
	// WorkersDev is on when the script is served on its workers.dev address.
	WorkersDev bool `json:"workersDev,omitempty"`
	// Crons are the script's cron triggers (five-field expressions).
	Crons []string `json:"crons,omitempty"`
	// Versions holds every version the deployment references.
	Versions []Version `json:"versions"`
	// Deployment is the active deployment: one or two versions with their percentages
	// (summing to 100; a version may have 0 %, reachable only through a version override).
	Deployment []Split `json:"deployment"`
	// Classes are the Durable Object classes the script implements (the namespaces its
	// migrations created). They run in the Worker of the deployment's largest version.
	Classes []Class `json:"classes,omitempty"`
}

// Split is one entry of a deployment.
type Split struct {
	VersionID  string  `json:"versionId"`
	Percentage float64 `json:"percentage"`
}

// Class is a Durable Object class of a script.
type Class struct {
	Class string `json:"class"`
	// SQLite is true for a SQLite-backed class (new_sqlite_classes).
	SQLite bool `json:"sqlite,omitempty"`
	// NamespaceID keys the class's storage, so that objects keep their state when the class is
	// renamed or moves to another script; empty means "<script>-<class>".
	NamespaceID string `json:"namespaceId,omitempty"`
}

// Version is one immutable version of a script.
type Version struct {
	ID string `json:"id"`
	// MainModule names the module among Modules that is the entry point.
	MainModule string `json:"mainModule"`
	// ServiceWorker marks service-worker syntax (a body_part upload): MainModule is then run as
	// a classic script, not as an ES module.
	ServiceWorker      bool     `json:"serviceWorker,omitempty"`
	Modules            []Module `json:"modules"`
	CompatibilityDate  string   `json:"compatibilityDate,omitempty"`
	CompatibilityFlags []string `json:"compatibilityFlags,omitempty"`
	// Bindings are the API's binding objects, secret values included (the runtime needs them).
	Bindings []api.Binding `json:"bindings,omitempty"`
}

// Module is one module of a version. ContentType is the upload's part type:
// application/javascript+module (ES module), application/javascript (CommonJS),
// application/wasm, text/plain or application/octet-stream.
type Module struct {
	Name        string `json:"name"`
	ContentType string `json:"contentType"`
	Content     []byte `json:"content"`
}

// Route is a zone route pattern and the script it runs ("" disables Workers on it).
type Route struct {
	Pattern  string `json:"pattern"`
	Script   string `json:"script"`
	ZoneName string `json:"zoneName"`
}

// Domain is a custom domain.
type Domain struct {
	Hostname string `json:"hostname"`
	Script   string `json:"script"`
}

// Single is a script whose one version serves all traffic.
func Single(name string, v Version) Script {
	return Script{Name: name, Versions: []Version{v}, Deployment: []Split{{VersionID: v.ID, Percentage: 100}}}
}

// HostVersion is the version whose Worker runs the script's Durable Object classes: the one
// with the highest percentage, the first on a tie.
func (s Script) HostVersion() string {
	best := Split{Percentage: -1}
	for _, d := range s.Deployment {
		if d.Percentage > best.Percentage {
			best = d
		}
	}
	return best.VersionID
}

// ScriptError is the runtime's verdict that a script cannot run: its message is the runtime's
// own (a syntax error and where, an uncaught exception at startup, a missing Durable Object
// class), which the API reports as Cloudflare does (10021).
type ScriptError struct{ Message string }

func (e *ScriptError) Error() string { return e.Message }
