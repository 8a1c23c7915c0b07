package cloudflare

import (
	"slices"
	"testing"

	cf "github.com/cloudflare/cloudflare-go/v7"
	"github.com/cloudflare/cloudflare-go/v7/workers"
)

// Cron triggers: the set replaces the previous one; an empty set clears it with a bare [].
func TestWorkersSchedules(t *testing.T) {
	t.Parallel()
	e := newWKEnv(t)
	e.mustUpload(wkUpload("cron"))

	if got, err := e.c.GetSchedules(e.ctx, "cron"); err != nil || len(got) != 0 {
		t.Errorf("initial schedules = %v %v", got, err)
	}
	crons := []string{"*/5 * * * *", "0 12 * * MON"}
	set, err := e.c.SetSchedules(e.ctx, "cron", crons)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(set, crons) {
		t.Errorf("set = %v", set)
	}
	if got, err := e.c.GetSchedules(e.ctx, "cron"); err != nil || !slices.Equal(got, crons) {
		t.Errorf("schedules = %v %v", got, err)
	}
	if set, err = e.c.SetSchedules(e.ctx, "cron", crons[1:]); err != nil || !slices.Equal(set, crons[1:]) {
		t.Errorf("replaced = %v %v", set, err)
	}

	if set, err = e.c.SetSchedules(e.ctx, "cron", nil); err != nil || len(set) != 0 {
		t.Errorf("cleared = %v %v", set, err)
	}
	if body := string(e.lastRequest("PUT", "/workers/scripts/cron/schedules").Body); body != "[]" {
		t.Errorf("clearing body = %q, want []", body)
	}
	if got, err := e.c.GetSchedules(e.ctx, "cron"); err != nil || len(got) != 0 {
		t.Errorf("after clear = %v %v", got, err)
	}

	_, err = e.c.SetSchedules(e.ctx, "cron", []string{"61 * * * *"})
	wantKind(t, err, ErrValidation, 0)
	_, err = e.c.GetSchedules(e.ctx, "missing")
	wantKind(t, err, ErrNotFound, 10007)
	_, err = e.c.SetSchedules(e.ctx, "missing", crons)
	wantKind(t, err, ErrNotFound, 10007)
}

// workers.dev: the account subdomain and the per-script toggle.
func TestWorkersSubdomain(t *testing.T) {
	t.Parallel()
	e := newWKEnv(t)
	_, err := e.c.GetAccountSubdomain(e.ctx)
	wantKind(t, err, ErrNotFound, 10007)
	if _, err := e.c.workers.Subdomains.Update(e.ctx, workers.SubdomainUpdateParams{AccountID: cf.F(wkAccount), Subdomain: cf.F("acme")}); err != nil {
		t.Fatal(err)
	}
	if sub, err := e.c.GetAccountSubdomain(e.ctx); err != nil || sub != "acme" {
		t.Errorf("subdomain = %q %v", sub, err)
	}

	e.mustUpload(wkUpload("public"))
	if got, err := e.c.GetScriptSubdomain(e.ctx, "public"); err != nil || got != (ScriptSubdomain{}) {
		t.Errorf("default = %+v %v", got, err)
	}
	on, err := e.c.SetScriptSubdomain(e.ctx, "public", true, false)
	if err != nil {
		t.Fatal(err)
	}
	if on != (ScriptSubdomain{Enabled: true}) {
		t.Errorf("enabled = %+v", on)
	}
	if got, err := e.c.GetScriptSubdomain(e.ctx, "public"); err != nil || got != on {
		t.Errorf("read back = %+v %v", got, err)
	}
	if off, err := e.c.SetScriptSubdomain(e.ctx, "public", false, false); err != nil || off != (ScriptSubdomain{}) {
		t.Errorf("disabled = %+v %v", off, err)
	}
	_, err = e.c.GetScriptSubdomain(e.ctx, "missing")
	wantKind(t, err, ErrNotFound, 10007)
	_, err = e.c.SetScriptSubdomain(e.ctx, "missing", true, true)
	wantKind(t, err, ErrNotFound, 10007)
}

// Zone routes: create, list (also through the script list), update, conflict, delete.
func TestWorkersRoutes(t *testing.T) {
	t.Parallel()
	e := newWKEnv(t)
	e.mustUpload(wkUpload("api"))
	e.mustUpload(wkUpload("web"))

	r, err := e.c.CreateRoute(e.ctx, wkZone, "example.com/api/*", "api")
	if err != nil {
		t.Fatal(err)
	}
	if !wkHex32.MatchString(r.ID) || r.Pattern != "example.com/api/*" || r.Script != "api" {
		t.Errorf("route = %+v", r)
	}
	if rs, err := e.c.ListRoutes(e.ctx, wkZone); err != nil || !slices.Equal(rs, []Route{r}) {
		t.Errorf("routes = %+v %v", rs, err)
	}
	s, err := e.c.GetScript(e.ctx, "api")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Routes, []Route{r}) {
		t.Errorf("script routes = %+v", s.Routes)
	}

	moved, err := e.c.UpdateRoute(e.ctx, wkZone, r.ID, "www.example.com/*", "web")
	if err != nil {
		t.Fatal(err)
	}
	if moved != (Route{ID: r.ID, Pattern: "www.example.com/*", Script: "web"}) {
		t.Errorf("updated = %+v", moved)
	}
	_, err = e.c.CreateRoute(e.ctx, wkZone, "www.example.com/*", "api")
	wantKind(t, err, ErrConflict, 10020)
	_, err = e.c.CreateRoute(e.ctx, wkZone, "other.org/*", "api")
	wantKind(t, err, ErrValidation, 0)
	_, err = e.c.CreateRoute(e.ctx, wkZone, "example.com/x/*", "missing")
	wantKind(t, err, ErrNotFound, 10007)

	off, err := e.c.CreateRoute(e.ctx, wkZone, "example.com/static/*", "")
	if err != nil {
		t.Fatal(err)
	}
	if off.Script != "" {
		t.Errorf("route without a script = %+v", off)
	}

	if err := e.c.DeleteRoute(e.ctx, wkZone, r.ID); err != nil {
		t.Fatal(err)
	}
	if rs, err := e.c.ListRoutes(e.ctx, wkZone); err != nil || !slices.Equal(rs, []Route{off}) {
		t.Errorf("after delete = %+v %v", rs, err)
	}
	wantKind(t, e.c.DeleteRoute(e.ctx, wkZone, r.ID), ErrNotFound, 0)
	_, err = e.c.UpdateRoute(e.ctx, wkZone, r.ID, "example.com/*", "api")
	wantKind(t, err, ErrNotFound, 0)
}

// Custom domains: attach, filter by service and hostname, re-attach, delete.
func TestWorkersDomains(t *testing.T) {
	t.Parallel()
	e := newWKEnv(t)
	e.mustUpload(wkUpload("shop"))
	e.mustUpload(wkUpload("blog"))

	d, err := e.c.AttachDomain(e.ctx, "shop.example.com", "shop", wkZone)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID == "" || d.Hostname != "shop.example.com" || d.Service != "shop" || d.ZoneID != wkZone || d.ZoneName != wkZoneName {
		t.Errorf("domain = %+v", d)
	}
	blog, err := e.c.AttachDomain(e.ctx, "blog.example.com", "blog", "")
	if err != nil {
		t.Fatal(err)
	}
	if blog.ZoneID != wkZone {
		t.Errorf("zone not found from the hostname: %+v", blog)
	}

	if ds, err := e.c.ListDomains(e.ctx, DomainFilter{Service: "shop"}); err != nil || !slices.Equal(ds, []Domain{d}) {
		t.Errorf("by service = %+v %v", ds, err)
	}
	if ds, err := e.c.ListDomains(e.ctx, DomainFilter{Hostname: "blog.example.com"}); err != nil || !slices.Equal(ds, []Domain{blog}) {
		t.Errorf("by hostname = %+v %v", ds, err)
	}
	if ds, err := e.c.ListDomains(e.ctx, DomainFilter{}); err != nil || len(ds) != 2 {
		t.Errorf("all = %+v %v", ds, err)
	}

	// Attaching an attached hostname moves it to the new service.
	again, err := e.c.AttachDomain(e.ctx, "shop.example.com", "blog", wkZone)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != d.ID || again.Service != "blog" {
		t.Errorf("re-attached = %+v", again)
	}

	_, err = e.c.AttachDomain(e.ctx, "x.example.com", "missing", wkZone)
	wantKind(t, err, ErrNotFound, 10007)
	_, err = e.c.AttachDomain(e.ctx, "x.other.org", "shop", "")
	wantKind(t, err, ErrValidation, 0)

	if err := e.c.DeleteDomain(e.ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if ds, err := e.c.ListDomains(e.ctx, DomainFilter{Hostname: "shop.example.com"}); err != nil || len(ds) != 0 {
		t.Errorf("after delete = %+v %v", ds, err)
	}
	wantKind(t, e.c.DeleteDomain(e.ctx, d.ID), ErrNotFound, 0)
}
