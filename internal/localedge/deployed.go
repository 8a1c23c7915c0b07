package localedge

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// DeployedScript is what the edge runs for one script: its active deployment's versions and
// the Durable Object classes it implements.
type DeployedScript struct {
	Name       string
	WorkersDev bool
	Versions   []DeployedVersion
	Splits     []DeployedSplit
	Classes    []DeployedClass
}

// DeployedVersion is one version of a deployment, with secret values (the runtime needs them).
type DeployedVersion struct {
	ID         string
	MainModule string
	// ServiceWorker marks a service-worker upload (body_part): MainModule is a classic script.
	ServiceWorker      bool
	Modules            []DeployedModule
	CompatibilityDate  string
	CompatibilityFlags []string
	Bindings           []map[string]any
}

// DeployedModule is one module of a version.
type DeployedModule struct {
	Name        string
	ContentType string
	Content     []byte
}

// DeployedSplit is a version's share of a script's traffic.
type DeployedSplit struct {
	VersionID  string
	Percentage float64
}

// DeployedClass is a Durable Object class a script implements.
type DeployedClass struct {
	Class       string
	SQLite      bool
	NamespaceID string
}

// Routing is how requests reach scripts: zone routes and custom domains.
type Routing struct {
	Routes  []DeployedRoute
	Domains []DeployedDomain
}

// DeployedRoute is a zone route pattern.
type DeployedRoute struct {
	Pattern, Script, ZoneName string
}

// DeployedDomain is a custom domain.
type DeployedDomain struct {
	Hostname, Script string
}

// Deployed reads everything the edge needs to serve traffic, in one consistent transaction.
func (s *Server) Deployed() ([]DeployedScript, Routing, error) {
	var scripts []DeployedScript
	var routing Routing
	err := s.store.View(func(tx *Tx) error {
		var all []workerScript
		if err := tx.Each(bucketWorkerScripts, "", "", func(_ string, raw []byte) (bool, error) {
			var sc workerScript
			err := json.Unmarshal(raw, &sc)
			all = append(all, sc)
			return true, err
		}); err != nil {
			return err
		}
		namespaces, err := allDONamespaces(tx)
		if err != nil {
			return err
		}
		for i := range all {
			ds, err := deployedScript(tx, &all[i], namespaces)
			if err != nil {
				return err
			}
			scripts = append(scripts, ds)
		}
		routes, err := allRoutes(tx)
		if err != nil {
			return err
		}
		for _, rt := range routes {
			if rt.Script != "" {
				routing.Routes = append(routing.Routes, DeployedRoute{Pattern: rt.Pattern, Script: rt.Script, ZoneName: s.cfg.Zones[rt.zone]})
			}
		}
		return tx.Each(bucketWorkerDomains, "", "", func(_ string, raw []byte) (bool, error) {
			var d workerDomain
			err := json.Unmarshal(raw, &d)
			routing.Domains = append(routing.Domains, DeployedDomain{Hostname: d.Hostname, Script: d.Service})
			return true, err
		})
	})
	sort.Slice(scripts, func(i, j int) bool { return scripts[i].Name < scripts[j].Name })
	return scripts, routing, err
}

func allDONamespaces(tx *Tx) ([]doNamespace, error) {
	var out []doNamespace
	err := tx.Each(bucketDONamespaces, "", "", func(_ string, raw []byte) (bool, error) {
		var ns doNamespace
		err := json.Unmarshal(raw, &ns)
		out = append(out, ns)
		return true, err
	})
	return out, err
}

func deployedScript(tx *Tx, sc *workerScript, namespaces []doNamespace) (DeployedScript, error) {
	ds := DeployedScript{Name: sc.Name, WorkersDev: sc.Subdomain.Enabled}
	deps, err := listDeployments(tx, sc.Name)
	if err != nil {
		return ds, err
	}
	var splits []deploymentVersion
	if len(deps) > 0 {
		splits = deps[0].Versions
	} else if latest, err := loadVersion(tx, sc.Name, sc.LastVersion); err == nil {
		splits = []deploymentVersion{{VersionID: latest.ID, Percentage: 100}}
	}
	for _, split := range splits {
		v, err := findVersion(tx, sc.Name, split.VersionID)
		if err != nil {
			return ds, err
		}
		if v == nil {
			continue
		}
		dv := DeployedVersion{ID: v.ID, MainModule: v.MainModule, CompatibilityDate: v.CompatibilityDate, CompatibilityFlags: v.CompatibilityFlags}
		if v.MainModule == "" && v.BodyPart != "" {
			dv.MainModule, dv.ServiceWorker = v.BodyPart, true
		}
		for _, m := range v.Modules {
			dv.Modules = append(dv.Modules, DeployedModule(m))
		}
		for _, b := range v.Bindings {
			dv.Bindings = append(dv.Bindings, map[string]any(b))
		}
		ds.Versions = append(ds.Versions, dv)
		ds.Splits = append(ds.Splits, DeployedSplit(split))
	}
	for _, ns := range namespaces {
		if ns.Script == sc.Name {
			ds.Classes = append(ds.Classes, DeployedClass{Class: ns.Class, SQLite: ns.UseSqlite, NamespaceID: ns.ID})
		}
	}
	return ds, nil
}

// changeNotifier calls subscribers after every acknowledged write to Workers state.
type changeNotifier struct {
	mu   sync.Mutex
	subs []func()
}

// OnChange registers fn to be called (on the request's goroutine; keep it quick) after each
// successful write that changes what the edge runs.
func (s *Server) OnChange(fn func()) {
	s.changes.mu.Lock()
	defer s.changes.mu.Unlock()
	s.changes.subs = append(s.changes.subs, fn)
}

func (s *Server) notifyChange() {
	s.changes.mu.Lock()
	subs := append([]func(){}, s.changes.subs...)
	s.changes.mu.Unlock()
	for _, fn := range subs {
		fn()
	}
}

// changesWorkers reports whether a request may change what the edge runs.
func changesWorkers(r *http.Request) bool {
	return r.Method != http.MethodGet && r.Method != http.MethodHead &&
		(strings.Contains(r.URL.Path, "/workers/") || strings.Contains(r.URL.Path, "/durable_objects/"))
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
