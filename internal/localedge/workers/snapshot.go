package workers

import (
	"fmt"
	"sort"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/deploy"
)

// Snapshot reads everything the edge serves in one consistent transaction.
func (s *Workers) Snapshot() (deploy.Snapshot, error) {
	var snap deploy.Snapshot
	err := s.store.View(func(tx *api.Tx) (err error) {
		snap, err = s.snapshot(tx)
		return err
	})
	return snap, err
}

// SnapshotTx reads what the edge serves within tx, for a snapshot that other products add to.
func (s *Workers) SnapshotTx(tx *api.Tx) (deploy.Snapshot, error) { return s.snapshot(tx) }

func (s *Workers) snapshot(tx *api.Tx) (deploy.Snapshot, error) {
	snap := deploy.Snapshot{Scripts: []deploy.Script{}}
	scripts, err := api.All[*workerScript](tx, bucketWorkerScripts, "")
	if err != nil {
		return snap, err
	}
	namespaces, err := api.All[doNamespace](tx, bucketDONamespaces, "")
	if err != nil {
		return snap, err
	}
	for _, sc := range scripts {
		ds, err := deployedScript(tx, sc, namespaces)
		if err != nil {
			return snap, err
		}
		if len(ds.Deployment) > 0 {
			snap.Scripts = append(snap.Scripts, ds)
		}
	}
	sort.Slice(snap.Scripts, func(i, j int) bool { return snap.Scripts[i].Name < snap.Scripts[j].Name })
	routes, err := allRoutes(tx)
	if err != nil {
		return snap, err
	}
	for _, rt := range routes {
		if rt.Script != "" {
			snap.Routes = append(snap.Routes, deploy.Route{Pattern: rt.Pattern, Script: rt.Script, ZoneName: s.zones[rt.zone]})
		}
	}
	domains, err := api.All[workerDomain](tx, bucketWorkerDomains, "")
	for _, d := range domains {
		snap.Domains = append(snap.Domains, deploy.Domain{Hostname: d.Hostname, Script: d.Service})
	}
	if err != nil {
		return snap, err
	}
	var sub workersSubdomain
	if _, err := tx.Get(bucketWorkerAccount, subdomainKey, &sub); err != nil {
		return snap, err
	}
	snap.WorkersSubdomain = sub.Subdomain
	return snap, nil
}

// deployedScript is the script's active deployment (or, without one, its latest version).
func deployedScript(tx *api.Tx, sc *workerScript, namespaces []doNamespace) (deploy.Script, error) {
	ds := deploy.Script{Name: sc.Name, WorkersDev: sc.Subdomain.Enabled}
	for _, sch := range sc.Schedules {
		ds.Crons = append(ds.Crons, sch.Cron)
	}
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
		ds.Versions = append(ds.Versions, deployedVersion(v))
		ds.Deployment = append(ds.Deployment, deploy.Split(split))
	}
	ds.Classes = classesOf(sc.Name, namespaces)
	return ds, nil
}

// classesOf lists the Durable Object classes the script implements.
func classesOf(script string, namespaces []doNamespace) []deploy.Class {
	var out []deploy.Class
	for _, ns := range namespaces {
		if ns.Script == script {
			out = append(out, deploy.Class{Class: ns.Class, SQLite: ns.UseSqlite, NamespaceID: ns.ID})
		}
	}
	return out
}

// deployedVersion is a stored version as the runtime runs it.
func deployedVersion(v *workerVersion) deploy.Version {
	dv := deploy.Version{ID: v.ID, MainModule: v.MainModule, CompatibilityDate: v.CompatibilityDate, CompatibilityFlags: v.CompatibilityFlags, Bindings: v.Bindings}
	if v.MainModule == "" && v.BodyPart != "" {
		dv.MainModule, dv.ServiceWorker = v.BodyPart, true
	}
	for _, m := range v.Modules {
		dv.Modules = append(dv.Modules, deploy.Module(m))
	}
	return dv
}

// ScriptExists reports whether a Worker script with the name exists.
func (s *Workers) ScriptExists(name string) bool {
	var ok bool
	_ = s.store.View(func(tx *api.Tx) error {
		ok = scriptExists(tx, name)
		return nil
	})
	return ok
}

// ScriptModules returns the modules (name → content) of the version serving most of a
// script's traffic.
func (s *Workers) ScriptModules(name string) (map[string][]byte, error) {
	v, err := s.servedVersion(name)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, m := range v.Modules {
		out[m.Name] = m.Content
	}
	return out, nil
}

// ScriptBindings returns the bindings of the version serving most of a script's traffic,
// secret values included, sorted by name.
func (s *Workers) ScriptBindings(name string) ([]map[string]any, error) {
	v, err := s.servedVersion(name)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for _, b := range v.Bindings {
		out = append(out, map[string]any(b))
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]["name"]) < fmt.Sprint(out[j]["name"]) })
	return out, nil
}

func (s *Workers) servedVersion(name string) (*workerVersion, error) {
	var v *workerVersion
	err := s.store.View(func(tx *api.Tx) error {
		sc, err := loadScript(tx, name)
		if err != nil {
			return fmt.Errorf("worker %q does not exist", name)
		}
		v, err = servingVersion(tx, sc)
		return err
	})
	return v, err
}
