package localedge

import (
	"strings"
	"testing"

	cloudflare "github.com/cloudflare/cloudflare-go/v7"
	"github.com/cloudflare/cloudflare-go/v7/workers"
)

func TestWorkersRoutes(t *testing.T) {
	e := newWorkersEnv(t)
	zone := cloudflare.F(wZone)
	e.mustUpload("api", workers.ScriptUpdateParamsMetadata{})
	e.mustUpload("web", workers.ScriptUpdateParamsMetadata{})

	rt, err := e.client.Workers.Routes.New(e.ctx, workers.RouteNewParams{ZoneID: zone, Pattern: cloudflare.F("example.com/api/*"), Script: cloudflare.F("api")})
	if err != nil || !wHex32.MatchString(rt.ID) || rt.Pattern != "example.com/api/*" || rt.Script != "api" {
		t.Fatalf("create = %+v, %v", rt, err)
	}
	// A route without a script disables Workers on the pattern.
	off, err := e.client.Workers.Routes.New(e.ctx, workers.RouteNewParams{ZoneID: zone, Pattern: cloudflare.F("*.example.com/static/*")})
	if err != nil || off.Script != "" {
		t.Fatalf("scriptless = %+v, %v", off, err)
	}
	_, err = e.client.Workers.Routes.New(e.ctx, workers.RouteNewParams{ZoneID: zone, Pattern: cloudflare.F("example.com/api/*"), Script: cloudflare.F("web")})
	wantAPIError(t, err, 400, 10020)
	_, err = e.client.Workers.Routes.New(e.ctx, workers.RouteNewParams{ZoneID: zone, Pattern: cloudflare.F("example.com/x"), Script: cloudflare.F("ghost")})
	wantAPIError(t, err, 404, 10007)
	_, err = e.client.Workers.Routes.New(e.ctx, workers.RouteNewParams{ZoneID: zone, Pattern: cloudflare.F("other.org/*"), Script: cloudflare.F("api")})
	wantAPIError(t, err, 400, 10022)
	_, err = e.client.Workers.Routes.New(e.ctx, workers.RouteNewParams{ZoneID: cloudflare.F("cccccccccccccccccccccccccccccccc"), Pattern: cloudflare.F("example.com/*")})
	wantAPIError(t, err, 400, 7003)

	list, err := e.client.Workers.Routes.List(e.ctx, workers.RouteListParams{ZoneID: zone})
	if err != nil || len(list.Result) != 2 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	other, err := e.client.Workers.Routes.List(e.ctx, workers.RouteListParams{ZoneID: cloudflare.F("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")})
	if err != nil || len(other.Result) != 0 {
		t.Fatalf("other zone = %+v, %v", other, err)
	}
	got, err := e.client.Workers.Routes.Get(e.ctx, rt.ID, workers.RouteGetParams{ZoneID: zone})
	if err != nil || got.ID != rt.ID || got.Script != "api" {
		t.Fatalf("get = %+v, %v", got, err)
	}
	up, err := e.client.Workers.Routes.Update(e.ctx, rt.ID, workers.RouteUpdateParams{ZoneID: zone, Pattern: cloudflare.F("example.com/v2/*"), Script: cloudflare.F("web")})
	if err != nil || up.ID != rt.ID || up.Pattern != "example.com/v2/*" || up.Script != "web" {
		t.Fatalf("update = %+v, %v", up, err)
	}
	// Updating a route to its own pattern is not a duplicate; to another's is.
	if _, err := e.client.Workers.Routes.Update(e.ctx, rt.ID, workers.RouteUpdateParams{ZoneID: zone, Pattern: cloudflare.F("example.com/v2/*"), Script: cloudflare.F("api")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.Workers.Routes.Update(e.ctx, rt.ID, workers.RouteUpdateParams{ZoneID: zone, Pattern: cloudflare.F("*.example.com/static/*")})
	wantAPIError(t, err, 400, 10020)
	del, err := e.client.Workers.Routes.Delete(e.ctx, rt.ID, workers.RouteDeleteParams{ZoneID: zone})
	if err != nil || del.ID != rt.ID {
		t.Fatalf("delete = %+v, %v", del, err)
	}
	_, err = e.client.Workers.Routes.Get(e.ctx, rt.ID, workers.RouteGetParams{ZoneID: zone})
	wantAPIError(t, err, 404, 10007)
	_, err = e.client.Workers.Routes.Delete(e.ctx, rt.ID, workers.RouteDeleteParams{ZoneID: zone})
	wantAPIError(t, err, 404, 10007)
	_, err = e.client.Workers.Routes.Update(e.ctx, rt.ID, workers.RouteUpdateParams{ZoneID: zone, Pattern: cloudflare.F("example.com/*")})
	wantAPIError(t, err, 404, 10007)
}

func TestWorkersCustomDomains(t *testing.T) {
	e := newWorkersEnv(t)
	acct := cloudflare.F(wAccount)
	e.mustUpload("api", workers.ScriptUpdateParamsMetadata{})
	e.mustUpload("web", workers.ScriptUpdateParamsMetadata{})

	d, err := e.client.Workers.Domains.Update(e.ctx, workers.DomainUpdateParams{AccountID: acct, Hostname: cloudflare.F("api.example.com"), Service: cloudflare.F("api"), ZoneID: cloudflare.F(wZone)})
	if err != nil || d.ID == "" || d.Hostname != "api.example.com" || d.Service != "api" || d.ZoneID != wZone || d.ZoneName != wZoneName || d.CERTID == "" {
		t.Fatalf("attach = %+v, %v", d, err)
	}
	// Without a zone, the longest matching zone name wins.
	shop, err := e.client.Workers.Domains.Update(e.ctx, workers.DomainUpdateParams{AccountID: acct, Hostname: cloudflare.F("www.shop.example.com"), Service: cloudflare.F("web")})
	if err != nil || shop.ZoneName != "shop.example.com" || shop.ZoneID != "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" {
		t.Fatalf("zone inference = %+v, %v", shop, err)
	}
	// Re-attaching a hostname updates it in place.
	again, err := e.client.Workers.Domains.Update(e.ctx, workers.DomainUpdateParams{AccountID: acct, Hostname: cloudflare.F("api.example.com"), Service: cloudflare.F("web"), ZoneName: cloudflare.F(wZoneName)})
	if err != nil || again.ID != d.ID || again.Service != "web" {
		t.Fatalf("upsert = %+v, %v", again, err)
	}

	bad := []struct {
		name   string
		params workers.DomainUpdateParams
		status int
		code   int64
	}{
		{"unknown zone id", workers.DomainUpdateParams{Hostname: cloudflare.F("a.example.com"), Service: cloudflare.F("api"), ZoneID: cloudflare.F("cccccccccccccccccccccccccccccccc")}, 400, 10021},
		{"host outside zone", workers.DomainUpdateParams{Hostname: cloudflare.F("a.other.org"), Service: cloudflare.F("api"), ZoneID: cloudflare.F(wZone)}, 400, 10021},
		{"no zone", workers.DomainUpdateParams{Hostname: cloudflare.F("a.other.org"), Service: cloudflare.F("api")}, 400, 10021},
		{"unknown zone name", workers.DomainUpdateParams{Hostname: cloudflare.F("a.other.org"), Service: cloudflare.F("api"), ZoneName: cloudflare.F("other.org")}, 400, 10021},
		{"bad hostname", workers.DomainUpdateParams{Hostname: cloudflare.F("not a host"), Service: cloudflare.F("api")}, 400, 10021},
		{"missing service", workers.DomainUpdateParams{Hostname: cloudflare.F("b.example.com"), Service: cloudflare.F("ghost")}, 404, 10007},
	}
	for _, tc := range bad {
		tc.params.AccountID = acct
		_, err := e.client.Workers.Domains.Update(e.ctx, tc.params)
		t.Run(tc.name, func(t *testing.T) { wantAPIError(t, err, tc.status, tc.code) })
	}

	list, err := e.client.Workers.Domains.List(e.ctx, workers.DomainListParams{AccountID: acct})
	if err != nil || len(list.Result) != 2 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	for _, f := range []workers.DomainListParams{
		{AccountID: acct, Hostname: cloudflare.F("api.example.com")},
		{AccountID: acct, ZoneID: cloudflare.F(wZone)},
		{AccountID: acct, ZoneName: cloudflare.F(wZoneName)},
	} {
		got, err := e.client.Workers.Domains.List(e.ctx, f)
		if err != nil || len(got.Result) != 1 || got.Result[0].ID != d.ID {
			t.Fatalf("filter %+v = %+v, %v", f, got, err)
		}
	}
	got, _ := e.client.Workers.Domains.List(e.ctx, workers.DomainListParams{AccountID: acct, Service: cloudflare.F("web")})
	if len(got.Result) != 2 {
		t.Fatalf("service filter = %+v", got.Result)
	}
	got, _ = e.client.Workers.Domains.List(e.ctx, workers.DomainListParams{AccountID: acct, Service: cloudflare.F("api")})
	if got.Result == nil || len(got.Result) != 0 {
		t.Fatalf("empty filter = %+v", got)
	}

	one, err := e.client.Workers.Domains.Get(e.ctx, d.ID, workers.DomainGetParams{AccountID: acct})
	if err != nil || one.Hostname != "api.example.com" {
		t.Fatalf("get = %+v, %v", one, err)
	}
	res, err := e.client.Workers.Domains.Delete(e.ctx, d.ID, workers.DomainDeleteParams{AccountID: acct})
	if err != nil || !bool(res.Success) || !strings.Contains(res.JSON.RawJSON(), `"success":true`) {
		t.Fatalf("delete = %+v, %v", res, err)
	}
	_, err = e.client.Workers.Domains.Get(e.ctx, d.ID, workers.DomainGetParams{AccountID: acct})
	wantAPIError(t, err, 404, 10007)
	_, err = e.client.Workers.Domains.Delete(e.ctx, d.ID, workers.DomainDeleteParams{AccountID: acct})
	wantAPIError(t, err, 404, 10007)
}
