package workers

import (
	"net/http"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

// bindingTypes lists the binding types an upload accepts and the fields each requires.
var bindingTypes = map[string][]string{
	"plain_text": {"text"}, "secret_text": {"text"}, "json": {"json"},
	"kv_namespace": {"namespace_id"}, "r2_bucket": {"bucket_name"}, "durable_object_namespace": nil,
	"service": {"service"}, "queue": {"queue_name"}, "d1": nil, "workflow": {"workflow_name"},
	"analytics_engine": nil, "hyperdrive": {"id"}, "vectorize": {"index_name"},
	"mtls_certificate": {"certificate_id"}, "dispatch_namespace": {"namespace"}, "send_email": nil,
	"secrets_store_secret": {"store_id", "secret_name"}, "secret_key": {"algorithm", "format", "usages"},
	"ratelimit": {"namespace_id", "simple"}, "pipelines": {"pipeline"}, "vpc_service": {"service_id"},
	"vpc_network": nil, "wasm_module": {"part"}, "text_blob": {"part"}, "data_blob": {"part"},
	"inherit": nil, "ai": nil, "browser": nil, "images": nil, "media": nil, "assets": nil,
	"version_metadata": nil, "ai_search": {"instance_name"}, "ai_search_namespace": {"namespace"},
	"flagship": {"app_id"}, "messaging": nil,
}

// bindingRequest is the bindings an upload or settings change asks for.
type bindingRequest struct {
	given []api.Binding
	// keep lists binding types to carry over from the previous version (keep_bindings).
	keep []string
	// strictInherit makes an inherit binding with nothing to inherit an error (10057)
	// instead of being dropped.
	strictInherit bool
}

// resolve applies keep_bindings and inherit bindings against prev (the previous version, nil
// for a new script) and returns the binding set of the new version.
func (req bindingRequest) resolve(tx *api.Tx, script string, prev *workerVersion) ([]api.Binding, error) {
	out := []api.Binding{}
	names := map[string]bool{}
	for _, b := range req.given {
		name := b.Str("name")
		if name == "" {
			return nil, api.Errorf(http.StatusBadRequest, 10052, "A binding is missing the required field 'name'")
		}
		if names[name] {
			return nil, api.Errorf(http.StatusBadRequest, 10021, "Binding name '%s' is used more than once", name)
		}
		names[name] = true
		if b.Str("type") != "inherit" {
			out = append(out, b)
			continue
		}
		from := prev
		if id := b.Str("version_id"); id != "" && id != "latest" {
			v, err := findVersion(tx, script, id)
			if err != nil {
				return nil, err
			}
			from = v
		}
		src := b.Str("old_name")
		if src == "" {
			src = name
		}
		var found api.Binding
		if from != nil {
			for _, pb := range from.Bindings {
				if pb.Str("name") == src {
					found = pb
				}
			}
		}
		if found == nil {
			if req.strictInherit {
				return nil, api.Errorf(http.StatusBadRequest, 10057, "Cannot inherit binding '%s': no binding named '%s' on the previous version", name, src)
			}
			delete(names, name)
			continue
		}
		nb := found.Clone()
		nb["name"] = name
		out = append(out, nb)
	}
	if prev != nil && len(req.keep) > 0 {
		kept := map[string]bool{}
		for _, t := range req.keep {
			kept[t] = true
		}
		for _, pb := range prev.Bindings {
			if kept[pb.Str("type")] && !names[pb.Str("name")] {
				names[pb.Str("name")] = true
				out = append(out, pb)
			}
		}
	}
	return out, nil
}

// validateBindings checks each binding's shape and that its target exists: bindings to this
// product's objects (services, Durable Object classes, modules) here, the others through
// Targets. It runs after migrations so Durable Object classes reflect them.
func (s *Workers) validateBindings(tx *api.Tx, script string, v *workerVersion) error {
	for _, b := range v.Bindings {
		name, typ := b.Name(), b.Type()
		required, ok := bindingTypes[typ]
		if !ok || typ == "inherit" {
			return api.Errorf(http.StatusBadRequest, 10021, "Binding '%s' has unknown type '%s'", name, typ)
		}
		for _, f := range required {
			// An empty plain_text is a value (an empty variable); other fields must be set.
			if v, present := b[f]; !present || v == nil || (v == "" && (typ != "plain_text" || f != "text")) {
				return api.Errorf(http.StatusBadRequest, 10021, "Binding '%s' of type %s is missing the required field '%s'", name, typ, f)
			}
		}
		if err := checkOwnTarget(tx, script, v, b); err != nil {
			return err
		}
		if check := s.targets[typ]; check != nil {
			if err := check(tx, b); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkOwnTarget checks the bindings whose targets belong to the workers product.
func checkOwnTarget(tx *api.Tx, script string, v *workerVersion, b api.Binding) error {
	name, typ := b.Name(), b.Type()
	switch typ {
	case "d1":
		if b.Str("id") == "" && b.Str("database_id") == "" {
			return api.Errorf(http.StatusBadRequest, 10021, "Binding '%s' of type d1 is missing the required field 'id'", name)
		}
	case "service":
		if svc := b.Str("service"); svc != script && !scriptExists(tx, svc) {
			return api.Errorf(http.StatusBadRequest, 10056, "Could not find service '%s' for binding '%s'", svc, name)
		}
	case "durable_object_namespace":
		return validateDOBinding(tx, script, b)
	case "wasm_module", "text_blob", "data_blob":
		if v.MainModule != "" {
			return api.Errorf(http.StatusBadRequest, 10021, "Binding '%s' of type %s is only allowed for service-worker syntax Workers", name, typ)
		}
		for _, m := range v.Modules {
			if m.Name == b.Str("part") {
				return nil
			}
		}
		return api.Errorf(http.StatusBadRequest, 10021, "No such module %q (binding '%s')", b.Str("part"), name)
	}
	return nil
}

func validateDOBinding(tx *api.Tx, script string, b api.Binding) error {
	name := b.Str("name")
	if id := b.Str("namespace_id"); id != "" {
		if _, ok := tx.GetRaw(bucketDONamespaces, id); !ok {
			return api.Errorf(http.StatusBadRequest, 10056, "Durable Object namespace '%s' not found (binding '%s')", id, name)
		}
		return nil
	}
	class := b.Str("class_name")
	if class == "" {
		return api.Errorf(http.StatusBadRequest, 10021, "Binding '%s' of type durable_object_namespace needs a class_name", name)
	}
	owner := b.Str("script_name")
	if owner == "" {
		owner = script
	}
	ns, err := namespaceFor(tx, owner, class)
	if err != nil {
		return err
	}
	if ns == nil {
		return api.Errorf(http.StatusBadRequest, 10061, "Cannot create binding for class '%s' because it is not currently configured to implement Durable Objects. Did you forget to apply a migration? (binding '%s' of Worker '%s')", class, name, owner)
	}
	return nil
}

// public is the binding as the API returns it: secret material is never echoed.
func public(b api.Binding) api.Binding {
	out := api.Binding{}
	switch b.Str("type") {
	case "secret_text":
		return api.Binding{"name": b["name"], "type": b["type"]}
	case "secret_key":
		for k, v := range b {
			if k != "key_base64" && k != "key_jwk" {
				out[k] = v
			}
		}
		return out
	}
	for k, v := range b {
		out[k] = v
	}
	if b.Str("type") == "d1" {
		// The API accepts either spelling of the database id; echo both.
		if out["id"] == nil {
			out["id"] = out["database_id"]
		}
		if out["database_id"] == nil {
			out["database_id"] = out["id"]
		}
	}
	return out
}

func publicBindings(bs []api.Binding) []api.Binding {
	out := make([]api.Binding, 0, len(bs))
	for _, b := range bs {
		out = append(out, public(b))
	}
	return out
}
