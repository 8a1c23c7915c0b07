package workers

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/lazyregexp"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

// Bucket names of the Workers state. Keys of per-script buckets start with "<script>/" so a
// prefix scan lists one script's children; script names cannot contain "/".
const (
	bucketWorkerScripts     = "workers_scripts"     // script name → workerScript
	bucketWorkerVersions    = "workers_versions"    // "<script>/<number>" → workerVersion
	bucketWorkerVersionIDs  = "workers_version_ids" // "<script>/<version id>" → number
	bucketWorkerDeployments = "workers_deployments" // "<script>/<sequence>" → workerDeployment
	bucketDONamespaces      = "workers_do_namespaces"
	bucketWorkerRoutes      = "workers_routes"  // "<zone id>/<route id>" → workerRoute
	bucketWorkerDomains     = "workers_domains" // domain id → workerDomain
	bucketWorkerAccount     = "workers_account" // "subdomain" → workersSubdomain
)

// workersTimeFormat is the timestamp format of Workers responses (microseconds, as the API sends).
const workersTimeFormat = "2006-01-02T15:04:05.000000Z"

// workerScript is a script's script-level state; code, bindings and runtime settings live in
// its versions.
type workerScript struct {
	Name          string           `json:"name"`
	Tag           string           `json:"tag"`
	CreatedOn     time.Time        `json:"created_on"`
	ModifiedOn    time.Time        `json:"modified_on"`
	MigrationTag  string           `json:"migration_tag,omitempty"`
	Logpush       bool             `json:"logpush"`
	Observability json.RawMessage  `json:"observability,omitempty"`
	Tags          []string         `json:"tags,omitempty"`
	TailConsumers json.RawMessage  `json:"tail_consumers,omitempty"`
	Schedules     []workerSchedule `json:"schedules,omitempty"`
	Subdomain     scriptSubdomain  `json:"subdomain"`
	LastVersion   int              `json:"last_version"`
	LastDeploy    int              `json:"last_deploy"`
	// LastDeployedFrom is the client of the last deployment (see uploader).
	LastDeployedFrom string `json:"last_deployed_from,omitempty"`
}

type workerSchedule struct {
	Cron       string `json:"cron"`
	CreatedOn  string `json:"created_on"`
	ModifiedOn string `json:"modified_on"`
}

type scriptSubdomain struct {
	Enabled         bool `json:"enabled"`
	PreviewsEnabled bool `json:"previews_enabled"`
}

// workerModule is one uploaded part.
type workerModule struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Content     []byte `json:"content"`
}

// workerVersion is an immutable version: code, bindings (with secret values) and runtime.
type workerVersion struct {
	ID                 string            `json:"id"`
	Number             int               `json:"number"`
	CreatedOn          time.Time         `json:"created_on"`
	Source             string            `json:"source"`
	AuthorEmail        string            `json:"author_email,omitempty"`
	Annotations        map[string]string `json:"annotations"`
	MainModule         string            `json:"main_module,omitempty"`
	BodyPart           string            `json:"body_part,omitempty"`
	Modules            []workerModule    `json:"modules"`
	Bindings           []api.Binding     `json:"bindings"`
	CompatibilityDate  string            `json:"compatibility_date"`
	CompatibilityFlags []string          `json:"compatibility_flags"`
	UsageModel         string            `json:"usage_model"`
	Limits             json.RawMessage   `json:"limits,omitempty"`
	Placement          json.RawMessage   `json:"placement,omitempty"`
	MigrationTag       string            `json:"migration_tag,omitempty"`
	Handlers           []string          `json:"handlers"`
}

type deploymentVersion struct {
	VersionID  string  `json:"version_id"`
	Percentage float64 `json:"percentage"`
}

type workerDeployment struct {
	ID          string              `json:"id"`
	CreatedOn   string              `json:"created_on"`
	Source      string              `json:"source"`
	Strategy    string              `json:"strategy"`
	AuthorEmail string              `json:"author_email,omitempty"`
	Annotations map[string]string   `json:"annotations"`
	Versions    []deploymentVersion `json:"versions"`
}

var (
	scriptNameRE = lazyregexp.New(`^[A-Za-z]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$`)
	handlerRE    = lazyregexp.New(`\b(fetch|scheduled|queue|email|tail|trace)\s*[(:]|["'](fetch|scheduled|queue|email|tail|trace)["']`)
)

func validScriptName(name string) error {
	if !scriptNameRE.MatchString(name) {
		return api.Errorf(http.StatusBadRequest, 10016, "Invalid Worker name %q: names start with a letter, end with a letter or digit, contain only letters, digits, '-' and '_', and are at most 63 characters.", name)
	}
	return nil
}

func versionKey(script string, number int) string { return fmt.Sprintf("%s/%010d", script, number) }

func deploymentKey(script string, seq int) string { return fmt.Sprintf("%s/%010d", script, seq) }

// ofScript adapts fn to run on the script named by the request's path (Cloudflare's 10007
// when there is none), for api.View and api.Update.
func ofScript[T any](r *http.Request, fn func(tx *api.Tx, sc *workerScript) (T, error)) func(tx *api.Tx) (T, error) {
	return func(tx *api.Tx) (T, error) {
		sc, err := loadScript(tx, r.PathValue("script_name"))
		if err != nil {
			var zero T
			return zero, err
		}
		return fn(tx, sc)
	}
}

// loadScript returns the script or Cloudflare's 10007.
func loadScript(tx *api.Tx, name string) (*workerScript, error) {
	var sc workerScript
	ok, err := tx.Get(bucketWorkerScripts, name, &sc)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errScriptNotFound()
	}
	return &sc, nil
}

func scriptExists(tx *api.Tx, name string) bool {
	_, ok := tx.GetRaw(bucketWorkerScripts, name)
	return ok
}

func loadVersion(tx *api.Tx, script string, number int) (*workerVersion, error) {
	var v workerVersion
	ok, err := tx.Get(bucketWorkerVersions, versionKey(script, number), &v)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("version %d of %s is missing", number, script)
	}
	return &v, nil
}

// listVersions returns a script's versions, oldest first.
func listVersions(tx *api.Tx, script string) ([]*workerVersion, error) {
	return api.All[*workerVersion](tx, bucketWorkerVersions, script+"/")
}

// findVersion returns the version with the id, or nil.
func findVersion(tx *api.Tx, script, id string) (*workerVersion, error) {
	var number int
	ok, err := tx.Get(bucketWorkerVersionIDs, script+"/"+id, &number)
	if err != nil || !ok {
		return nil, err
	}
	return loadVersion(tx, script, number)
}

// listDeployments returns a script's deployments, newest (active) first.
func listDeployments(tx *api.Tx, script string) ([]*workerDeployment, error) {
	out, err := api.All[*workerDeployment](tx, bucketWorkerDeployments, script+"/")
	slices.Reverse(out)
	return out, err
}

// servingVersion is the version taking most of the active deployment's traffic (the newer one
// on a tie); it is what GET script, content and settings describe. Without a deployment it is
// the latest version.
func servingVersion(tx *api.Tx, sc *workerScript) (*workerVersion, error) {
	deps, err := listDeployments(tx, sc.Name)
	if err != nil {
		return nil, err
	}
	if len(deps) == 0 {
		return loadVersion(tx, sc.Name, sc.LastVersion)
	}
	var best *workerVersion
	bestPct := -1.0
	for _, dv := range deps[0].Versions {
		v, err := findVersion(tx, sc.Name, dv.VersionID)
		if err != nil {
			return nil, err
		}
		if v == nil {
			continue
		}
		if dv.Percentage > bestPct || (dv.Percentage == bestPct && best != nil && v.Number > best.Number) {
			best, bestPct = v, dv.Percentage
		}
	}
	if best == nil {
		return loadVersion(tx, sc.Name, sc.LastVersion)
	}
	return best, nil
}

// latestFullyDeployed reports whether the latest version is the only one of the active
// deployment, the precondition of secret changes.
func latestFullyDeployed(tx *api.Tx, sc *workerScript) (bool, error) {
	deps, err := listDeployments(tx, sc.Name)
	if err != nil || len(deps) == 0 {
		return false, err
	}
	latest, err := loadVersion(tx, sc.Name, sc.LastVersion)
	if err != nil {
		return false, err
	}
	d := deps[0]
	return len(d.Versions) == 1 && d.Versions[0].VersionID == latest.ID && d.Versions[0].Percentage == 100, nil
}

// addVersion stores v as the script's next version. The caller saves sc.
func (s *Workers) addVersion(tx *api.Tx, sc *workerScript, v *workerVersion, triggeredBy string) error {
	sc.LastVersion++
	v.ID = api.NewUUID()
	v.Number = sc.LastVersion
	v.CreatedOn = s.now()
	if v.Source == "" {
		v.Source = "api"
	}
	if v.Annotations == nil {
		v.Annotations = map[string]string{}
	}
	v.Annotations["workers/triggered_by"] = triggeredBy
	v.AuthorEmail = s.author
	v.MigrationTag = sc.MigrationTag
	v.Handlers = detectHandlers(v)
	if err := tx.Put(bucketWorkerVersions, versionKey(sc.Name, v.Number), v); err != nil {
		return err
	}
	return tx.Put(bucketWorkerVersionIDs, sc.Name+"/"+v.ID, v.Number)
}

// addAndDeployVersion stores v as the next version and deploys it at 100 %, as uploads,
// settings and secret changes do. The caller saves sc.
func (s *Workers) addAndDeployVersion(tx *api.Tx, sc *workerScript, v *workerVersion, triggeredBy string) error {
	if err := s.addVersion(tx, sc, v, triggeredBy); err != nil {
		return err
	}
	ann := map[string]string{"workers/triggered_by": triggeredBy}
	if msg := v.Annotations["workers/message"]; msg != "" {
		ann["workers/message"] = msg
	}
	return s.addDeployment(tx, sc, []deploymentVersion{{VersionID: v.ID, Percentage: 100}}, ann, v.Source)
}

// addDeployment stores the script's next deployment, made by source (see uploader).
func (s *Workers) addDeployment(tx *api.Tx, sc *workerScript, versions []deploymentVersion, ann map[string]string, source string) error {
	sc.LastDeploy++
	d := workerDeployment{
		ID: api.NewUUID(), CreatedOn: s.now().Format(workersTimeFormat), Source: source, Strategy: "percentage",
		AuthorEmail: s.author, Annotations: ann, Versions: versions,
	}
	sc.ModifiedOn = s.now()
	sc.LastDeployedFrom = source
	return tx.Put(bucketWorkerDeployments, deploymentKey(sc.Name, sc.LastDeploy), &d)
}

func detectHandlers(v *workerVersion) []string {
	entry := v.MainModule
	if entry == "" {
		entry = v.BodyPart
	}
	found := map[string]bool{}
	for _, m := range v.Modules {
		if m.Name != entry {
			continue
		}
		for _, match := range handlerRE.FindAllStringSubmatch(string(m.Content), -1) {
			found[match[1]+match[2]] = true
		}
	}
	out := []string{}
	for _, h := range []string{"fetch", "scheduled", "queue", "email", "tail", "trace"} {
		if found[h] {
			out = append(out, h)
		}
	}
	return out
}

func etagOf(v *workerVersion) string {
	h := sha256.New()
	for _, m := range v.Modules {
		fmt.Fprintf(h, "%s\x00%s\x00%d\x00", m.Name, m.ContentType, len(m.Content))
		h.Write(m.Content)
	}
	return hex.EncodeToString(h.Sum(nil))
}

type namedHandler struct {
	Name     string   `json:"name"`
	Handlers []string `json:"handlers"`
}

func namedHandlers(tx *api.Tx, script string) ([]namedHandler, error) {
	nss, err := scriptNamespaces(tx, script)
	if err != nil {
		return nil, err
	}
	out := []namedHandler{}
	for _, ns := range nss {
		out = append(out, namedHandler{Name: ns.Class, Handlers: []string{"fetch"}})
	}
	return out, nil
}

// scriptObject renders the script object: the result of PUT script and PUT content, and an
// item of the script list.
func scriptObject(tx *api.Tx, sc *workerScript, v *workerVersion) (map[string]any, error) {
	named, err := namedHandlers(tx, sc.Name)
	if err != nil {
		return nil, err
	}
	obj := map[string]any{
		"id":                  sc.Name,
		"tag":                 sc.Tag,
		"etag":                etagOf(v),
		"created_on":          sc.CreatedOn.Format(time.RFC3339Nano),
		"modified_on":         sc.ModifiedOn.Format(time.RFC3339Nano),
		"compatibility_date":  v.CompatibilityDate,
		"compatibility_flags": nonNilStrings(v.CompatibilityFlags),
		"handlers":            nonNilStrings(v.Handlers),
		"named_handlers":      named,
		"has_modules":         v.MainModule != "",
		"has_assets":          false,
		"last_deployed_from":  lastDeployedFrom(sc),
		"logpush":             sc.Logpush,
		"migration_tag":       sc.MigrationTag,
		"usage_model":         v.UsageModel,
		"tags":                tagsOrNil(sc.Tags),
		"tail_consumers":      rawOrNull(sc.TailConsumers),
	}
	if len(sc.Observability) > 0 {
		obj["observability"] = sc.Observability
	}
	// The API always has a placement object, empty without smart placement.
	obj["placement"] = map[string]any{}
	if len(v.Placement) > 0 {
		obj["placement"] = v.Placement
		var p struct {
			Mode string `json:"mode"`
		}
		if json.Unmarshal(v.Placement, &p) == nil && p.Mode != "" {
			obj["placement_mode"] = p.Mode
		}
	}
	return obj, nil
}

func lastDeployedFrom(sc *workerScript) string {
	if sc.LastDeployedFrom == "" {
		return "api"
	}
	return sc.LastDeployedFrom
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func tagsOrNil(s []string) any {
	if len(s) == 0 {
		return nil
	}
	return s
}

func rawOrNull(r json.RawMessage) json.RawMessage {
	if len(r) == 0 {
		return json.RawMessage("null")
	}
	return r
}

// hostInZone reports whether host is the zone's apex or one of its subdomains.
func hostInZone(host, zone string) bool {
	host, zone = strings.ToLower(host), strings.ToLower(zone)
	return host == zone || strings.HasSuffix(host, "."+zone)
}
