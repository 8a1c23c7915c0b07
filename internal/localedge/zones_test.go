package localedge

import (
	"testing"

	cloudflare "github.com/cloudflare/cloudflare-go/v7"
	"github.com/cloudflare/cloudflare-go/v7/zones"
)

// The zones endpoints, driven by cloudflare-go's zones package.
func TestZones(t *testing.T) {
	e := newWorkersEnv(t)
	z, err := e.client.Zones.Get(e.ctx, zones.ZoneGetParams{ZoneID: cloudflare.F(wZone)})
	if err != nil || z.ID != wZone || z.Name != wZoneName || z.Status != zones.ZoneStatusActive || z.Account.ID != wAccount || z.Type != zones.TypeFull || z.CreatedOn.IsZero() {
		t.Fatalf("get = %+v, %v", z, err)
	}
	_, err = e.client.Zones.Get(e.ctx, zones.ZoneGetParams{ZoneID: cloudflare.F("cccccccccccccccccccccccccccccccc")})
	wantAPIError(t, err, 400, 7003)

	all, err := e.client.Zones.List(e.ctx, zones.ZoneListParams{})
	if err != nil || len(all.Result) != 2 || all.Result[0].Name != "example.com" || all.Result[1].Name != "shop.example.com" || all.ResultInfo.Page != 1 {
		t.Fatalf("list = %+v, %v", all, err)
	}
	byName, err := e.client.Zones.List(e.ctx, zones.ZoneListParams{Name: cloudflare.F("Shop.Example.com")})
	if err != nil || len(byName.Result) != 1 || byName.Result[0].ID != "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" {
		t.Fatalf("by name = %+v, %v", byName, err)
	}
	other, err := e.client.Zones.List(e.ctx, zones.ZoneListParams{Account: cloudflare.F(zones.ZoneListParamsAccount{ID: cloudflare.F("ffffffffffffffffffffffffffffffff")})})
	if err != nil || len(other.Result) != 0 {
		t.Fatalf("other account = %+v, %v", other, err)
	}
	var names []string
	pager := e.client.Zones.ListAutoPaging(e.ctx, zones.ZoneListParams{PerPage: cloudflare.F(1.0)})
	for pager.Next() {
		names = append(names, pager.Current().Name)
	}
	if err := pager.Err(); err != nil || len(names) != 2 {
		t.Fatalf("paged = %v, %v", names, err)
	}
	_, err = e.client.Zones.List(e.ctx, zones.ZoneListParams{PerPage: cloudflare.F(51.0)})
	wantAPIError(t, err, 400, 10001)
}
