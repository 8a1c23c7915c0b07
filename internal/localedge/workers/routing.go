package workers

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/dot-do/terraform-provider-servicesdo/internal/lazyregexp"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

type workerRoute struct {
	ID      string `json:"id"`
	Pattern string `json:"pattern"`
	Script  string `json:"script,omitempty"`
	zone    string
}

type workerDomain struct {
	ID          string `json:"id"`
	Hostname    string `json:"hostname"`
	Service     string `json:"service"`
	Environment string `json:"environment"`
	ZoneID      string `json:"zone_id"`
	ZoneName    string `json:"zone_name"`
	CertID      string `json:"cert_id"`
}

type workersSubdomain struct {
	Subdomain string `json:"subdomain"`
}

var (
	subdomainRE      = lazyregexp.New(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	domainHostnameRE = lazyregexp.New(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

func allRoutes(tx *api.Tx) ([]workerRoute, error) {
	entries, err := api.Entries[workerRoute](tx, bucketWorkerRoutes, "")
	out := make([]workerRoute, 0, len(entries))
	for _, e := range entries {
		e.Value.zone, _, _ = strings.Cut(e.Key, "/")
		out = append(out, e.Value)
	}
	return out, err
}

func zoneRoutes(tx *api.Tx, zone string) ([]workerRoute, error) {
	return api.All[workerRoute](tx, bucketWorkerRoutes, zone+"/")
}

// checkRoute validates a route's pattern against its zone and that its script exists (a
// route without a script disables Workers on the pattern).
func (s *Workers) checkRoute(tx *api.Tx, zone, id string, rt workerRoute) error {
	pattern := strings.TrimSpace(rt.Pattern)
	if pattern == "" {
		return api.Errorf(http.StatusBadRequest, 10021, "A route needs a pattern")
	}
	host := pattern
	if i := strings.Index(host, "://"); i >= 0 {
		host = host[i+3:]
	}
	host, _, _ = strings.Cut(host, "/")
	if strings.HasPrefix(host, "*.") {
		host = host[2:]
	} else {
		host = strings.TrimPrefix(host, "*")
	}
	if zoneName := s.zones[zone]; !hostInZone(host, zoneName) {
		return api.Errorf(http.StatusBadRequest, 10022, "Route pattern '%s' does not match zone '%s'", pattern, zoneName)
	}
	if rt.Script != "" && !scriptExists(tx, rt.Script) {
		return errScriptNotFound()
	}
	routes, err := zoneRoutes(tx, zone)
	if err != nil {
		return err
	}
	for _, other := range routes {
		if other.Pattern == pattern && other.ID != id {
			return api.Errorf(http.StatusBadRequest, 10020, "A route with the same pattern already exists: %s", pattern)
		}
	}
	return nil
}

func (s *Workers) createRoute(w http.ResponseWriter, r *http.Request) error {
	var rt workerRoute
	if err := api.DecodeJSON(w, r, &rt); err != nil {
		return err
	}
	zone := r.PathValue("zone_id")
	rt.ID = api.NewHexID()
	rt.Pattern = strings.TrimSpace(rt.Pattern)
	err := s.store.Update(func(tx *api.Tx) error {
		if err := s.checkRoute(tx, zone, rt.ID, rt); err != nil {
			return err
		}
		return tx.Put(bucketWorkerRoutes, zone+"/"+rt.ID, rt)
	})
	if err != nil {
		return err
	}
	api.WriteResult(w, rt)
	return nil
}

func (s *Workers) listRoutes(w http.ResponseWriter, r *http.Request) error {
	return api.View(w, s.store, func(tx *api.Tx) ([]workerRoute, error) {
		out, err := zoneRoutes(tx, r.PathValue("zone_id"))
		if out == nil {
			out = []workerRoute{}
		}
		return out, err
	})
}

func loadRoute(tx *api.Tx, zone, id string) (*workerRoute, error) {
	var rt workerRoute
	ok, err := tx.Get(bucketWorkerRoutes, zone+"/"+id, &rt)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errRouteNotFound()
	}
	return &rt, nil
}

func (s *Workers) getRoute(w http.ResponseWriter, r *http.Request) error {
	return api.View(w, s.store, func(tx *api.Tx) (*workerRoute, error) {
		return loadRoute(tx, r.PathValue("zone_id"), r.PathValue("route_id"))
	})
}

func (s *Workers) updateRoute(w http.ResponseWriter, r *http.Request) error {
	var body workerRoute
	if err := api.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	zone, id := r.PathValue("zone_id"), r.PathValue("route_id")
	return api.Update(w, s.store, func(tx *api.Tx) (*workerRoute, error) {
		rt, err := loadRoute(tx, zone, id)
		if err != nil {
			return nil, err
		}
		rt.Pattern, rt.Script = strings.TrimSpace(body.Pattern), body.Script
		if err := s.checkRoute(tx, zone, id, *rt); err != nil {
			return nil, err
		}
		return rt, tx.Put(bucketWorkerRoutes, zone+"/"+id, rt)
	})
}

func (s *Workers) deleteRoute(w http.ResponseWriter, r *http.Request) error {
	zone, id := r.PathValue("zone_id"), r.PathValue("route_id")
	err := s.store.Update(func(tx *api.Tx) error {
		if _, err := loadRoute(tx, zone, id); err != nil {
			return err
		}
		return tx.Delete(bucketWorkerRoutes, zone+"/"+id)
	})
	if err != nil {
		return err
	}
	api.WriteResult(w, map[string]string{"id": id})
	return nil
}

func allDomains(tx *api.Tx) ([]workerDomain, error) {
	out, err := api.All[workerDomain](tx, bucketWorkerDomains, "")
	sort.Slice(out, func(i, j int) bool { return out[i].Hostname < out[j].Hostname })
	return out, err
}

// resolveZone finds the zone of a custom domain: the given zone id or name, which must hold
// the hostname, or else the known zone with the longest name that is a suffix of it.
func (s *Workers) resolveZone(hostname, zoneID, zoneName string) (string, string, error) {
	switch {
	case zoneID != "":
		name, ok := s.zones[zoneID]
		if !ok {
			return "", "", api.Errorf(http.StatusBadRequest, 10021, "Zone '%s' not found", zoneID)
		}
		if zoneName != "" && !strings.EqualFold(zoneName, name) {
			return "", "", api.Errorf(http.StatusBadRequest, 10021, "zone_name '%s' does not match zone '%s' (%s)", zoneName, zoneID, name)
		}
		if !hostInZone(hostname, name) {
			return "", "", api.Errorf(http.StatusBadRequest, 10021, "Hostname '%s' is not in zone '%s'", hostname, name)
		}
		return zoneID, name, nil
	case zoneName != "":
		for id, name := range s.zones {
			if strings.EqualFold(name, zoneName) {
				if !hostInZone(hostname, name) {
					return "", "", api.Errorf(http.StatusBadRequest, 10021, "Hostname '%s' is not in zone '%s'", hostname, name)
				}
				return id, name, nil
			}
		}
		return "", "", api.Errorf(http.StatusBadRequest, 10021, "Zone '%s' not found", zoneName)
	}
	bestID, bestName := "", ""
	for id, name := range s.zones {
		if hostInZone(hostname, name) && len(name) > len(bestName) {
			bestID, bestName = id, name
		}
	}
	if bestID == "" {
		return "", "", api.Errorf(http.StatusBadRequest, 10021, "Hostname '%s' does not belong to any zone on this account", hostname)
	}
	return bestID, bestName, nil
}

// putDomain attaches a hostname to a Worker; attaching an attached hostname updates it in place.
func (s *Workers) putDomain(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Hostname    string `json:"hostname"`
		Service     string `json:"service"`
		Environment string `json:"environment"`
		ZoneID      string `json:"zone_id"`
		ZoneName    string `json:"zone_name"`
	}
	if err := api.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	hostname := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(body.Hostname), "."))
	if !domainHostnameRE.MatchString(hostname) {
		return api.Errorf(http.StatusBadRequest, 10021, "Invalid hostname '%s'", body.Hostname)
	}
	if body.Service == "" {
		return api.Errorf(http.StatusBadRequest, 10021, "A custom domain needs a service (the Worker's name)")
	}
	env := body.Environment
	if env == "" {
		env = "production"
	}
	zoneID, zoneName, err := s.resolveZone(hostname, body.ZoneID, body.ZoneName)
	if err != nil {
		return err
	}
	var out workerDomain
	err = s.store.Update(func(tx *api.Tx) error {
		if !scriptExists(tx, body.Service) {
			return errScriptNotFound()
		}
		domains, err := allDomains(tx)
		if err != nil {
			return err
		}
		out = workerDomain{ID: api.NewHexID(), CertID: api.NewUUID()}
		for _, d := range domains {
			if d.Hostname == hostname {
				out = d
			}
		}
		out.Hostname, out.Service, out.Environment, out.ZoneID, out.ZoneName = hostname, body.Service, env, zoneID, zoneName
		return tx.Put(bucketWorkerDomains, out.ID, out)
	})
	if err != nil {
		return err
	}
	api.WriteResult(w, out)
	return nil
}

func (s *Workers) listDomains(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var all []workerDomain
	if err := s.store.View(func(tx *api.Tx) (err error) {
		all, err = allDomains(tx)
		return err
	}); err != nil {
		return err
	}
	out := []workerDomain{}
	for _, d := range all {
		if (q.Get("hostname") != "" && !strings.EqualFold(q.Get("hostname"), d.Hostname)) ||
			(q.Get("service") != "" && q.Get("service") != d.Service) ||
			(q.Get("zone_id") != "" && q.Get("zone_id") != d.ZoneID) ||
			(q.Get("zone_name") != "" && !strings.EqualFold(q.Get("zone_name"), d.ZoneName)) ||
			(q.Get("environment") != "" && q.Get("environment") != d.Environment) {
			continue
		}
		out = append(out, d)
	}
	api.WriteResult(w, out)
	return nil
}

func loadDomain(tx *api.Tx, id string) (*workerDomain, error) {
	var d workerDomain
	ok, err := tx.Get(bucketWorkerDomains, id, &d)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, api.Errorf(http.StatusNotFound, 10007, "Domain '%s' not found.", id)
	}
	return &d, nil
}

func (s *Workers) getDomain(w http.ResponseWriter, r *http.Request) error {
	return api.View(w, s.store, func(tx *api.Tx) (*workerDomain, error) {
		return loadDomain(tx, r.PathValue("domain_id"))
	})
}

func (s *Workers) deleteDomain(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("domain_id")
	err := s.store.Update(func(tx *api.Tx) error {
		if _, err := loadDomain(tx, id); err != nil {
			return err
		}
		return tx.Delete(bucketWorkerDomains, id)
	})
	if err != nil {
		return err
	}
	api.WriteResult(w, nil)
	return nil
}

// deleteScriptRouting removes the routes and custom domains of a deleted script.
func deleteScriptRouting(tx *api.Tx, script string) error {
	routes, err := allRoutes(tx)
	if err != nil {
		return err
	}
	for _, rt := range routes {
		if rt.Script == script {
			if err := tx.Delete(bucketWorkerRoutes, rt.zone+"/"+rt.ID); err != nil {
				return err
			}
		}
	}
	domains, err := allDomains(tx)
	if err != nil {
		return err
	}
	for _, d := range domains {
		if d.Service == script {
			if err := tx.Delete(bucketWorkerDomains, d.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

const subdomainKey = "subdomain"

func (s *Workers) getAccountSubdomain(w http.ResponseWriter, r *http.Request) error {
	var sub workersSubdomain
	var ok bool
	if err := s.store.View(func(tx *api.Tx) (err error) {
		ok, err = tx.Get(bucketWorkerAccount, subdomainKey, &sub)
		return err
	}); err != nil {
		return err
	}
	if !ok {
		return errNoSubdomain()
	}
	api.WriteResult(w, sub)
	return nil
}

func (s *Workers) putAccountSubdomain(w http.ResponseWriter, r *http.Request) error {
	var body workersSubdomain
	if err := api.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	if !subdomainRE.MatchString(body.Subdomain) {
		return api.Errorf(http.StatusBadRequest, 10021, "Invalid workers.dev subdomain '%s': use 1-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen", body.Subdomain)
	}
	if err := s.store.Update(func(tx *api.Tx) error {
		return tx.Put(bucketWorkerAccount, subdomainKey, body)
	}); err != nil {
		return err
	}
	api.WriteResult(w, body)
	return nil
}

// deleteAccountSubdomain answers 204 without a body, as the API does.
func (s *Workers) deleteAccountSubdomain(w http.ResponseWriter, r *http.Request) error {
	err := s.store.Update(func(tx *api.Tx) error {
		if _, ok := tx.GetRaw(bucketWorkerAccount, subdomainKey); !ok {
			return errNoSubdomain()
		}
		return tx.Delete(bucketWorkerAccount, subdomainKey)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// subdomainSeededKey marks that the store was given its first workers.dev subdomain, so that
// a subdomain deleted through the API stays deleted across restarts.
const subdomainSeededKey = "subdomain_seeded"

// SeedSubdomain gives a fresh store the workers.dev subdomain name, as a new Cloudflare
// account gets one: <script>.<name>.workers.dev then reaches a script with workers.dev on.
// A store that was seeded before keeps what it has. An empty name seeds nothing.
func (s *Workers) SeedSubdomain(name string) error {
	if name == "" {
		return nil
	}
	if !subdomainRE.MatchString(name) {
		return fmt.Errorf("invalid workers.dev subdomain %q: use 1-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen", name)
	}
	return s.store.Update(func(tx *api.Tx) error {
		if tx.Has(bucketWorkerAccount, subdomainSeededKey) || tx.Has(bucketWorkerAccount, subdomainKey) {
			return nil
		}
		if err := tx.Put(bucketWorkerAccount, subdomainKey, workersSubdomain{Subdomain: name}); err != nil {
			return err
		}
		return tx.Put(bucketWorkerAccount, subdomainSeededKey, true)
	})
}
