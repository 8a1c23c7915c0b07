package provider

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/validation"
)

// Reachability is how the internet reaches a Worker besides workers.dev: zone routes and
// custom domains. servicesdo_service, servicesdo_gateway and servicesdo_saga declare,
// reconcile and read them the same way, through this file.

// routesSchema is the zone routes attribute.
func routesSchema(what string) schema.SetNestedAttribute {
	return schema.SetNestedAttribute{
		MarkdownDescription: "Zone route patterns (`host/path*`, no scheme) that send traffic to the " + what + ".",
		Optional:            true,
		NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
			"pattern": schema.StringAttribute{
				MarkdownDescription: "Route pattern, e.g. `shop.example.com/cart/*`.",
				Required:            true,
				Validators:          []validator.String{checkValidator{"Invalid route pattern", validation.CheckRoutePattern}},
			},
			"zone_id": schema.StringAttribute{MarkdownDescription: "The zone; defaults to the provider's `zone_id`.", Optional: true},
		}},
	}
}

// customDomainsSchema is the custom domains attribute.
func customDomainsSchema(what string) schema.SetAttribute {
	return schema.SetAttribute{
		MarkdownDescription: "Hostnames served entirely by the " + what + " (Workers custom domains).",
		Optional:            true,
		ElementType:         types.StringType,
		Validators:          []validator.Set{setvalidator.ValueStringsAre(checkValidator{"Invalid custom domain", validation.CheckHostname})},
	}
}

// routesOf decodes a routes set; null and unknown are no routes.
func routesOf(ctx context.Context, set types.Set) ([]routeModel, error) {
	var out []routeModel
	if set.IsNull() || set.IsUnknown() {
		return out, nil
	}
	return out, diagError(set.ElementsAs(ctx, &out, false))
}

// reconcileRoutes makes the script's routes in the zones of want and prior exactly want.
func (d *providerData) reconcileRoutes(ctx context.Context, script string, want, prior []routeModel) error {
	env := d.serviceEnv()
	wanted := map[string]map[string]bool{} // zone → patterns
	zones := map[string]bool{}
	for _, rt := range prior {
		zones[zoneOf(rt, env)] = true
	}
	for _, rt := range want {
		zone := zoneOf(rt, env)
		zones[zone] = true
		if wanted[zone] == nil {
			wanted[zone] = map[string]bool{}
		}
		wanted[zone][rt.Pattern.ValueString()] = true
	}
	var errs []error
	for zone := range zones {
		if zone == "" {
			continue
		}
		existing, err := d.client.ListRoutes(ctx, zone)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		have := map[string]bool{}
		for _, rt := range existing {
			if rt.Script != script {
				continue
			}
			if wanted[zone][rt.Pattern] {
				have[rt.Pattern] = true
				continue
			}
			if err := d.client.DeleteRoute(ctx, zone, rt.ID); err != nil && !cloudflare.IsNotFound(err) {
				errs = append(errs, err)
			}
		}
		for pattern := range wanted[zone] {
			if have[pattern] {
				continue
			}
			if _, err := d.client.CreateRoute(ctx, zone, pattern, script); err != nil {
				if errors.Is(err, cloudflare.ErrConflict) {
					err = fmt.Errorf("route %q in zone %s already exists for another Worker: remove it there, or choose another pattern (%w)", pattern, zone, err)
				}
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// reconcileDomains makes the script's custom domains exactly hosts.
func (d *providerData) reconcileDomains(ctx context.Context, script string, hosts []string) error {
	existing, err := d.client.ListDomains(ctx, cloudflare.DomainFilter{Service: script})
	if err != nil {
		return err
	}
	d.cache.invalidate()
	want := map[string]bool{}
	for _, h := range hosts {
		want[strings.ToLower(h)] = true
	}
	have := map[string]bool{}
	var errs []error
	for _, dom := range existing {
		if dom.Service != script {
			continue
		}
		if want[strings.ToLower(dom.Hostname)] {
			have[strings.ToLower(dom.Hostname)] = true
			continue
		}
		if err := d.client.DeleteDomain(ctx, dom.ID); err != nil && !cloudflare.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	for _, h := range hosts {
		if have[strings.ToLower(h)] {
			continue
		}
		if _, err := d.client.AttachDomain(ctx, h, script, ""); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// reachability is what readReachability found: the attributes' values and the plain lists
// the URL is made from.
type reachability struct {
	routes   types.Set
	domains  types.Set
	patterns []string
	hosts    []string
}

// readReachability reads the script's routes (scriptRoutes, from GetScript) and custom
// domains, keeping the prior zone_id of each known pattern and null for empty sets that were
// null.
func (d *providerData) readReachability(ctx context.Context, script string, scriptRoutes []cloudflare.Route, priorRoutes, priorDomains types.Set) (reachability, error) {
	var out reachability
	prior, err := routesOf(ctx, priorRoutes)
	if err != nil {
		return out, err
	}
	priorZones := map[string]types.String{}
	for _, rt := range prior {
		priorZones[rt.Pattern.ValueString()] = rt.ZoneID
	}
	routes := make([]routeModel, 0, len(scriptRoutes))
	for _, rt := range scriptRoutes {
		zone, ok := priorZones[rt.Pattern]
		if !ok {
			zone = types.StringNull()
		}
		out.patterns = append(out.patterns, rt.Pattern)
		routes = append(routes, routeModel{Pattern: types.StringValue(rt.Pattern), ZoneID: zone})
	}
	if len(routes) == 0 && (priorRoutes.IsNull() || priorRoutes.IsUnknown()) {
		out.routes = types.SetNull(routeType)
	} else {
		set, diags := types.SetValueFrom(ctx, routeType, routes)
		if err := diagError(diags); err != nil {
			return out, err
		}
		out.routes = set
	}
	all, err := d.listDomains(ctx)
	if err != nil {
		return out, err
	}
	for _, dom := range all {
		if dom.Service == script {
			out.hosts = append(out.hosts, dom.Hostname)
		}
	}
	sort.Strings(out.hosts)
	out.domains = setOrNull(priorDomains, out.hosts)
	return out, nil
}
