package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/validation"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workerscript"
)

// Plan-time checks of what the platform would refuse only at apply time, after other
// resources of the configuration have changed. Each looks only at what the plan changes,
// so an unchanged service costs nothing.

type attributeDiags interface {
	AddAttributeError(path.Path, string, string)
}

// checkCode parses the JavaScript modules and checks that the main module exports each
// Durable Object class the service implements.
func checkCode(ctx context.Context, cfg *serviceModel, modules []workerscript.Module, diags attributeDiags) {
	if err := workerscript.CheckSyntax(modules); err != nil {
		diags.AddAttributeError(cfg.codeAttribute(), "JavaScript syntax error", err.Error()+". Cloudflare would reject the upload: fix the module.")
		return
	}
	if cfg.MainModule.IsUnknown() {
		return
	}
	main := cfg.MainModule.ValueString()
	exports, known, err := workerscript.MainExports(main, modules)
	var missing *workerscript.MissingModuleError
	switch {
	case errors.As(err, &missing):
		diags.AddAttributeError(cfg.codeAttribute(), "Import of a missing module", err.Error()+
			". The Workers runtime resolves imports among the uploaded modules only: add the module, or fix the import.")
		return
	case err != nil:
		diags.AddAttributeError(cfg.codeAttribute(), "JavaScript syntax error", err.Error()+". Cloudflare would reject the upload: fix the module.")
		return
	case !known || !fullyKnown(cfg.DurableObjects):
		return
	}
	declared, err := cfg.declaredClasses(ctx)
	if err != nil {
		return
	}
	for _, c := range declared {
		if slices.Contains(exports, c.Name) {
			continue
		}
		diags.AddAttributeError(path.Root("durable_objects").AtMapKey(c.binding).AtName("class_name"), "Durable Object class not exported",
			fmt.Sprintf("Class %q (binding %s) is not exported by the main module %s, which exports %s. Cloudflare refuses a Durable Object "+
				"class the Worker does not export: export it from %s (export class %s { … }), or correct class_name.",
				c.Name, c.binding, main, describeExports(exports), main, c.Name))
	}
}

func describeExports(exports []string) string {
	if len(exports) == 0 {
		return "nothing"
	}
	return strings.Join(exports, ", ")
}

// checkName claims the script name for this resource in this plan: two servicesdo_service
// resources with one name would overwrite each other's Worker.
func (r *serviceResource) checkName(req resource.ModifyPlanRequest, state, plan *serviceModel, diags attributeDiags) {
	if plan.Name.IsUnknown() {
		return
	}
	name := plan.Name.ValueString()
	if r.data.lookups.claimService(name, req.Config.Raw, state != nil) {
		diags.AddAttributeError(path.Root("name"), "Duplicate service name",
			fmt.Sprintf("Another servicesdo_service in this configuration also has name = %q. A name is one Worker: two resources with it "+
				"would overwrite each other's code and settings. Give each service its own name.", name))
	}
}

// checkBindingTargets checks that what new or changed bindings point at exists, or is planned
// in this same command. A value unknown at plan time is created by this apply and skipped.
func (r *serviceResource) checkBindingTargets(ctx context.Context, plan, state *serviceModel, diags attributeDiags) {
	changed := func(field func(*serviceModel) *types.Map, key string, v attr.Value) bool {
		if state == nil {
			return true
		}
		prior, ok := field(state).Elements()[key]
		return !ok || !prior.Equal(v)
	}
	account := r.data.client.AccountID()
	report := func(at path.Path, what string, exists bool, err error) {
		switch {
		case err != nil:
			diags.AddAttributeError(at, "Cannot check binding", fmt.Sprintf("Looking up %s failed: %v.", what, err))
		case !exists:
			diags.AddAttributeError(at, "Binding to a missing object",
				fmt.Sprintf("%s does not exist in account %s, and no resource of this configuration creates it. "+
					"Create it first, or refer to the resource that creates it so Terraform orders the two.", upperFirst(what), account))
		}
	}
	for name, v := range plan.KVNamespaces.Elements() {
		id, ok := v.(types.String)
		if !ok || id.IsUnknown() || id.IsNull() || !changed(func(m *serviceModel) *types.Map { return &m.KVNamespaces }, name, v) {
			continue
		}
		exists, err := r.data.kvNamespaceExists(ctx, id.ValueString())
		report(path.Root("kv_namespaces").AtMapKey(name), fmt.Sprintf("KV namespace %q (binding %s)", id.ValueString(), name), exists, err)
	}
	if plan.Registry != nil && !plan.Registry.NamespaceID.IsUnknown() && (state == nil || state.Registry == nil || !state.Registry.NamespaceID.Equal(plan.Registry.NamespaceID)) {
		if id := plan.registryNamespace(r.data.serviceEnv()); id != "" {
			exists, err := r.data.kvNamespaceExists(ctx, id)
			report(path.Root("registry").AtName("namespace_id"), fmt.Sprintf("registry KV namespace %q", id), exists, err)
		}
	}
	buckets, _ := objectMap[r2BindingModel](ctx, plan.R2Buckets)
	for name, b := range buckets {
		if b.BucketName.IsUnknown() || b.Jurisdiction.IsUnknown() || !changed(func(m *serviceModel) *types.Map { return &m.R2Buckets }, name, plan.R2Buckets.Elements()[name]) {
			continue
		}
		exists, err := r.data.r2BucketExists(ctx, b.BucketName.ValueString(), b.Jurisdiction.ValueString())
		report(path.Root("r2_buckets").AtMapKey(name).AtName("bucket_name"), fmt.Sprintf("R2 bucket %q (binding %s)", b.BucketName.ValueString(), name), exists, err)
	}
	services, _ := objectMap[serviceBindingModel](ctx, plan.Services)
	for name, b := range services {
		if b.Service.IsUnknown() || !changed(func(m *serviceModel) *types.Map { return &m.Services }, name, plan.Services.Elements()[name]) {
			continue
		}
		exists, err := r.data.scriptExists(ctx, b.Service.ValueString())
		report(path.Root("services").AtMapKey(name).AtName("service"), fmt.Sprintf("service %q (binding %s)", b.Service.ValueString(), name), exists, err)
	}
	objects, _ := objectMap[doBindingModel](ctx, plan.DurableObjects)
	for name, b := range objects {
		script := b.ScriptName.ValueString()
		if b.ScriptName.IsUnknown() || script == "" || script == plan.Name.ValueString() ||
			!changed(func(m *serviceModel) *types.Map { return &m.DurableObjects }, name, plan.DurableObjects.Elements()[name]) {
			continue
		}
		exists, err := r.data.scriptExists(ctx, script)
		report(path.Root("durable_objects").AtMapKey(name).AtName("script_name"), fmt.Sprintf("service %q, which implements Durable Object class %s (binding %s),", script, b.ClassName.ValueString(), name), exists, err)
	}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// checkRoutes checks that each new route's zone exists and holds the route's host.
func (r *serviceResource) checkRoutes(ctx context.Context, plan, state *serviceModel, diags attributeDiags) {
	routes, err := plan.routes(ctx)
	if err != nil {
		return
	}
	env := r.data.serviceEnv()
	var prior []string
	if state != nil {
		prior = routeKeys(ctx, state, env)
	}
	for _, rt := range routes {
		if rt.Pattern.IsUnknown() || rt.ZoneID.IsUnknown() {
			continue
		}
		zone, pattern := zoneOf(rt, env), rt.Pattern.ValueString()
		if zone == "" {
			diags.AddAttributeError(path.Root("routes"), "Route without a zone",
				fmt.Sprintf("Route %q has no zone: set zone_id on the route, or the provider's zone_id (or CLOUDFLARE_ZONE_ID).", pattern))
			continue
		}
		if slices.Contains(prior, zone+" "+pattern) {
			continue
		}
		source := fmt.Sprintf("zone_id %q", zone)
		if rt.ZoneID.ValueString() == "" {
			source = fmt.Sprintf("the provider's zone_id %q", zone)
		}
		zoneName, err := r.data.zoneName(ctx, zone)
		switch {
		case errors.Is(err, cloudflare.ErrValidation), cloudflare.IsNotFound(err):
			diags.AddAttributeError(path.Root("routes"), "Unknown zone",
				fmt.Sprintf("Route %q is in %s, which is not a zone of account %s (%v). Use the id shown on the zone's overview page in the dashboard.",
					pattern, source, r.data.client.AccountID(), err))
			continue
		case err != nil:
			diags.AddAttributeError(path.Root("routes"), "Cannot check route zone", fmt.Sprintf("Looking up the zone of route %q failed: %v.", pattern, err))
			continue
		}
		if host := validation.RouteHost(pattern); !validation.HostInZone(host, zoneName) {
			diags.AddAttributeError(path.Root("routes"), "Route outside its zone",
				fmt.Sprintf("Route %q has host %s, which is not in zone %s (%s): a route's host must be the zone's name or a name under it. "+
					"Use the zone_id of the zone that holds %s.", pattern, host, zoneName, source, host))
		}
	}
}
