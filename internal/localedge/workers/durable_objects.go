package workers

import (
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"

	"bytes"
	"encoding/json"
	"net/http"
	"sort"
)

// doNamespace is a Durable Object namespace; only migrations create, rename, move or delete one.
type doNamespace struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Script    string `json:"script"`
	Class     string `json:"class"`
	UseSqlite bool   `json:"use_sqlite"`
}

func allNamespaces(tx *api.Tx) ([]doNamespace, error) {
	out, err := api.All[doNamespace](tx, bucketDONamespaces, "")
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

func scriptNamespaces(tx *api.Tx, script string) ([]doNamespace, error) {
	all, err := allNamespaces(tx)
	if err != nil {
		return nil, err
	}
	var out []doNamespace
	for _, ns := range all {
		if ns.Script == script {
			out = append(out, ns)
		}
	}
	return out, nil
}

func namespaceFor(tx *api.Tx, script, class string) (*doNamespace, error) {
	nss, err := scriptNamespaces(tx, script)
	if err != nil {
		return nil, err
	}
	for i := range nss {
		if nss[i].Class == class {
			return &nss[i], nil
		}
	}
	return nil, nil
}

// migrationStep is one step of a Durable Object migration (metadata.migrations of PUT script).
type migrationStep struct {
	NewClasses       []string `json:"new_classes"`
	NewSqliteClasses []string `json:"new_sqlite_classes"`
	DeletedClasses   []string `json:"deleted_classes"`
	RenamedClasses   []struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"renamed_classes"`
	TransferredClasses []struct {
		From       string `json:"from"`
		FromScript string `json:"from_script"`
		To         string `json:"to"`
	} `json:"transferred_classes"`
}

// migrations is the single-step shape, or the multi-step one when Steps is set.
type migrations struct {
	OldTag string          `json:"old_tag"`
	NewTag string          `json:"new_tag"`
	Steps  []migrationStep `json:"steps"`
	migrationStep
}

// applyMigrations checks the tag precondition, applies the steps in order and returns the
// script's new migration tag.
func applyMigrations(tx *api.Tx, script, currentTag string, raw json.RawMessage) (string, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return currentTag, nil
	}
	var m migrations
	if err := json.Unmarshal(raw, &m); err != nil {
		return "", api.Errorf(http.StatusBadRequest, 10021, "Invalid migrations: %v", err)
	}
	if currentTag != "" && m.OldTag != currentTag {
		return "", api.Errorf(http.StatusBadRequest, 10079, "Migration tag precondition failed; current tag is '%s'", currentTag)
	}
	steps := m.Steps
	if len(steps) == 0 {
		steps = []migrationStep{m.migrationStep}
	}
	for _, st := range steps {
		if err := applyMigrationStep(tx, script, st); err != nil {
			return "", err
		}
	}
	if m.NewTag != "" {
		return m.NewTag, nil
	}
	return currentTag, nil
}

func applyMigrationStep(tx *api.Tx, script string, st migrationStep) error {
	create := func(class string, sqlite bool) error {
		ns, err := namespaceFor(tx, script, class)
		if err != nil {
			return err
		}
		if ns != nil {
			return api.Errorf(http.StatusBadRequest, 10074, "Cannot apply new-class migration to class '%s' that already exists", class)
		}
		id := api.NewHexID()
		return tx.Put(bucketDONamespaces, id, doNamespace{ID: id, Name: script + "_" + class, Script: script, Class: class, UseSqlite: sqlite})
	}
	for _, c := range st.NewClasses {
		if err := create(c, false); err != nil {
			return err
		}
	}
	for _, c := range st.NewSqliteClasses {
		if err := create(c, true); err != nil {
			return err
		}
	}
	move := func(fromScript, from, to, kind string) error {
		ns, err := namespaceFor(tx, fromScript, from)
		if err != nil {
			return err
		}
		if ns == nil {
			return api.Errorf(http.StatusBadRequest, 10074, "Cannot apply %s migration: class '%s' of Worker '%s' does not implement Durable Objects", kind, from, fromScript)
		}
		if existing, err := namespaceFor(tx, script, to); err != nil {
			return err
		} else if existing != nil && existing.ID != ns.ID {
			return api.Errorf(http.StatusBadRequest, 10074, "Cannot apply %s migration: class '%s' already exists", kind, to)
		}
		ns.Script, ns.Class, ns.Name = script, to, script+"_"+to
		return tx.Put(bucketDONamespaces, ns.ID, ns)
	}
	for _, rc := range st.RenamedClasses {
		if err := move(script, rc.From, rc.To, "renamed_classes"); err != nil {
			return err
		}
	}
	for _, tc := range st.TransferredClasses {
		if tc.FromScript == "" {
			return api.Errorf(http.StatusBadRequest, 10021, "transferred_classes entry for class '%s' needs from_script", tc.From)
		}
		if err := move(tc.FromScript, tc.From, tc.To, "transferred_classes"); err != nil {
			return err
		}
	}
	for _, c := range st.DeletedClasses {
		ns, err := namespaceFor(tx, script, c)
		if err != nil {
			return err
		}
		if ns == nil {
			return api.Errorf(http.StatusBadRequest, 10074, "Cannot apply deleted_classes migration: class '%s' does not implement Durable Objects", c)
		}
		if err := tx.Delete(bucketDONamespaces, ns.ID); err != nil {
			return err
		}
	}
	return nil
}

func (s *Workers) listDONamespaces(w http.ResponseWriter, r *http.Request) error {
	page, perPage, err := api.PageParams(r, 20, 1000)
	if err != nil {
		return err
	}
	var all []doNamespace
	if err := s.store.View(func(tx *api.Tx) (err error) {
		all, err = allNamespaces(tx)
		return err
	}); err != nil {
		return err
	}
	api.WritePaged(w, all, page, perPage)
	return nil
}

// listDOObjects lists a namespace's objects. The local edge's API does not see the objects
// that running Workers create, so the list is empty.
func (s *Workers) listDOObjects(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("namespace_id")
	var ok bool
	_ = s.store.View(func(tx *api.Tx) error {
		_, ok = tx.GetRaw(bucketDONamespaces, id)
		return nil
	})
	if !ok {
		return api.Errorf(http.StatusNotFound, 10007, "Durable Object namespace '%s' not found", id)
	}
	api.WritePage(w, []any{}, map[string]any{"count": 0, "cursors": map[string]string{"after": ""}})
	return nil
}
