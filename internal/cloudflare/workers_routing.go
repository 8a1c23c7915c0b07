package cloudflare

import (
	"context"
	"fmt"

	cf "github.com/cloudflare/cloudflare-go/v7"
	"github.com/cloudflare/cloudflare-go/v7/durable_objects"
	"github.com/cloudflare/cloudflare-go/v7/workers"
)

// doNamespacesPerPage is the page size of ListDONamespaces.
const doNamespacesPerPage = 100

// GetSchedules returns a script's cron triggers.
func (c *Client) GetSchedules(ctx context.Context, script string) ([]string, error) {
	res, err := c.workers.Scripts.Schedules.Get(ctx, escape(script), workers.ScriptScheduleGetParams{AccountID: cf.F(c.accountID)})
	if err != nil {
		return nil, wrap(fmt.Sprintf("reading the cron triggers of Worker %q", script), err)
	}
	out := make([]string, 0, len(res.Schedules))
	for _, s := range res.Schedules {
		out = append(out, s.Cron)
	}
	return out, nil
}

// SetSchedules replaces a script's cron triggers with crons (none clears them) and returns
// the set as the API stored it.
func (c *Client) SetSchedules(ctx context.Context, script string, crons []string) ([]string, error) {
	// A non-nil body: the API takes a bare array, and null is not an empty set.
	body := make([]workers.ScriptScheduleUpdateParamsBody, 0, len(crons))
	for _, cron := range crons {
		body = append(body, workers.ScriptScheduleUpdateParamsBody{Cron: cf.F(cron)})
	}
	res, err := c.workers.Scripts.Schedules.Update(ctx, escape(script), workers.ScriptScheduleUpdateParams{AccountID: cf.F(c.accountID), Body: body})
	if err != nil {
		return nil, wrap(fmt.Sprintf("setting the cron triggers of Worker %q", script), err)
	}
	out := make([]string, 0, len(res.Schedules))
	for _, s := range res.Schedules {
		out = append(out, s.Cron)
	}
	return out, nil
}

// GetAccountSubdomain returns the account's workers.dev subdomain; NotFound when none is
// registered.
func (c *Client) GetAccountSubdomain(ctx context.Context) (string, error) {
	res, err := c.workers.Subdomains.Get(ctx, workers.SubdomainGetParams{AccountID: cf.F(c.accountID)})
	if err != nil {
		return "", wrap("reading the account's workers.dev subdomain", err)
	}
	return res.Subdomain, nil
}

// GetScriptSubdomain reads whether a script is served on workers.dev.
func (c *Client) GetScriptSubdomain(ctx context.Context, script string) (ScriptSubdomain, error) {
	res, err := c.workers.Scripts.Subdomain.Get(ctx, escape(script), workers.ScriptSubdomainGetParams{AccountID: cf.F(c.accountID)})
	if err != nil {
		return ScriptSubdomain{}, wrap(fmt.Sprintf("reading the workers.dev setting of Worker %q", script), err)
	}
	return ScriptSubdomain{Enabled: res.Enabled, PreviewsEnabled: res.PreviewsEnabled}, nil
}

// SetScriptSubdomain turns a script's workers.dev route (and its preview URLs) on or off.
func (c *Client) SetScriptSubdomain(ctx context.Context, script string, enabled, previewsEnabled bool) (ScriptSubdomain, error) {
	res, err := c.workers.Scripts.Subdomain.New(ctx, escape(script), workers.ScriptSubdomainNewParams{
		AccountID: cf.F(c.accountID), Enabled: cf.F(enabled), PreviewsEnabled: cf.F(previewsEnabled),
	})
	if err != nil {
		return ScriptSubdomain{}, wrap(fmt.Sprintf("setting the workers.dev route of Worker %q", script), err)
	}
	return ScriptSubdomain{Enabled: res.Enabled, PreviewsEnabled: res.PreviewsEnabled}, nil
}

// ListRoutes lists a zone's Workers routes.
func (c *Client) ListRoutes(ctx context.Context, zoneID string) ([]Route, error) {
	page, err := c.workers.Routes.List(ctx, workers.RouteListParams{ZoneID: cf.F(escape(zoneID))})
	if err != nil {
		return nil, wrap(fmt.Sprintf("listing the Workers routes of zone %s", zoneID), err)
	}
	out := make([]Route, 0, len(page.Result))
	for _, r := range page.Result {
		out = append(out, Route{ID: r.ID, Pattern: r.Pattern, Script: r.Script})
	}
	return out, nil
}

// CreateRoute routes pattern in a zone to script.
func (c *Client) CreateRoute(ctx context.Context, zoneID, pattern, script string) (Route, error) {
	params := workers.RouteNewParams{ZoneID: cf.F(escape(zoneID)), Pattern: cf.F(pattern)}
	if script != "" {
		params.Script = cf.F(script)
	}
	r, err := c.workers.Routes.New(ctx, params)
	if err != nil {
		return Route{}, wrap(fmt.Sprintf("creating route %q to Worker %q in zone %s", pattern, script, zoneID), err)
	}
	return Route{ID: r.ID, Pattern: r.Pattern, Script: r.Script}, nil
}

// UpdateRoute changes a route's pattern and script.
func (c *Client) UpdateRoute(ctx context.Context, zoneID, id, pattern, script string) (Route, error) {
	params := workers.RouteUpdateParams{ZoneID: cf.F(escape(zoneID)), Pattern: cf.F(pattern)}
	if script != "" {
		params.Script = cf.F(script)
	}
	r, err := c.workers.Routes.Update(ctx, escape(id), params)
	if err != nil {
		return Route{}, wrap(fmt.Sprintf("updating route %s (%q to Worker %q) in zone %s", id, pattern, script, zoneID), err)
	}
	return Route{ID: r.ID, Pattern: r.Pattern, Script: r.Script}, nil
}

// DeleteRoute deletes a route.
func (c *Client) DeleteRoute(ctx context.Context, zoneID, id string) error {
	_, err := c.workers.Routes.Delete(ctx, escape(id), workers.RouteDeleteParams{ZoneID: cf.F(escape(zoneID))})
	return wrap(fmt.Sprintf("deleting route %s in zone %s", id, zoneID), err)
}

// ListDomains lists the account's custom domains that match the filter.
func (c *Client) ListDomains(ctx context.Context, filter DomainFilter) ([]Domain, error) {
	params := workers.DomainListParams{AccountID: cf.F(c.accountID)}
	if filter.Service != "" {
		params.Service = cf.F(filter.Service)
	}
	if filter.Hostname != "" {
		params.Hostname = cf.F(filter.Hostname)
	}
	if filter.ZoneID != "" {
		params.ZoneID = cf.F(filter.ZoneID)
	}
	page, err := c.workers.Domains.List(ctx, params)
	if err != nil {
		return nil, wrap("listing Workers custom domains", err)
	}
	out := make([]Domain, 0, len(page.Result))
	for _, d := range page.Result {
		out = append(out, Domain{ID: d.ID, Hostname: d.Hostname, Service: d.Service, ZoneID: d.ZoneID, ZoneName: d.ZoneName})
	}
	return out, nil
}

// AttachDomain attaches hostname (in zoneID, or the zone the API finds when empty) to a
// Worker; attaching an attached hostname moves it.
func (c *Client) AttachDomain(ctx context.Context, hostname, service, zoneID string) (Domain, error) {
	params := workers.DomainUpdateParams{AccountID: cf.F(c.accountID), Hostname: cf.F(hostname), Service: cf.F(service)}
	if zoneID != "" {
		params.ZoneID = cf.F(zoneID)
	}
	d, err := c.workers.Domains.Update(ctx, params)
	if err != nil {
		return Domain{}, wrap(fmt.Sprintf("attaching custom domain %q to Worker %q", hostname, service), err)
	}
	return Domain{ID: d.ID, Hostname: d.Hostname, Service: d.Service, ZoneID: d.ZoneID, ZoneName: d.ZoneName}, nil
}

// DeleteDomain detaches a custom domain.
func (c *Client) DeleteDomain(ctx context.Context, id string) error {
	_, err := c.workers.Domains.Delete(ctx, escape(id), workers.DomainDeleteParams{AccountID: cf.F(c.accountID)})
	return wrap(fmt.Sprintf("deleting custom domain %s", id), err)
}

// ListDONamespaces lists every Durable Object namespace of the account.
func (c *Client) ListDONamespaces(ctx context.Context) ([]DONamespace, error) {
	var out []DONamespace
	pager := c.durableObjects.Namespaces.ListAutoPaging(ctx, durable_objects.NamespaceListParams{
		AccountID: cf.F(c.accountID), PerPage: cf.F(int64(doNamespacesPerPage)),
	})
	for pager.Next() {
		n := pager.Current()
		out = append(out, DONamespace{ID: n.ID, Name: n.Name, Script: n.Script, Class: n.Class, UseSQLite: n.UseSqlite})
	}
	return out, wrap("listing Durable Object namespaces", pager.Err())
}
