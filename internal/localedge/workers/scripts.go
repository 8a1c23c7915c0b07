package workers

import (
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"

	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"sort"
	"strings"
)

// putScript uploads a script: migrations, then a new version deployed at 100 %.
func (s *Workers) putScript(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("script_name")
	if err := validScriptName(name); err != nil {
		return err
	}
	up, err := readUpload(w, r)
	if err != nil {
		return err
	}
	var result map[string]any
	err = s.updateVersion(r, name, func(tx *api.Tx) (*workerVersion, error) {
		var sc *workerScript
		var prev *workerVersion
		var err error
		if !scriptExists(tx, name) {
			now := s.now()
			sc = &workerScript{Name: name, Tag: api.NewHexID(), CreatedOn: now, ModifiedOn: now}
		} else if sc, err = loadScript(tx, name); err != nil {
			return nil, err
		} else if prev, err = loadVersion(tx, name, sc.LastVersion); err != nil {
			return nil, err
		}
		if sc.MigrationTag, err = applyMigrations(tx, name, sc.MigrationTag, up.md.Migrations); err != nil {
			return nil, err
		}
		v, err := s.version(tx, name, up, prev)
		if err != nil {
			return nil, err
		}
		v.Source = uploader(r)
		applyScriptSettings(sc, up.md)
		if err := s.addAndDeployVersion(tx, sc, v, "upload"); err != nil {
			return nil, err
		}
		if err := tx.Put(bucketWorkerScripts, name, sc); err != nil {
			return nil, err
		}
		if result, err = scriptObject(tx, sc, v); err != nil {
			return nil, err
		}
		result["startup_time_ms"] = 0
		result["entry_point"] = up.mainModule + up.bodyPart
		// The API names the new version deployment_id here (wrangler reads it as the version).
		result["deployment_id"] = v.ID
		return v, nil
	})
	if err != nil {
		return err
	}
	api.WriteResult(w, result)
	return nil
}

func (s *Workers) listScripts(w http.ResponseWriter, r *http.Request) error {
	want, unwanted := map[string]bool{}, map[string]bool{}
	if q := r.URL.Query().Get("tags"); q != "" {
		for _, item := range strings.Split(q, ",") {
			// Tags may contain ":", so the mode is after the last one.
			tag, mode := item, "yes"
			if i := strings.LastIndex(item, ":"); i >= 0 {
				tag, mode = item[:i], item[i+1:]
			}
			if mode == "no" {
				unwanted[tag] = true
			} else {
				want[tag] = true
			}
		}
	}
	out := []map[string]any{}
	err := s.store.View(func(tx *api.Tx) error {
		routes, err := allRoutes(tx)
		if err != nil {
			return err
		}
		scripts, err := api.All[*workerScript](tx, bucketWorkerScripts, "")
		if err != nil {
			return err
		}
		for _, sc := range scripts {
			if !hasTags(sc, want, unwanted) {
				continue
			}
			v, err := servingVersion(tx, sc)
			if err != nil {
				return err
			}
			obj, err := scriptObject(tx, sc, v)
			if err != nil {
				return err
			}
			var own []workerRoute
			for _, rt := range routes {
				if rt.Script == sc.Name {
					own = append(own, rt)
				}
			}
			obj["routes"] = own
			out = append(out, obj)
		}
		return nil
	})
	if err != nil {
		return err
	}
	api.WriteResult(w, out)
	return nil
}

// writeModules writes a version's modules as GET script and content/v2 return them: one
// multipart part per module, main module first, no metadata part.
func writeModules(w http.ResponseWriter, v *workerVersion) error {
	entry := v.MainModule + v.BodyPart
	mods := append([]workerModule{}, v.Modules...)
	sort.SliceStable(mods, func(i, j int) bool { return mods[i].Name == entry && mods[j].Name != entry })
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, m := range mods {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, m.Name, m.Name))
		h.Set("Content-Type", m.ContentType)
		pw, err := mw.CreatePart(h)
		if err != nil {
			return err
		}
		if _, err := pw.Write(m.Content); err != nil {
			return err
		}
	}
	if err := mw.Close(); err != nil {
		return err
	}
	w.Header().Set("Content-Type", mw.FormDataContentType())
	w.Header().Set("cf-entrypoint", entry)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// downloadScript serves the code: multipart for module Workers, the raw script for
// service-worker syntax. Never JSON, which the SDK's Scripts.Get cannot take.
func (s *Workers) downloadScript(w http.ResponseWriter, r *http.Request) error {
	var v *workerVersion
	if err := s.store.View(func(tx *api.Tx) (err error) {
		v, err = servedVersionOrNotFound(tx, r.PathValue("script_name"))
		return err
	}); err != nil {
		return err
	}
	if v.MainModule == "" {
		for _, m := range v.Modules {
			if m.Name == v.BodyPart {
				w.Header().Set("Content-Type", m.ContentType)
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write(m.Content)
				return nil
			}
		}
	}
	return writeModules(w, v)
}

func servedVersionOrNotFound(tx *api.Tx, name string) (*workerVersion, error) {
	sc, err := loadScript(tx, name)
	if err != nil {
		return nil, err
	}
	return servingVersion(tx, sc)
}

func (s *Workers) getScriptContent(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("script_name")
	var v *workerVersion
	if err := s.store.View(func(tx *api.Tx) (err error) {
		id := r.URL.Query().Get("version")
		if id == "" {
			v, err = servedVersionOrNotFound(tx, name)
			return err
		}
		if _, err := loadScript(tx, name); err != nil {
			return err
		}
		if v, err = findVersion(tx, name, id); err == nil && v == nil {
			err = errVersionNotFound(id)
		}
		return err
	}); err != nil {
		return err
	}
	return writeModules(w, v)
}

// putScriptContent replaces the code of the serving version, keeping its bindings and
// settings, as a new version deployed at 100 %.
func (s *Workers) putScriptContent(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("script_name")
	form, err := parseUploadForm(w, r, "metadata")
	if err != nil {
		return err
	}
	md := &uploadMetadata{}
	if form.doc != nil {
		if md, err = decodeMetadata(form.doc, "metadata"); err != nil {
			return err
		}
	}
	if h := r.Header.Get("CF-WORKER-MAIN-MODULE-PART"); h != "" {
		md.MainModule = h
	}
	if h := r.Header.Get("CF-WORKER-BODY-PART"); h != "" && md.MainModule == "" {
		md.BodyPart = h
	}
	mainModule, bodyPart, err := md.entrypoint(form)
	if err != nil {
		return err
	}
	var result map[string]any
	err = s.updateVersion(r, name, func(tx *api.Tx) (*workerVersion, error) {
		sc, err := loadScript(tx, name)
		if err != nil {
			return nil, err
		}
		base, err := servingVersion(tx, sc)
		if err != nil {
			return nil, err
		}
		v := copyVersion(base)
		v.Source = uploader(r)
		v.MainModule, v.BodyPart, v.Modules = mainModule, bodyPart, form.modules
		if err := s.validateBindings(tx, name, v); err != nil {
			return nil, err
		}
		if err := s.addAndDeployVersion(tx, sc, v, "upload"); err != nil {
			return nil, err
		}
		if err := tx.Put(bucketWorkerScripts, name, sc); err != nil {
			return nil, err
		}
		result, err = scriptObject(tx, sc, v)
		return v, err
	})
	if err != nil {
		return err
	}
	api.WriteResult(w, result)
	return nil
}

// copyVersion returns a fresh, unsaved version with base's code, bindings and runtime.
func copyVersion(base *workerVersion) *workerVersion {
	return &workerVersion{
		Source: base.Source, Annotations: map[string]string{},
		MainModule: base.MainModule, BodyPart: base.BodyPart, Modules: base.Modules,
		Bindings: append([]api.Binding{}, base.Bindings...), CompatibilityDate: base.CompatibilityDate,
		CompatibilityFlags: base.CompatibilityFlags, UsageModel: base.UsageModel, Limits: base.Limits,
		Placement: base.Placement,
	}
}

// deleteScript removes the script and everything that belongs to it. Without force it refuses
// while the script has Durable Object namespaces or other scripts bind to it.
func (s *Workers) deleteScript(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("script_name")
	force := r.URL.Query().Get("force") == "true"
	err := s.store.Update(func(tx *api.Tx) error {
		if _, err := loadScript(tx, name); err != nil {
			return err
		}
		nss, err := scriptNamespaces(tx, name)
		if err != nil {
			return err
		}
		if !force {
			if len(nss) > 0 {
				return api.Errorf(http.StatusBadRequest, 10021, "Worker '%s' implements Durable Object namespaces (%s); deleting it deletes their objects, so pass force=true", name, nss[0].Name)
			}
			if dep, err := dependentOf(tx, name); err != nil {
				return err
			} else if dep != "" {
				return api.Errorf(http.StatusBadRequest, 10021, "Worker '%s' is bound by Worker '%s'; remove the binding or pass force=true", name, dep)
			}
		}
		for _, ns := range nss {
			if err := tx.Delete(bucketDONamespaces, ns.ID); err != nil {
				return err
			}
		}
		if err := deleteScriptRouting(tx, name); err != nil {
			return err
		}
		for _, b := range []string{bucketWorkerVersions, bucketWorkerVersionIDs, bucketWorkerDeployments} {
			if _, err := tx.DeletePrefix(b, name+"/"); err != nil {
				return err
			}
		}
		return tx.Delete(bucketWorkerScripts, name)
	})
	if err != nil {
		return err
	}
	api.WriteResult(w, nil)
	return nil
}

// hasTags reports whether the script has every wanted tag and no unwanted one.
func hasTags(sc *workerScript, want, unwanted map[string]bool) bool {
	has := map[string]bool{}
	for _, t := range sc.Tags {
		has[t] = true
	}
	for t := range want {
		if !has[t] {
			return false
		}
	}
	for t := range unwanted {
		if has[t] {
			return false
		}
	}
	return true
}

// dependentOf returns another script whose serving version binds name (service or Durable
// Object binding), or "".
func dependentOf(tx *api.Tx, name string) (string, error) {
	scripts, err := api.All[*workerScript](tx, bucketWorkerScripts, "")
	if err != nil {
		return "", err
	}
	for _, sc := range scripts {
		if sc.Name == name {
			continue
		}
		v, err := servingVersion(tx, sc)
		if err != nil {
			return "", err
		}
		for _, b := range v.Bindings {
			if (b.Type() == "service" && b.Str("service") == name) ||
				(b.Type() == "durable_object_namespace" && b.Str("script_name") == name) {
				return sc.Name, nil
			}
		}
	}
	return "", nil
}

// settingsObject renders GET/PATCH settings (script and version settings) for the serving
// version.
func settingsObject(sc *workerScript, v *workerVersion) map[string]any {
	ann := map[string]string{}
	for k, val := range v.Annotations {
		ann[k] = val
	}
	out := map[string]any{
		"annotations":         ann,
		"bindings":            publicBindings(v.Bindings),
		"compatibility_date":  v.CompatibilityDate,
		"compatibility_flags": nonNilStrings(v.CompatibilityFlags),
		"logpush":             sc.Logpush,
		"tags":                tagsOrNil(sc.Tags),
		"tail_consumers":      rawOrNull(sc.TailConsumers),
		"usage_model":         v.UsageModel,
	}
	if len(v.Limits) > 0 {
		out["limits"] = v.Limits
	}
	if len(sc.Observability) > 0 {
		out["observability"] = sc.Observability
	}
	if len(v.Placement) > 0 {
		out["placement"] = v.Placement
	}
	return out
}

func (s *Workers) getSettings(w http.ResponseWriter, r *http.Request) error {
	return api.View(w, s.store, ofScript(r, func(tx *api.Tx, sc *workerScript) (map[string]any, error) {
		v, err := servingVersion(tx, sc)
		if err != nil {
			return nil, err
		}
		return settingsObject(sc, v), nil
	}))
}

// patchSettings merges the settings into the serving version's as a new version deployed at
// 100 %. A secret_text binding without text keeps its current value.
func (s *Workers) patchSettings(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("script_name")
	var md *uploadMetadata
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		// Accept a plain JSON body as well: the settings object itself.
		var doc json.RawMessage
		if err := api.DecodeJSON(w, r, &doc); err != nil {
			return err
		}
		var err error
		if md, err = decodeMetadata(doc, "settings"); err != nil {
			return err
		}
	} else {
		form, err := parseUploadForm(w, r, "settings")
		if err != nil {
			return err
		}
		if md, err = decodeMetadata(form.doc, "settings"); err != nil {
			return err
		}
	}
	if err := validCompatDate(md); err != nil {
		return err
	}
	var out map[string]any
	err := s.updateVersion(r, name, func(tx *api.Tx) (*workerVersion, error) {
		sc, err := loadScript(tx, name)
		if err != nil {
			return nil, err
		}
		base, err := servingVersion(tx, sc)
		if err != nil {
			return nil, err
		}
		if sc.MigrationTag, err = applyMigrations(tx, name, sc.MigrationTag, md.Migrations); err != nil {
			return nil, err
		}
		v := copyVersion(base)
		v.Source = uploader(r)
		applyRuntime(v, md)
		if md.Bindings != nil {
			given := make([]api.Binding, 0, len(*md.Bindings))
			for _, b := range *md.Bindings {
				if b.Str("type") == "secret_text" && b["text"] == nil {
					old := findBinding(base.Bindings, b.Str("name"))
					if old == nil || old.Str("type") != "secret_text" {
						return nil, api.Errorf(http.StatusBadRequest, 10021, "Binding '%s' of type secret_text is missing the required field 'text'", b.Str("name"))
					}
					b = old
				}
				given = append(given, b)
			}
			if v.Bindings, err = (bindingRequest{given: given, keep: md.KeepBindings}).resolve(tx, name, base); err != nil {
				return nil, err
			}
		}
		if err := s.validateBindings(tx, name, v); err != nil {
			return nil, err
		}
		applyScriptSettings(sc, md)
		for k, val := range md.Annotations {
			v.Annotations[k] = val
		}
		if err := s.addAndDeployVersion(tx, sc, v, "settings"); err != nil {
			return nil, err
		}
		if err := tx.Put(bucketWorkerScripts, name, sc); err != nil {
			return nil, err
		}
		out = settingsObject(sc, v)
		return v, nil
	})
	if err != nil {
		return err
	}
	api.WriteResult(w, out)
	return nil
}

func findBinding(bs []api.Binding, name string) api.Binding {
	for _, b := range bs {
		if b.Str("name") == name {
			return b
		}
	}
	return nil
}

func scriptSettingObject(sc *workerScript) map[string]any {
	return map[string]any{
		"logpush":        sc.Logpush,
		"observability":  rawOrNull(sc.Observability),
		"tags":           tagsOrNil(sc.Tags),
		"tail_consumers": rawOrNull(sc.TailConsumers),
	}
}

func (s *Workers) getScriptSettings(w http.ResponseWriter, r *http.Request) error {
	return api.View(w, s.store, ofScript(r, func(_ *api.Tx, sc *workerScript) (map[string]any, error) {
		return scriptSettingObject(sc), nil
	}))
}

// patchScriptSettings changes script-level settings in place; no version is created.
func (s *Workers) patchScriptSettings(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Logpush       *bool           `json:"logpush"`
		Observability json.RawMessage `json:"observability"`
		Tags          *[]string       `json:"tags"`
		TailConsumers json.RawMessage `json:"tail_consumers"`
	}
	if err := api.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	return api.Update(w, s.store, ofScript(r, func(tx *api.Tx, sc *workerScript) (map[string]any, error) {
		applyScriptSettings(sc, &uploadMetadata{Logpush: body.Logpush, Observability: body.Observability, Tags: body.Tags, TailConsumers: body.TailConsumers})
		sc.ModifiedOn = s.now()
		return scriptSettingObject(sc), tx.Put(bucketWorkerScripts, sc.Name, sc)
	}))
}

func (s *Workers) getScriptSubdomain(w http.ResponseWriter, r *http.Request) error {
	return api.View(w, s.store, ofScript(r, func(_ *api.Tx, sc *workerScript) (scriptSubdomain, error) {
		return sc.Subdomain, nil
	}))
}

func (s *Workers) setScriptSubdomain(w http.ResponseWriter, r *http.Request, value scriptSubdomain) error {
	return api.Update(w, s.store, ofScript(r, func(tx *api.Tx, sc *workerScript) (scriptSubdomain, error) {
		sc.Subdomain = value
		return sc.Subdomain, tx.Put(bucketWorkerScripts, sc.Name, sc)
	}))
}

func (s *Workers) postScriptSubdomain(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Enabled         *bool `json:"enabled"`
		PreviewsEnabled *bool `json:"previews_enabled"`
	}
	if err := api.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	if body.Enabled == nil {
		return api.Errorf(http.StatusBadRequest, 10021, "enabled is required")
	}
	value := scriptSubdomain{Enabled: *body.Enabled}
	if body.PreviewsEnabled != nil {
		value.PreviewsEnabled = *body.PreviewsEnabled
	} else {
		value.PreviewsEnabled = *body.Enabled
	}
	return s.setScriptSubdomain(w, r, value)
}

func (s *Workers) deleteScriptSubdomain(w http.ResponseWriter, r *http.Request) error {
	return s.setScriptSubdomain(w, r, scriptSubdomain{})
}

func schedulesObject(sc *workerScript) map[string]any {
	out := sc.Schedules
	if out == nil {
		out = []workerSchedule{}
	}
	return map[string]any{"schedules": out}
}

func (s *Workers) getSchedules(w http.ResponseWriter, r *http.Request) error {
	return api.View(w, s.store, ofScript(r, func(_ *api.Tx, sc *workerScript) (map[string]any, error) {
		return schedulesObject(sc), nil
	}))
}

// putSchedules replaces the script's cron triggers; unchanged crons keep their created_on.
func (s *Workers) putSchedules(w http.ResponseWriter, r *http.Request) error {
	var body []struct {
		Cron string `json:"cron"`
	}
	if err := api.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	seen := map[string]bool{}
	var crons []string
	for _, item := range body {
		cron := strings.Join(strings.Fields(item.Cron), " ")
		if err := validateCron(cron); err != nil {
			return api.Errorf(http.StatusBadRequest, 10021, "Invalid cron expression %q: %v", item.Cron, err)
		}
		if !seen[cron] {
			seen[cron] = true
			crons = append(crons, cron)
		}
	}
	if len(crons) > maxCronTriggers {
		return api.Errorf(http.StatusBadRequest, 10021, "A Worker can have at most %d cron triggers, got %d", maxCronTriggers, len(crons))
	}
	var out map[string]any
	err := s.store.Update(func(tx *api.Tx) error {
		sc, err := loadScript(tx, r.PathValue("script_name"))
		if err != nil {
			return err
		}
		now := s.now().Format(workersTimeFormat)
		old := map[string]workerSchedule{}
		for _, sch := range sc.Schedules {
			old[sch.Cron] = sch
		}
		sc.Schedules = []workerSchedule{}
		for _, c := range crons {
			sch, ok := old[c]
			if !ok {
				sch = workerSchedule{Cron: c, CreatedOn: now, ModifiedOn: now}
			}
			sc.Schedules = append(sc.Schedules, sch)
		}
		out = schedulesObject(sc)
		return tx.Put(bucketWorkerScripts, sc.Name, sc)
	})
	if err != nil {
		return err
	}
	api.WriteResult(w, out)
	return nil
}
