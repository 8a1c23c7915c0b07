package localedge

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
)

func (s *Server) registerVersionRoutes() {
	const script = "/accounts/{account_id}/workers/scripts/{script_name}"
	s.handle("POST "+script+"/versions", s.postVersion)
	s.handle("GET "+script+"/versions", s.listVersionsHandler)
	s.handle("GET "+script+"/versions/{version_id}", s.getVersion)
	s.handle("POST "+script+"/deployments", s.postDeployment)
	s.handle("GET "+script+"/deployments", s.listDeploymentsHandler)
	s.handle("GET "+script+"/deployments/{deployment_id}", s.getDeployment)
	s.handle("DELETE "+script+"/deployments/{deployment_id}", s.deleteDeployment)
}

func errVersionNotFound(id string) *apiError {
	return errorf(http.StatusNotFound, 10007, "Version '%s' not found.", id)
}

func versionMetadata(v *workerVersion) map[string]any {
	created := v.CreatedOn.Format(workersTimeFormat)
	return map[string]any{
		"author_email": "", "author_id": "", "created_on": created, "modified_on": created,
		"source": v.Source, "hasPreview": false,
	}
}

// versionDetail renders a version as GET .../versions/{id} returns it.
func versionDetail(tx *Tx, script string, v *workerVersion) (map[string]any, error) {
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
				"last_deployed_from": "api",
			},
			"script_runtime": runtime,
		},
	}, nil
}

// postVersion uploads a version without deploying it. Migrations are script-level and only
// applied by PUT script.
func (s *Server) postVersion(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("script_name")
	up, err := readUpload(w, r)
	if err != nil {
		return err
	}
	if m := bytes.TrimSpace(up.md.Migrations); len(m) > 0 && string(m) != "null" {
		return errorf(http.StatusBadRequest, 10211, "Version upload failed. You attempted to upload a version of a Worker that includes a Durable Object migration, but migrations must be fully applied via a non-versioned deployment (PUT /workers/scripts/%s).", name)
	}
	var out map[string]any
	err = s.store.Update(func(tx *Tx) error {
		sc, err := loadScript(tx, name)
		if err != nil {
			return err
		}
		prev, err := loadVersion(tx, name, sc.LastVersion)
		if err != nil {
			return err
		}
		v, err := up.version(tx, name, prev)
		if err != nil {
			return err
		}
		if err := s.addVersion(tx, sc, v, false, "upload"); err != nil {
			return err
		}
		if err := tx.Put(bucketWorkerScripts, name, sc); err != nil {
			return err
		}
		if out, err = versionDetail(tx, name, v); err != nil {
			return err
		}
		out["startup_time_ms"] = 0
		return nil
	})
	if err != nil {
		return err
	}
	writeResult(w, out)
	return nil
}

// listVersionsHandler pages versions newest first; deployable=true ignores pagination (all on
// page 1, nothing after), as the API documents.
func (s *Server) listVersionsHandler(w http.ResponseWriter, r *http.Request) error {
	page, perPage, err := pageParams(r, 10, 100)
	if err != nil {
		return err
	}
	name := r.PathValue("script_name")
	var versions []*workerVersion
	if err := s.store.View(func(tx *Tx) error {
		if _, err := loadScript(tx, name); err != nil {
			return err
		}
		versions, err = listVersions(tx, name)
		return err
	}); err != nil {
		return err
	}
	for i, j := 0, len(versions)-1; i < j; i, j = i+1, j-1 {
		versions[i], versions[j] = versions[j], versions[i]
	}
	if r.URL.Query().Get("deployable") == "true" {
		perPage = max(len(versions), 1)
	}
	from, to := pageSlice(len(versions), page, perPage)
	items := make([]map[string]any, 0, to-from)
	for _, v := range versions[from:to] {
		items = append(items, map[string]any{"id": v.ID, "number": v.Number, "metadata": versionMetadata(v), "annotations": v.Annotations})
	}
	writePage(w, map[string]any{"items": items}, pageInfo(page, perPage, len(items), len(versions)))
	return nil
}

func (s *Server) getVersion(w http.ResponseWriter, r *http.Request) error {
	name, id := r.PathValue("script_name"), r.PathValue("version_id")
	var out map[string]any
	if err := s.store.View(func(tx *Tx) error {
		if _, err := loadScript(tx, name); err != nil {
			return err
		}
		v, err := findVersion(tx, name, id)
		if err != nil {
			return err
		}
		if v == nil {
			return errVersionNotFound(id)
		}
		out, err = versionDetail(tx, name, v)
		return err
	}); err != nil {
		return err
	}
	writeResult(w, out)
	return nil
}

// postDeployment deploys one or two existing versions by percentage. Validation failures are
// 400s: a 409 would be retried by the SDK.
func (s *Server) postDeployment(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("script_name")
	var body struct {
		Strategy    string              `json:"strategy"`
		Versions    []deploymentVersion `json:"versions"`
		Annotations map[string]string   `json:"annotations"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if body.Strategy != "percentage" {
		return errorf(http.StatusBadRequest, 10021, "Invalid deployment strategy %q: the only strategy is \"percentage\"", body.Strategy)
	}
	if len(body.Versions) < 1 || len(body.Versions) > 2 {
		return errorf(http.StatusBadRequest, 10021, "A deployment must have 1 or 2 versions, got %d", len(body.Versions))
	}
	total := 0.0
	for _, dv := range body.Versions {
		if dv.Percentage <= 0 || dv.Percentage > 100 {
			return errorf(http.StatusBadRequest, 10021, "Version %s has percentage %v; each percentage must be greater than 0 and at most 100", dv.VersionID, dv.Percentage)
		}
		total += dv.Percentage
	}
	if math.Abs(total-100) > 1e-9 {
		return errorf(http.StatusBadRequest, 10021, "Deployment version percentages must sum to 100, got %v", total)
	}
	if len(body.Versions) == 2 && body.Versions[0].VersionID == body.Versions[1].VersionID {
		return errorf(http.StatusBadRequest, 10021, "A deployment cannot list version %s twice", body.Versions[0].VersionID)
	}
	ann := map[string]string{"workers/triggered_by": "deployment"}
	if msg := body.Annotations["workers/message"]; msg != "" {
		if len(msg) > 1000 {
			msg = msg[:1000]
		}
		ann["workers/message"] = msg
	}
	var out *workerDeployment
	err := s.store.Update(func(tx *Tx) error {
		sc, err := loadScript(tx, name)
		if err != nil {
			return err
		}
		for _, dv := range body.Versions {
			v, err := findVersion(tx, name, dv.VersionID)
			if err != nil {
				return err
			}
			if v == nil {
				return errorf(http.StatusBadRequest, 10021, "Version %s does not exist on Worker '%s'", dv.VersionID, name)
			}
		}
		if err := s.addDeployment(tx, sc, body.Versions, ann); err != nil {
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
	writeResult(w, out)
	return nil
}

func (s *Server) listDeploymentsHandler(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("script_name")
	var deps []*workerDeployment
	if err := s.store.View(func(tx *Tx) (err error) {
		if _, err := loadScript(tx, name); err != nil {
			return err
		}
		deps, err = listDeployments(tx, name)
		return err
	}); err != nil {
		return err
	}
	if deps == nil {
		deps = []*workerDeployment{}
	}
	writeResult(w, map[string]any{"deployments": deps})
	return nil
}

// findDeployment returns the deployment, its store key and whether it is the active one.
func findDeployment(tx *Tx, name, id string) (*workerDeployment, string, bool, error) {
	var found *workerDeployment
	var key string
	var last string
	err := tx.Each(bucketWorkerDeployments, name+"/", "", func(k string, raw []byte) (bool, error) {
		last = k
		var d workerDeployment
		if err := json.Unmarshal(raw, &d); err != nil {
			return false, err
		}
		if d.ID == id {
			found, key = &d, k
		}
		return true, nil
	})
	if err == nil && found == nil {
		err = errorf(http.StatusNotFound, 10007, "Deployment '%s' not found.", id)
	}
	return found, key, key == last, err
}

func (s *Server) getDeployment(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("script_name")
	var d *workerDeployment
	if err := s.store.View(func(tx *Tx) (err error) {
		if _, err := loadScript(tx, name); err != nil {
			return err
		}
		d, _, _, err = findDeployment(tx, name, r.PathValue("deployment_id"))
		return err
	}); err != nil {
		return err
	}
	writeResult(w, d)
	return nil
}

func (s *Server) deleteDeployment(w http.ResponseWriter, r *http.Request) error {
	name, id := r.PathValue("script_name"), r.PathValue("deployment_id")
	err := s.store.Update(func(tx *Tx) error {
		if _, err := loadScript(tx, name); err != nil {
			return err
		}
		_, key, active, err := findDeployment(tx, name, id)
		if err != nil {
			return err
		}
		if active {
			return errorf(http.StatusBadRequest, 10021, "Deployment '%s' is the active deployment of Worker '%s' and cannot be deleted", id, name)
		}
		return tx.Delete(bucketWorkerDeployments, key)
	})
	if err != nil {
		return err
	}
	writeResult(w, nil)
	return nil
}

func (s *Server) registerSecretRoutes() {
	const secrets = "/accounts/{account_id}/workers/scripts/{script_name}/secrets"
	s.handle("PUT "+secrets, s.putSecret)
	s.handle("GET "+secrets, s.listSecrets)
	s.handle("GET "+secrets+"/{secret_name}", s.getSecret)
	s.handle("DELETE "+secrets+"/{secret_name}", s.deleteSecret)
}

func isSecret(b workerBinding) bool {
	return b.str("type") == "secret_text" || b.str("type") == "secret_key"
}

// secretName is the secret named in the path. The mux has already unescaped the segment,
// which is what url_encoded=true asks for; decoding again would corrupt names with '%'.
func secretName(r *http.Request) string {
	return r.PathValue("secret_name")
}

// changeSecrets applies change to the latest version's bindings as a new version deployed at
// 100 %, provided the latest version is the one fully deployed (10215 otherwise).
func (s *Server) changeSecrets(tx *Tx, script string, change func(bs []workerBinding) ([]workerBinding, error)) error {
	sc, err := loadScript(tx, script)
	if err != nil {
		return err
	}
	ok, err := latestFullyDeployed(tx, sc)
	if err != nil {
		return err
	}
	if !ok {
		return errorf(http.StatusBadRequest, 10215, "Secret edit failed. You attempted to modify a secret, but the latest version of your Worker isn't currently deployed. Please ensure that the latest version of your Worker is fully deployed (100%% of traffic) before modifying secrets.")
	}
	latest, err := loadVersion(tx, script, sc.LastVersion)
	if err != nil {
		return err
	}
	v := copyVersion(latest)
	if v.Bindings, err = change(v.Bindings); err != nil {
		return err
	}
	if err := s.addVersion(tx, sc, v, true, "secret"); err != nil {
		return err
	}
	return tx.Put(bucketWorkerScripts, script, sc)
}

func (s *Server) putSecret(w http.ResponseWriter, r *http.Request) error {
	var b workerBinding
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(&b); err != nil {
		return errorf(http.StatusBadRequest, 10026, "could not parse request body: %v", err)
	}
	name, typ := b.str("name"), b.str("type")
	if name == "" {
		return errorf(http.StatusBadRequest, 10052, "A secret needs a name")
	}
	if typ == "" {
		typ, b["type"] = "secret_text", "secret_text"
	}
	if !isSecret(b) {
		return errorf(http.StatusBadRequest, 10021, "Secret type must be secret_text or secret_key, got %q", typ)
	}
	for _, f := range bindingTypes[typ] {
		if v, ok := b[f]; !ok || v == nil {
			return errorf(http.StatusBadRequest, 10021, "Secret '%s' of type %s is missing the required field '%s'", name, typ, f)
		}
	}
	if typ == "secret_text" {
		if _, ok := b["text"].(string); !ok {
			return errorf(http.StatusBadRequest, 10021, "Secret '%s': text must be a string", name)
		}
	}
	err := s.store.Update(func(tx *Tx) error {
		return s.changeSecrets(tx, r.PathValue("script_name"), func(bs []workerBinding) ([]workerBinding, error) {
			for i, old := range bs {
				if old.str("name") != name {
					continue
				}
				if !isSecret(old) {
					return nil, errorf(http.StatusBadRequest, 10021, "Binding name '%s' is already in use by a %s binding", name, old.str("type"))
				}
				bs[i] = b
				return bs, nil
			}
			return append(bs, b), nil
		})
	})
	if err != nil {
		return err
	}
	writeResult(w, b.public())
	return nil
}

// latestSecrets returns the secret bindings of the latest version.
func latestSecrets(tx *Tx, script string) ([]workerBinding, error) {
	sc, err := loadScript(tx, script)
	if err != nil {
		return nil, err
	}
	v, err := loadVersion(tx, script, sc.LastVersion)
	if err != nil {
		return nil, err
	}
	out := []workerBinding{}
	for _, b := range v.Bindings {
		if isSecret(b) {
			out = append(out, b.public())
		}
	}
	return out, nil
}

func (s *Server) listSecrets(w http.ResponseWriter, r *http.Request) error {
	var out []workerBinding
	if err := s.store.View(func(tx *Tx) (err error) {
		out, err = latestSecrets(tx, r.PathValue("script_name"))
		return err
	}); err != nil {
		return err
	}
	writeResult(w, out)
	return nil
}

func errSecretNotFound(name string) *apiError {
	return errorf(http.StatusNotFound, 10056, "Secret '%s' not found", name)
}

func (s *Server) getSecret(w http.ResponseWriter, r *http.Request) error {
	name := secretName(r)
	var out workerBinding
	if err := s.store.View(func(tx *Tx) error {
		secrets, err := latestSecrets(tx, r.PathValue("script_name"))
		if err != nil {
			return err
		}
		if out = findBinding(secrets, name); out == nil {
			return errSecretNotFound(name)
		}
		return nil
	}); err != nil {
		return err
	}
	writeResult(w, out)
	return nil
}

func (s *Server) deleteSecret(w http.ResponseWriter, r *http.Request) error {
	name := secretName(r)
	err := s.store.Update(func(tx *Tx) error {
		if _, err := loadScript(tx, r.PathValue("script_name")); err != nil {
			return err
		}
		secrets, err := latestSecrets(tx, r.PathValue("script_name"))
		if err != nil {
			return err
		}
		if findBinding(secrets, name) == nil {
			return errSecretNotFound(name)
		}
		return s.changeSecrets(tx, r.PathValue("script_name"), func(bs []workerBinding) ([]workerBinding, error) {
			out := bs[:0]
			for _, b := range bs {
				if !isSecret(b) || b.str("name") != name {
					out = append(out, b)
				}
			}
			return out, nil
		})
	})
	if err != nil {
		return err
	}
	writeResult(w, nil)
	return nil
}
