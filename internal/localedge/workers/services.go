package workers

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

// A service is Cloudflare's name for a Worker with its environments; every script is the
// default ("production") environment of the service of the same name. These routes are the
// service view of a script (wrangler and the official provider read it), its routes as a
// set, its references and the availability of workers.dev subdomains.

const defaultEnvironment = "production"

func errServiceNotFound() *api.Error {
	return api.Errorf(http.StatusNotFound, 10090, "workers.api.error.service_not_found")
}

// serviceObject renders GET /workers/services/{name}: the service with its default
// environment, whose script is the full script object of the serving version.
func serviceObject(tx *api.Tx, sc *workerScript) (map[string]any, error) {
	v, err := servingVersion(tx, sc)
	if err != nil {
		return nil, err
	}
	script, err := scriptObject(tx, sc, v)
	if err != nil {
		return nil, err
	}
	created, modified := sc.CreatedOn.Format(workersTimeFormat), sc.ModifiedOn.Format(workersTimeFormat)
	return map[string]any{
		"id":          sc.Name,
		"created_on":  created,
		"modified_on": modified,
		"usage_model": v.UsageModel,
		"default_environment": map[string]any{
			"environment": defaultEnvironment,
			"created_on":  created,
			"modified_on": modified,
			"script_tag":  sc.Tag,
			"script":      script,
		},
		"environments": []map[string]any{{"environment": defaultEnvironment, "created_on": created, "modified_on": modified}},
	}, nil
}

// loadService returns the script behind a service, or 10090.
func loadService(tx *api.Tx, name string) (*workerScript, error) {
	sc, err := loadScript(tx, name)
	if err != nil {
		return nil, errServiceNotFound()
	}
	return sc, nil
}

func (s *Workers) getService(w http.ResponseWriter, r *http.Request) error {
	return api.View(w, s.store, func(tx *api.Tx) (map[string]any, error) {
		sc, err := loadService(tx, r.PathValue("service_name"))
		if err != nil {
			return nil, err
		}
		return serviceObject(tx, sc)
	})
}

// deleteService deletes the service's script, with DELETE script's rules (force).
func (s *Workers) deleteService(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("service_name")
	if err := s.store.View(func(tx *api.Tx) error {
		_, err := loadService(tx, name)
		return err
	}); err != nil {
		return err
	}
	r.SetPathValue("script_name", name)
	return s.deleteScript(w, r)
}

// scriptRoute is an item of PUT /workers/scripts/{name}/routes: a route pattern and
// optionally the zone it belongs to (by id or name); without one, the zone is the known zone
// the pattern's host is in.
type scriptRoute struct {
	Pattern  string `json:"pattern"`
	ZoneID   string `json:"zone_id,omitempty"`
	ZoneName string `json:"zone_name,omitempty"`
}

// routeHost is the host a route pattern matches ("*.example.com/*" → "example.com").
func routeHost(pattern string) string {
	host := pattern
	if i := strings.Index(host, "://"); i >= 0 {
		host = host[i+3:]
	}
	host, _, _ = strings.Cut(host, "/")
	if strings.HasPrefix(host, "*.") {
		return host[2:]
	}
	return strings.TrimPrefix(host, "*")
}

// putScriptRoutes replaces every zone route of the script with the given ones, in one
// transaction: a pattern held by another script fails the whole request.
func (s *Workers) putScriptRoutes(w http.ResponseWriter, r *http.Request) error {
	var body []scriptRoute
	if err := api.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	name := r.PathValue("script_name")
	type placed struct {
		route    workerRoute
		zoneName string
	}
	wanted := make([]placed, 0, len(body))
	for _, item := range body {
		pattern := strings.TrimSpace(item.Pattern)
		if pattern == "" {
			return api.Errorf(http.StatusBadRequest, 10021, "A route needs a pattern")
		}
		zoneID, zoneName, err := s.resolveZone(strings.ToLower(routeHost(pattern)), item.ZoneID, item.ZoneName)
		if err != nil {
			return err
		}
		wanted = append(wanted, placed{route: workerRoute{Pattern: pattern, Script: name, zone: zoneID}, zoneName: zoneName})
	}
	out := []listedRoute{}
	err := s.store.Update(func(tx *api.Tx) error {
		if _, err := loadScript(tx, name); err != nil {
			return err
		}
		existing, err := allRoutes(tx)
		if err != nil {
			return err
		}
		kept := map[string]workerRoute{} // zone/pattern → this script's route, kept with its id
		for _, rt := range existing {
			if rt.Script == name {
				kept[rt.zone+"/"+rt.Pattern] = rt
				if err := tx.Delete(bucketWorkerRoutes, rt.zone+"/"+rt.ID); err != nil {
					return err
				}
			}
		}
		for _, p := range wanted {
			rt := p.route
			if old, ok := kept[rt.zone+"/"+rt.Pattern]; ok {
				rt.ID = old.ID
			} else {
				rt.ID = api.NewHexID()
			}
			if err := s.checkRoute(tx, rt.zone, rt.ID, rt); err != nil {
				return err
			}
			if err := tx.Put(bucketWorkerRoutes, rt.zone+"/"+rt.ID, rt); err != nil {
				return err
			}
			out = append(out, listedRoute{ID: rt.ID, Pattern: rt.Pattern, Script: name, ZoneID: rt.zone, ZoneName: p.zoneName})
		}
		return nil
	})
	if err != nil {
		return err
	}
	api.WriteResult(w, out)
	return nil
}

// listedRoute is an item of the script routes' answers.
type listedRoute struct {
	ID       string `json:"id"`
	Pattern  string `json:"pattern"`
	Script   string `json:"script"`
	ZoneID   string `json:"zone_id"`
	ZoneName string `json:"zone_name"`
}

// getScriptRoutes lists the script's zone routes across zones.
func (s *Workers) getScriptRoutes(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("script_name")
	return api.View(w, s.store, func(tx *api.Tx) ([]listedRoute, error) {
		if _, err := loadScript(tx, name); err != nil {
			return nil, err
		}
		routes, err := allRoutes(tx)
		if err != nil {
			return nil, err
		}
		out := []listedRoute{}
		for _, rt := range routes {
			if rt.Script == name {
				out = append(out, listedRoute{ID: rt.ID, Pattern: rt.Pattern, Script: name, ZoneID: rt.zone, ZoneName: s.zones[rt.zone]})
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Pattern < out[j].Pattern })
		return out, nil
	})
}

// scriptReference is an item of the references lists: the script (service) that holds it.
type scriptReference struct {
	Service     string `json:"service"`
	Environment string `json:"environment"`
}

type doReference struct {
	scriptReference
	NamespaceID   string `json:"durable_object_namespace_id"`
	NamespaceName string `json:"durable_object_namespace_name"`
}

// getReferences answers what depends on the script: services whose serving version binds it
// (service bindings), and the scripts bound to the Durable Object namespaces it implements
// (including itself).
func (s *Workers) getReferences(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("script_name")
	return api.View(w, s.store, func(tx *api.Tx) (map[string]any, error) {
		if _, err := loadScript(tx, name); err != nil {
			return nil, err
		}
		nss, err := scriptNamespaces(tx, name)
		if err != nil {
			return nil, err
		}
		scripts, err := api.All[*workerScript](tx, bucketWorkerScripts, "")
		if err != nil {
			return nil, err
		}
		incoming := []scriptReference{}
		dos := []doReference{}
		for _, sc := range scripts {
			v, err := servingVersion(tx, sc)
			if err != nil {
				return nil, err
			}
			ref := scriptReference{Service: sc.Name, Environment: defaultEnvironment}
			bindsService := false
			for _, b := range v.Bindings {
				switch b.Type() {
				case "service":
					if b.Str("service") == name && sc.Name != name {
						bindsService = true
					}
				case "durable_object_namespace":
					owner := b.Str("script_name")
					if owner == "" {
						owner = sc.Name
					}
					if owner != name {
						continue
					}
					for _, ns := range nss {
						if ns.Class == b.Str("class_name") || ns.ID == b.Str("namespace_id") {
							dos = append(dos, doReference{scriptReference: ref, NamespaceID: ns.ID, NamespaceName: ns.Name})
						}
					}
				}
			}
			if bindsService {
				incoming = append(incoming, ref)
			}
		}
		return map[string]any{
			"services":           map[string]any{"incoming": incoming, "outgoing": []scriptReference{}, "pages_function": false},
			"durable_objects":    dos,
			"dispatch_outbounds": []any{},
		}, nil
	})
}

// getSubdomainAvailability answers whether a workers.dev subdomain can be registered: 10032
// when it is free (the API answers with an error either way), 10031 when it is taken (here:
// it is this account's).
func (s *Workers) getSubdomainAvailability(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("subdomain_name")
	if !subdomainRE.MatchString(name) {
		return api.Errorf(http.StatusBadRequest, 10021, "Invalid workers.dev subdomain '%s': use 1-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen", name)
	}
	var sub workersSubdomain
	var ok bool
	if err := s.store.View(func(tx *api.Tx) (err error) {
		ok, err = tx.Get(bucketWorkerAccount, subdomainKey, &sub)
		return err
	}); err != nil {
		return err
	}
	if ok && sub.Subdomain == name {
		return api.Errorf(http.StatusConflict, 10031, "Subdomain '%s' is unavailable", name)
	}
	return api.Errorf(http.StatusNotFound, 10032, "Subdomain '%s' is available", name)
}

// uploader is who made a request, as versions' metadata.source and scripts'
// last_deployed_from report it: Cloudflare tells its own clients apart by their user agent.
func uploader(r *http.Request) string {
	ua := strings.ToLower(r.UserAgent())
	switch {
	case strings.HasPrefix(ua, "wrangler"):
		return "wrangler"
	case strings.Contains(ua, "terraform"):
		return "terraform"
	default:
		return "api"
	}
}

// TailProducers returns the scripts whose tail_consumers send their events to consumer.
func (s *Workers) TailProducers(consumer string) ([]string, error) {
	var out []string
	err := s.store.View(func(tx *api.Tx) error {
		scripts, err := api.All[*workerScript](tx, bucketWorkerScripts, "")
		if err != nil {
			return err
		}
		for _, sc := range scripts {
			var consumers []struct {
				Service string `json:"service"`
			}
			if len(sc.TailConsumers) > 0 && json.Unmarshal(sc.TailConsumers, &consumers) == nil {
				for _, c := range consumers {
					if c.Service == consumer {
						out = append(out, sc.Name)
						break
					}
				}
			}
		}
		return nil
	})
	return out, err
}
