package workers_test

import (
	"strings"
	"testing"

	cloudflare "github.com/cloudflare/cloudflare-go/v7"
	cfworkers "github.com/cloudflare/cloudflare-go/v7/workers"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

func TestWorkersRoutes(t *testing.T) {
	e := newEnv(t)
	zone := cloudflare.F(edgetest.ZoneID)
	e.mustUpload("api", cfworkers.ScriptUpdateParamsMetadata{})
	e.mustUpload("web", cfworkers.ScriptUpdateParamsMetadata{})

	rt, err := e.workers.Routes.New(e.ctx, cfworkers.RouteNewParams{ZoneID: zone, Pattern: cloudflare.F("example.com/api/*"), Script: cloudflare.F("api")})
	if err != nil || !hexID.MatchString(rt.ID) || rt.Pattern != "example.com/api/*" || rt.Script != "api" {
		t.Fatalf("create = %+v, %v", rt, err)
	}
	// A route without a script disables Workers on the pattern.
	off, err := e.workers.Routes.New(e.ctx, cfworkers.RouteNewParams{ZoneID: zone, Pattern: cloudflare.F("*.example.com/static/*")})
	if err != nil || off.Script != "" {
		t.Fatalf("scriptless = %+v, %v", off, err)
	}
	_, err = e.workers.Routes.New(e.ctx, cfworkers.RouteNewParams{ZoneID: zone, Pattern: cloudflare.F("example.com/api/*"), Script: cloudflare.F("web")})
	edgetest.WantAPIError(t, err, 400, 10020)
	_, err = e.workers.Routes.New(e.ctx, cfworkers.RouteNewParams{ZoneID: zone, Pattern: cloudflare.F("example.com/x"), Script: cloudflare.F("ghost")})
	edgetest.WantAPIError(t, err, 404, 10007)
	_, err = e.workers.Routes.New(e.ctx, cfworkers.RouteNewParams{ZoneID: zone, Pattern: cloudflare.F("other.org/*"), Script: cloudflare.F("api")})
	edgetest.WantAPIError(t, err, 400, 10022)
	_, err = e.workers.Routes.New(e.ctx, cfworkers.RouteNewParams{ZoneID: cloudflare.F("cccccccccccccccccccccccccccccccc"), Pattern: cloudflare.F("example.com/*")})
	edgetest.WantAPIError(t, err, 400, 7003)

	list, err := e.workers.Routes.List(e.ctx, cfworkers.RouteListParams{ZoneID: zone})
	if err != nil || len(list.Result) != 2 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	other, err := e.workers.Routes.List(e.ctx, cfworkers.RouteListParams{ZoneID: cloudflare.F("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")})
	if err != nil || len(other.Result) != 0 {
		t.Fatalf("other zone = %+v, %v", other, err)
	}
	got, err := e.workers.Routes.Get(e.ctx, rt.ID, cfworkers.RouteGetParams{ZoneID: zone})
	if err != nil || got.ID != rt.ID || got.Script != "api" {
		t.Fatalf("get = %+v, %v", got, err)
	}
	up, err := e.workers.Routes.Update(e.ctx, rt.ID, cfworkers.RouteUpdateParams{ZoneID: zone, Pattern: cloudflare.F("example.com/v2/*"), Script: cloudflare.F("web")})
	if err != nil || up.ID != rt.ID || up.Pattern != "example.com/v2/*" || up.Script != "web" {
		t.Fatalf("update = %+v, %v", up, err)
	}
	// Updating a route to its own pattern is not a duplicate; to another's is.
	if _, err := e.workers.Routes.Update(e.ctx, rt.ID, cfworkers.RouteUpdateParams{ZoneID: zone, Pattern: cloudflare.F("example.com/v2/*"), Script: cloudflare.F("api")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.workers.Routes.Update(e.ctx, rt.ID, cfworkers.RouteUpdateParams{ZoneID: zone, Pattern: cloudflare.F("*.example.com/static/*")})
	edgetest.WantAPIError(t, err, 400, 10020)
	del, err := e.workers.Routes.Delete(e.ctx, rt.ID, cfworkers.RouteDeleteParams{ZoneID: zone})
	if err != nil || del.ID != rt.ID {
		t.Fatalf("delete = %+v, %v", del, err)
	}
	_, err = e.workers.Routes.Get(e.ctx, rt.ID, cfworkers.RouteGetParams{ZoneID: zone})
	edgetest.WantAPIError(t, err, 404, 10007)
	_, err = e.workers.Routes.Delete(e.ctx, rt.ID, cfworkers.RouteDeleteParams{ZoneID: zone})
	edgetest.WantAPIError(t, err, 404, 10007)
	_, err = e.workers.Routes.Update(e.ctx, rt.ID, cfworkers.RouteUpdateParams{ZoneID: zone, Pattern: cloudflare.F("example.com/*")})
	edgetest.WantAPIError(t, err, 404, 10007)
}

func TestWorkersCustomDomains(t *testing.T) {
	e := newEnv(t)
	acct := cloudflare.F(edgetest.AccountID)
	e.mustUpload("api", cfworkers.ScriptUpdateParamsMetadata{})
	e.mustUpload("web", cfworkers.ScriptUpdateParamsMetadata{})

	d, err := e.workers.Domains.Update(e.ctx, cfworkers.DomainUpdateParams{AccountID: acct, Hostname: cloudflare.F("api.example.com"), Service: cloudflare.F("api"), ZoneID: cloudflare.F(edgetest.ZoneID)})
	if err != nil || d.ID == "" || d.Hostname != "api.example.com" || d.Service != "api" || d.ZoneID != edgetest.ZoneID || d.ZoneName != edgetest.ZoneName || d.CERTID == "" {
		t.Fatalf("attach = %+v, %v", d, err)
	}
	// Without a zone, the longest matching zone name wins.
	shop, err := e.workers.Domains.Update(e.ctx, cfworkers.DomainUpdateParams{AccountID: acct, Hostname: cloudflare.F("www.shop.example.com"), Service: cloudflare.F("web")})
	if err != nil || shop.ZoneName != "shop.example.com" || shop.ZoneID != "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" {
		t.Fatalf("zone inference = %+v, %v", shop, err)
	}
	// Re-attaching a hostname updates it in place.
	again, err := e.workers.Domains.Update(e.ctx, cfworkers.DomainUpdateParams{AccountID: acct, Hostname: cloudflare.F("api.example.com"), Service: cloudflare.F("web"), ZoneName: cloudflare.F(edgetest.ZoneName)})
	if err != nil || again.ID != d.ID || again.Service != "web" {
		t.Fatalf("upsert = %+v, %v", again, err)
	}

	bad := []struct {
		name   string
		params cfworkers.DomainUpdateParams
		status int
		code   int64
	}{
		{"unknown zone id", cfworkers.DomainUpdateParams{Hostname: cloudflare.F("a.example.com"), Service: cloudflare.F("api"), ZoneID: cloudflare.F("cccccccccccccccccccccccccccccccc")}, 400, 10021},
		{"host outside zone", cfworkers.DomainUpdateParams{Hostname: cloudflare.F("a.other.org"), Service: cloudflare.F("api"), ZoneID: cloudflare.F(edgetest.ZoneID)}, 400, 10021},
		{"no zone", cfworkers.DomainUpdateParams{Hostname: cloudflare.F("a.other.org"), Service: cloudflare.F("api")}, 400, 10021},
		{"unknown zone name", cfworkers.DomainUpdateParams{Hostname: cloudflare.F("a.other.org"), Service: cloudflare.F("api"), ZoneName: cloudflare.F("other.org")}, 400, 10021},
		{"bad hostname", cfworkers.DomainUpdateParams{Hostname: cloudflare.F("not a host"), Service: cloudflare.F("api")}, 400, 10021},
		{"missing service", cfworkers.DomainUpdateParams{Hostname: cloudflare.F("b.example.com"), Service: cloudflare.F("ghost")}, 404, 10007},
	}
	for _, tc := range bad {
		tc.params.AccountID = acct
		_, err := e.workers.Domains.Update(e.ctx, tc.params)
		t.Run(tc.name, func(t *testing.T) { edgetest.WantAPIError(t, err, tc.status, tc.code) })
	}

	list, err := e.workers.Domains.List(e.ctx, cfworkers.DomainListParams{AccountID: acct})
	if err != nil || len(list.Result) != 2 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	for _, f := range []cfworkers.DomainListParams{
		{AccountID: acct, Hostname: cloudflare.F("api.example.com")},
		{AccountID: acct, ZoneID: cloudflare.F(edgetest.ZoneID)},
		{AccountID: acct, ZoneName: cloudflare.F(edgetest.ZoneName)},
	} {
		got, err := e.workers.Domains.List(e.ctx, f)
		if err != nil || len(got.Result) != 1 || got.Result[0].ID != d.ID {
			t.Fatalf("filter %+v = %+v, %v", f, got, err)
		}
	}
	got, _ := e.workers.Domains.List(e.ctx, cfworkers.DomainListParams{AccountID: acct, Service: cloudflare.F("web")})
	if len(got.Result) != 2 {
		t.Fatalf("service filter = %+v", got.Result)
	}
	got, _ = e.workers.Domains.List(e.ctx, cfworkers.DomainListParams{AccountID: acct, Service: cloudflare.F("api")})
	if got.Result == nil || len(got.Result) != 0 {
		t.Fatalf("empty filter = %+v", got)
	}

	one, err := e.workers.Domains.Get(e.ctx, d.ID, cfworkers.DomainGetParams{AccountID: acct})
	if err != nil || one.Hostname != "api.example.com" {
		t.Fatalf("get = %+v, %v", one, err)
	}
	res, err := e.workers.Domains.Delete(e.ctx, d.ID, cfworkers.DomainDeleteParams{AccountID: acct})
	if err != nil || !bool(res.Success) || !strings.Contains(res.JSON.RawJSON(), `"success":true`) {
		t.Fatalf("delete = %+v, %v", res, err)
	}
	_, err = e.workers.Domains.Get(e.ctx, d.ID, cfworkers.DomainGetParams{AccountID: acct})
	edgetest.WantAPIError(t, err, 404, 10007)
	_, err = e.workers.Domains.Delete(e.ctx, d.ID, cfworkers.DomainDeleteParams{AccountID: acct})
	edgetest.WantAPIError(t, err, 404, 10007)
}
