package workers

import (
	"slices"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"

	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"sort"
	"strings"
)

func versionMetadata(v *workerVersion) map[string]any {
	created := v.CreatedOn.Format(workersTimeFormat)
	return map[string]any{
		"author_email": v.AuthorEmail, "author_id": "", "created_on": created, "modified_on": created,
		"source": v.Source, "hasPreview": false,
	}
}

// versionDetail renders a version as GET .../versions/{id} returns it.
func versionDetail(tx *api.Tx, script string, v *workerVersion) (map[string]any, error) {
	named, err := namedHandlers(tx, script)
	if err != nil {
		return nil, err
	}
	runtime := map[string]any{
		"compatibility_date":  v.CompatibilityDate,
		"compatibility_flags": nonNilStrings(v.CompatibilityFlags),
		"migration_tag":       v.MigrationTag,
		"usage_model":         v.UsageModel,
	}
	if len(v.Limits) > 0 {
		runtime["limits"] = v.Limits
	}
	return map[string]any{
		"id":          v.ID,
		"number":      v.Number,
		"metadata":    versionMetadata(v),
		"annotations": v.Annotations,
		"resources": map[string]any{
			"bindings": publicBindings(v.Bindings),
			"script": map[string]any{
				"etag": etagOf(v), "handlers": nonNilStrings(v.Handlers), "named_handlers": named,
				"last_deployed_from": v.Source,
			},
			"script_runtime": runtime,
		},
	}, nil
}

// postVersion uploads a version without deploying it. Migrations are script-level and only
// applied by PUT script.
func (s *Workers) postVersion(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("script_name")
	up, err := readUpload(w, r)
	if err != nil {
		return err
	}
	if m := bytes.TrimSpace(up.md.Migrations); len(m) > 0 && string(m) != "null" {
		return api.Errorf(http.StatusBadRequest, 10211, "Version upload failed. You attempted to upload a version of a Worker that includes a Durable Object migration, but migrations must be fully applied via a non-versioned deployment (PUT /workers/scripts/%s).", name)
	}
	var out map[string]any
	err = s.updateVersion(r, name, func(tx *api.Tx) (*workerVersion, error) {
		sc, err := loadScript(tx, name)
		if err != nil {
			return nil, err
		}
		prev, err := loadVersion(tx, name, sc.LastVersion)
		if err != nil {
			return nil, err
		}
		v, err := s.version(tx, name, up, prev)
		if err != nil {
			return nil, err
		}
		v.Source = uploader(r)
		if err := s.addVersion(tx, sc, v, "upload"); err != nil {
			return nil, err
		}
		if err := tx.Put(bucketWorkerScripts, name, sc); err != nil {
			return nil, err
		}
		if out, err = versionDetail(tx, name, v); err != nil {
			return nil, err
		}
		out["startup_time_ms"] = 0
		return v, nil
	})
	if err != nil {
		return err
	}
	api.WriteResult(w, out)
	return nil
}

// listVersionsHandler pages versions newest first; deployable=true ignores pagination (all on
// page 1, nothing after), as the API documents.
func (s *Workers) listVersionsHandler(w http.ResponseWriter, r *http.Request) error {
	page, perPage, err := api.PageParams(r, 10, 100)
	if err != nil {
		return err
	}
	name := r.PathValue("script_name")
	var versions []*workerVersion
	if err := s.store.View(func(tx *api.Tx) error {
		if _, err := loadScript(tx, name); err != nil {
			return err
		}
		versions, err = listVersions(tx, name)
		return err
	}); err != nil {
		return err
	}
	slices.Reverse(versions)
	if r.URL.Query().Get("deployable") == "true" {
		perPage = max(len(versions), 1)
	}
	items := []map[string]any{}
	for _, v := range api.PageSlice(versions, page, perPage) {
		items = append(items, map[string]any{"id": v.ID, "number": v.Number, "metadata": versionMetadata(v), "annotations": v.Annotations})
	}
	api.WritePage(w, map[string]any{"items": items}, api.PageInfo(page, perPage, len(items), len(versions)))
	return nil
}

func (s *Workers) getVersion(w http.ResponseWriter, r *http.Request) error {
	return api.View(w, s.store, ofScript(r, func(tx *api.Tx, sc *workerScript) (map[string]any, error) {
		id := r.PathValue("version_id")
		v, err := findVersion(tx, sc.Name, id)
		if err == nil && v == nil {
			err = errVersionNotFound(id)
		}
		if err != nil {
			return nil, err
		}
		return versionDetail(tx, sc.Name, v)
	}))
}

// postDeployment deploys one or two existing versions by percentage. Validation failures are
// 400s: a 409 would be retried by the SDK.
func (s *Workers) postDeployment(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("script_name")
	var body struct {
		Strategy    string              `json:"strategy"`
		Versions    []deploymentVersion `json:"versions"`
		Annotations map[string]string   `json:"annotations"`
	}
	if err := api.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	if body.Strategy != "percentage" {
		return api.Errorf(http.StatusBadRequest, 10021, "Invalid deployment strategy %q: the only strategy is \"percentage\"", body.Strategy)
	}
	if len(body.Versions) < 1 || len(body.Versions) > 2 {
		return api.Errorf(http.StatusBadRequest, 10021, "A deployment must have 1 or 2 versions, got %d", len(body.Versions))
	}
	total := 0.0
	for _, dv := range body.Versions {
		// 0 % is allowed: the version stays reachable with the version-override header only.
		if dv.Percentage < 0 || dv.Percentage > 100 || math.IsNaN(dv.Percentage) {
			return api.Errorf(http.StatusBadRequest, 10021, "Version %s has percentage %v; each percentage must be from 0 to 100", dv.VersionID, dv.Percentage)
		}
		total += dv.Percentage
	}
	if math.Abs(total-100) > 1e-9 {
		return api.Errorf(http.StatusBadRequest, 10021, "Deployment version percentages must sum to 100, got %v", total)
	}
	if len(body.Versions) == 2 && body.Versions[0].VersionID == body.Versions[1].VersionID {
		return api.Errorf(http.StatusBadRequest, 10021, "A deployment cannot list version %s twice", body.Versions[0].VersionID)
	}
	ann := map[string]string{"workers/triggered_by": "deployment"}
	if msg := body.Annotations["workers/message"]; msg != "" {
		if len(msg) > 1000 {
			msg = msg[:1000]
		}
		ann["workers/message"] = msg
	}
	force := r.URL.Query().Get("force") == "true"
	var out *workerDeployment
	err := s.store.Update(func(tx *api.Tx) error {
		sc, err := loadScript(tx, name)
		if err != nil {
			return err
		}
		var target *workerVersion
		for _, dv := range body.Versions {
			v, err := findVersion(tx, name, dv.VersionID)
			if err != nil {
				return err
			}
			if v == nil {
				return api.Errorf(http.StatusBadRequest, 10021, "Version %s does not exist on Worker '%s'", dv.VersionID, name)
			}
			target = v
		}
		if len(body.Versions) == 1 && body.Versions[0].Percentage == 100 {
			rollback, err := isRollback(tx, sc, target)
			if err != nil {
				return err
			}
			if rollback {
				ann["workers/triggered_by"] = "rollback"
				if !force {
					if err := checkRollbackSecrets(tx, sc, target); err != nil {
						return err
					}
				}
			}
		}
		if err := s.addDeployment(tx, sc, body.Versions, ann, uploader(r)); err != nil {
			return err
		}
		if err := tx.Put(bucketWorkerScripts, name, sc); err != nil {
			return err
		}
		deps, err := listDeployments(tx, name)
		if err == nil {
			out = deps[0]
		}
		return err
	})
	if err != nil {
		return err
	}
	api.WriteResult(w, out)
	return nil
}

func (s *Workers) listDeploymentsHandler(w http.ResponseWriter, r *http.Request) error {
	return api.View(w, s.store, ofScript(r, func(tx *api.Tx, sc *workerScript) (map[string]any, error) {
		deps, err := listDeployments(tx, sc.Name)
		if deps == nil {
			deps = []*workerDeployment{}
		}
		return map[string]any{"deployments": deps}, err
	}))
}

// findDeployment returns the deployment, its store key and whether it is the active one.
func findDeployment(tx *api.Tx, name, id string) (*workerDeployment, string, bool, error) {
	entries, err := api.Entries[*workerDeployment](tx, bucketWorkerDeployments, name+"/")
	if err != nil {
		return nil, "", false, err
	}
	for i, e := range entries {
		if e.Value.ID == id {
			return e.Value, e.Key, i == len(entries)-1, nil
		}
	}
	return nil, "", false, api.Errorf(http.StatusNotFound, 10007, "Deployment '%s' not found.", id)
}

func (s *Workers) getDeployment(w http.ResponseWriter, r *http.Request) error {
	return api.View(w, s.store, ofScript(r, func(tx *api.Tx, sc *workerScript) (*workerDeployment, error) {
		d, _, _, err := findDeployment(tx, sc.Name, r.PathValue("deployment_id"))
		return d, err
	}))
}

func (s *Workers) deleteDeployment(w http.ResponseWriter, r *http.Request) error {
	name, id := r.PathValue("script_name"), r.PathValue("deployment_id")
	err := s.store.Update(func(tx *api.Tx) error {
		if _, err := loadScript(tx, name); err != nil {
			return err
		}
		_, key, active, err := findDeployment(tx, name, id)
		if err != nil {
			return err
		}
		if active {
			return api.Errorf(http.StatusBadRequest, 10021, "Deployment '%s' is the active deployment of Worker '%s' and cannot be deleted", id, name)
		}
		return tx.Delete(bucketWorkerDeployments, key)
	})
	if err != nil {
		return err
	}
	api.WriteResult(w, nil)
	return nil
}

// isRollback reports whether deploying target alone goes back: a newer version than target
// has been deployed since it was uploaded. Cloudflare marks such deployments
// triggered_by "rollback".
func isRollback(tx *api.Tx, sc *workerScript, target *workerVersion) (bool, error) {
	deps, err := listDeployments(tx, sc.Name)
	if err != nil {
		return false, err
	}
	for _, d := range deps {
		for _, dv := range d.Versions {
			v, err := findVersion(tx, sc.Name, dv.VersionID)
			if err != nil {
				return false, err
			}
			if v != nil && v.Number > target.Number {
				return true, nil
			}
		}
	}
	return false, nil
}

// checkRollbackSecrets refuses a rollback to a version whose secrets differ from the serving
// version's (Cloudflare's 10220, which names them; force=true deploys it anyway with the
// target's secret values).
func checkRollbackSecrets(tx *api.Tx, sc *workerScript, target *workerVersion) error {
	current, err := servingVersion(tx, sc)
	if err != nil {
		return err
	}
	secrets := func(v *workerVersion) map[string]string {
		out := map[string]string{}
		for _, b := range v.Bindings {
			if isSecret(b) {
				raw, _ := json.Marshal(b)
				out[b.Str("name")] = string(raw)
			}
		}
		return out
	}
	was, now := secrets(target), secrets(current)
	var changed []string
	for name, value := range now {
		if was[name] != value {
			changed = append(changed, name)
		}
	}
	for name := range was {
		if _, ok := now[name]; !ok {
			changed = append(changed, name)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	sort.Strings(changed)
	return api.Errorf(http.StatusBadRequest, 10220, "A rollback to version %s would change the values of secrets that were edited since it was deployed; deploy with force=true to roll back anyway. The following secrets have changed: %s", target.ID, strings.Join(changed, ", "))
}
