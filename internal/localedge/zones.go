package localedge

import (
	"net/http"
	"sort"
	"strings"
	"time"
)

// Zones are configuration of the local edge (Config.Zones), not API objects: they cannot be
// created or changed through the API, only read, with Cloudflare's shapes.

// zonesDefaultPerPage and zonesMaxPerPage are the page sizes of GET /zones.
const (
	zonesDefaultPerPage = 20
	zonesMaxPerPage     = 50
)

// zonesSince is when every local zone reports being created and activated: zones exist from
// the edge's start, and a fixed instant keeps responses stable across restarts.
var zonesSince = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func (s *Server) registerZoneRoutes() {
	s.handle("GET /zones", s.listZones)
	// An unknown zone_id is answered by the central check in handle (400, 7003), as
	// Cloudflare answers it.
	s.handle("GET /zones/{zone_id}", s.getZone)
}

// zoneObject renders a zone as the API does (cloudflare-go's zones.Zone).
func (s *Server) zoneObject(id, name string) map[string]any {
	when := zonesSince.Format(time.RFC3339Nano)
	return map[string]any{
		"id":                    id,
		"name":                  name,
		"status":                "active",
		"paused":                false,
		"type":                  "full",
		"development_mode":      0,
		"name_servers":          []string{"ada.ns.cloudflare.com", "bob.ns.cloudflare.com"},
		"original_name_servers": nil,
		"original_registrar":    nil,
		"original_dnshost":      nil,
		"vanity_name_servers":   []string{},
		"created_on":            when,
		"modified_on":           when,
		"activated_on":          when,
		"meta": map[string]any{
			"cdn_only": false, "custom_certificate_quota": 0, "dns_only": false, "foundation_dns": false,
			"page_rule_quota": 3, "phishing_detected": false, "step": 2,
		},
		"owner":       map[string]any{"id": nil, "name": nil, "type": "user"},
		"account":     map[string]any{"id": s.cfg.AccountID, "name": "Local edge account"},
		"permissions": []string{"#zone:read", "#worker:edit"},
		"plan": map[string]any{
			"id": "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "name": "Free Website", "price": 0, "currency": "USD",
			"frequency": "", "is_subscribed": false, "can_subscribe": false, "legacy_id": "free",
			"legacy_discount": false, "externally_managed": false,
		},
	}
}

func (s *Server) getZone(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("zone_id")
	writeResult(w, s.zoneObject(id, s.cfg.Zones[id]))
	return nil
}

// listZones serves GET /zones with the filters the provider and the SDK use: name (exact,
// case-insensitive), account.id and status, sorted by name and paged.
func (s *Server) listZones(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	page, perPage, err := pageParams(r, zonesDefaultPerPage, zonesMaxPerPage)
	if err != nil {
		return err
	}
	if account := q.Get("account.id"); account != "" && account != s.cfg.AccountID {
		writePage(w, []any{}, pageInfo(page, perPage, 0, 0))
		return nil
	}
	if status := q.Get("status"); status != "" && status != "active" {
		writePage(w, []any{}, pageInfo(page, perPage, 0, 0))
		return nil
	}
	name := strings.ToLower(q.Get("name"))
	ids := make([]string, 0, len(s.cfg.Zones))
	for id, zoneName := range s.cfg.Zones {
		if name == "" || strings.ToLower(zoneName) == name {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool {
		if s.cfg.Zones[ids[i]] != s.cfg.Zones[ids[j]] {
			return s.cfg.Zones[ids[i]] < s.cfg.Zones[ids[j]]
		}
		return ids[i] < ids[j]
	})
	from, to := pageSlice(len(ids), page, perPage)
	out := make([]map[string]any, 0, to-from)
	for _, id := range ids[from:to] {
		out = append(out, s.zoneObject(id, s.cfg.Zones[id]))
	}
	writePage(w, out, pageInfo(page, perPage, len(out), len(ids)))
	return nil
}
