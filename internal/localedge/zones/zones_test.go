package zones_test

import (
	"context"
	"testing"

	cloudflare "github.com/cloudflare/cloudflare-go/v7"
	cfzones "github.com/cloudflare/cloudflare-go/v7/zones"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

// The zones endpoints, driven by cloudflare-go's zones package.
func TestZones(t *testing.T) {
	t.Parallel()
	const shopZone = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	e := edgetest.Start(t, edgetest.WithConfig(func(c *localedge.Config) {
		c.Zones = map[string]string{edgetest.ZoneID: edgetest.ZoneName, shopZone: "shop.example.com"}
	}))
	ctx := context.Background()
	svc := cfzones.NewZoneService(e.SDK(edgetest.Token)...)

	z, err := svc.Get(ctx, cfzones.ZoneGetParams{ZoneID: cloudflare.F(edgetest.ZoneID)})
	if err != nil || z.ID != edgetest.ZoneID || z.Name != edgetest.ZoneName || z.Status != cfzones.ZoneStatusActive ||
		z.Account.ID != edgetest.AccountID || z.Type != cfzones.TypeFull || z.CreatedOn.IsZero() {
		t.Fatalf("get = %+v, %v", z, err)
	}
	_, err = svc.Get(ctx, cfzones.ZoneGetParams{ZoneID: cloudflare.F("cccccccccccccccccccccccccccccccc")})
	edgetest.WantAPIError(t, err, 400, 7003)

	all, err := svc.List(ctx, cfzones.ZoneListParams{})
	if err != nil || len(all.Result) != 2 || all.Result[0].Name != "example.com" || all.Result[1].Name != "shop.example.com" || all.ResultInfo.Page != 1 {
		t.Fatalf("list = %+v, %v", all, err)
	}
	byName, err := svc.List(ctx, cfzones.ZoneListParams{Name: cloudflare.F("Shop.Example.com")})
	if err != nil || len(byName.Result) != 1 || byName.Result[0].ID != shopZone {
		t.Fatalf("by name = %+v, %v", byName, err)
	}
	other, err := svc.List(ctx, cfzones.ZoneListParams{Account: cloudflare.F(cfzones.ZoneListParamsAccount{ID: cloudflare.F("ffffffffffffffffffffffffffffffff")})})
	if err != nil || len(other.Result) != 0 {
		t.Fatalf("other account = %+v, %v", other, err)
	}
	var names []string
	pager := svc.ListAutoPaging(ctx, cfzones.ZoneListParams{PerPage: cloudflare.F(1.0)})
	for pager.Next() {
		names = append(names, pager.Current().Name)
	}
	if err := pager.Err(); err != nil || len(names) != 2 {
		t.Fatalf("paged = %v, %v", names, err)
	}
	_, err = svc.List(ctx, cfzones.ZoneListParams{PerPage: cloudflare.F(51.0)})
	edgetest.WantAPIError(t, err, 400, 10001)
}
