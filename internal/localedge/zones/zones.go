// Package zones emulates the zones API subset (GET /zones, GET /zones/{zone_id}) over the
// local edge's configured zones. Zones are configuration of the local edge, not API objects:
// they cannot be created or changed through the API, only read, with Cloudflare's shapes
// (cloudflare-go's zones.Zone).
package zones

import (
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

// Zones serves the configured zones (id → name) of one account.
type Zones struct {
	accountID string
	zones     map[string]string
}

// New serves zones for the account.
func New(accountID string, zones map[string]string) *Zones {
	return &Zones{accountID: accountID, zones: zones}
}

// Routes is the zones API. An unknown zone_id is answered by the server's central check
// (400, 7003), as Cloudflare answers it.
func (z *Zones) Routes() []api.Route {
	return []api.Route{
		{Pattern: "GET /zones", Handle: z.listZones},
		{Pattern: "GET /zones/{zone_id}", Handle: z.getZone},
	}
}

// zonesDefaultPerPage and zonesMaxPerPage are the page sizes of GET /zones.
const (
	zonesDefaultPerPage = 20
	zonesMaxPerPage     = 50
)

// zonesSince is when every local zone reports being created and activated: zones exist from
// the edge's start, and a fixed instant keeps responses stable across restarts.
var zonesSince = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// zoneObject renders a zone as the API does (cloudflare-go's zones.Zone).
func (z *Zones) zoneObject(id, name string) map[string]any {
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
		"account":     map[string]any{"id": z.accountID, "name": "Local edge account"},
		"permissions": []string{"#zone:read", "#worker:edit"},
		"plan": map[string]any{
			"id": "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "name": "Free Website", "price": 0, "currency": "USD",
			"frequency": "", "is_subscribed": false, "can_subscribe": false, "legacy_id": "free",
			"legacy_discount": false, "externally_managed": false,
		},
	}
}

func (z *Zones) getZone(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("zone_id")
	api.WriteResult(w, z.zoneObject(id, z.zones[id]))
	return nil
}

// listZones serves GET /zones with the filters the provider and the SDK use: name (exact,
// case-insensitive), account.id and status, sorted by name and paged.
func (z *Zones) listZones(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	page, perPage, err := api.PageParams(r, zonesDefaultPerPage, zonesMaxPerPage)
	if err != nil {
		return err
	}
	if account := q.Get("account.id"); account != "" && account != z.accountID {
		api.WritePage(w, []any{}, api.PageInfo(page, perPage, 0, 0))
		return nil
	}
	if status := q.Get("status"); status != "" && status != "active" {
		api.WritePage(w, []any{}, api.PageInfo(page, perPage, 0, 0))
		return nil
	}
	name := strings.ToLower(q.Get("name"))
	ids := make([]string, 0, len(z.zones))
	for id, zoneName := range z.zones {
		if name == "" || strings.ToLower(zoneName) == name {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool {
		if z.zones[ids[i]] != z.zones[ids[j]] {
			return z.zones[ids[i]] < z.zones[ids[j]]
		}
		return ids[i] < ids[j]
	})
	window := api.PageSlice(ids, page, perPage)
	out := make([]map[string]any, 0, len(window))
	for _, id := range window {
		out = append(out, z.zoneObject(id, z.zones[id]))
	}
	api.WritePage(w, out, api.PageInfo(page, perPage, len(out), len(ids)))
	return nil
}
