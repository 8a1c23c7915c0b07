package workers

import (
	"encoding/json"
	"net/http"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

func isSecret(b api.Binding) bool {
	return b.Str("type") == "secret_text" || b.Str("type") == "secret_key"
}

// secretName is the secret named in the path. The mux has already unescaped the segment,
// which is what url_encoded=true asks for; decoding again would corrupt names with '%'.
func secretName(r *http.Request) string {
	return r.PathValue("secret_name")
}

// changeSecrets applies change to the latest version's bindings as a new version deployed at
// 100 %, provided the latest version is the one fully deployed (10215 otherwise).
func (s *Workers) changeSecrets(tx *api.Tx, script string, change func(bs []api.Binding) ([]api.Binding, error)) error {
	sc, err := loadScript(tx, script)
	if err != nil {
		return err
	}
	ok, err := latestFullyDeployed(tx, sc)
	if err != nil {
		return err
	}
	if !ok {
		return api.Errorf(http.StatusBadRequest, 10215, "Secret edit failed. You attempted to modify a secret, but the latest version of your Worker isn't currently deployed. Please ensure that the latest version of your Worker is fully deployed (100%% of traffic) before modifying secrets.")
	}
	latest, err := loadVersion(tx, script, sc.LastVersion)
	if err != nil {
		return err
	}
	v := copyVersion(latest)
	if v.Bindings, err = change(v.Bindings); err != nil {
		return err
	}
	if err := s.addAndDeployVersion(tx, sc, v, "secret"); err != nil {
		return err
	}
	return tx.Put(bucketWorkerScripts, script, sc)
}

// Limits of secrets: a secret's text, and the whole request (a secret_key's JWK is larger).
const (
	maxSecretBytes     = 5 << 10
	maxSecretBodyBytes = 64 << 10
)

func (s *Workers) putSecret(w http.ResponseWriter, r *http.Request) error {
	body, err := api.LimitBody(w, r, maxSecretBodyBytes)
	if err != nil {
		return errSecretBodyTooLarge()
	}
	var b api.Binding
	dec := json.NewDecoder(body)
	dec.UseNumber()
	if err := dec.Decode(&b); err != nil {
		if api.IsTooLarge(err) {
			return errSecretBodyTooLarge()
		}
		return api.Errorf(http.StatusBadRequest, 10026, "could not parse request body: %v", err)
	}
	name, typ := b.Str("name"), b.Str("type")
	if name == "" {
		return api.Errorf(http.StatusBadRequest, 10052, "A secret needs a name")
	}
	if typ == "" {
		typ, b["type"] = "secret_text", "secret_text"
	}
	if !isSecret(b) {
		return api.Errorf(http.StatusBadRequest, 10021, "Secret type must be secret_text or secret_key, got %q", typ)
	}
	for _, f := range bindingTypes[typ] {
		if v, ok := b[f]; !ok || v == nil {
			return api.Errorf(http.StatusBadRequest, 10021, "Secret '%s' of type %s is missing the required field '%s'", name, typ, f)
		}
	}
	if typ == "secret_text" {
		text, ok := b["text"].(string)
		if !ok {
			return api.Errorf(http.StatusBadRequest, 10021, "Secret '%s': text must be a string", name)
		}
		if len(text) > maxSecretBytes {
			return errSecretTooLarge(name, len(text))
		}
	}
	err = s.store.Update(func(tx *api.Tx) error {
		return s.changeSecrets(tx, r.PathValue("script_name"), func(bs []api.Binding) ([]api.Binding, error) {
			for i, old := range bs {
				if old.Str("name") != name {
					continue
				}
				if !isSecret(old) {
					return nil, api.Errorf(http.StatusBadRequest, 10021, "Binding name '%s' is already in use by a %s binding", name, old.Str("type"))
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
	api.WriteResult(w, public(b))
	return nil
}

// latestSecrets returns the secret bindings of the latest version.
func latestSecrets(tx *api.Tx, script string) ([]api.Binding, error) {
	sc, err := loadScript(tx, script)
	if err != nil {
		return nil, err
	}
	v, err := loadVersion(tx, script, sc.LastVersion)
	if err != nil {
		return nil, err
	}
	out := []api.Binding{}
	for _, b := range v.Bindings {
		if isSecret(b) {
			out = append(out, public(b))
		}
	}
	return out, nil
}

func (s *Workers) listSecrets(w http.ResponseWriter, r *http.Request) error {
	var out []api.Binding
	if err := s.store.View(func(tx *api.Tx) (err error) {
		out, err = latestSecrets(tx, r.PathValue("script_name"))
		return err
	}); err != nil {
		return err
	}
	api.WriteResult(w, out)
	return nil
}

func (s *Workers) getSecret(w http.ResponseWriter, r *http.Request) error {
	name := secretName(r)
	var out api.Binding
	if err := s.store.View(func(tx *api.Tx) error {
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
	api.WriteResult(w, out)
	return nil
}

func (s *Workers) deleteSecret(w http.ResponseWriter, r *http.Request) error {
	name := secretName(r)
	err := s.store.Update(func(tx *api.Tx) error {
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
		return s.changeSecrets(tx, r.PathValue("script_name"), func(bs []api.Binding) ([]api.Binding, error) {
			out := bs[:0]
			for _, b := range bs {
				if !isSecret(b) || b.Str("name") != name {
					out = append(out, b)
				}
			}
			return out, nil
		})
	})
	if err != nil {
		return err
	}
	api.WriteResult(w, nil)
	return nil
}
