package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/validation"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workerscript"
)

// ValidateConfig checks what single-attribute validators cannot: rules across attributes.
func (r *serviceResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg serviceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !cfg.CompatibilityDate.IsNull() && !cfg.CompatibilityDate.IsUnknown() {
		if err := validation.CheckCompatibilityDate(cfg.CompatibilityDate.ValueString(), time.Now()); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("compatibility_date"), "Invalid compatibility_date", "compatibility_date "+err.Error()+".")
		}
	}
	if cfg.SourceDir.IsNull() && cfg.Modules.IsNull() && cfg.InlineModules.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("main_module"), "No code",
			"Set source_dir, modules (files) or inline_modules so that main_module names one of the service's modules.")
	}
	checkBindingCollisions(&cfg, &resp.Diagnostics)
	for name, b := range objectMap[serviceBindingModel](ctx, cfg.Services, &resp.Diagnostics) {
		if !cfg.Name.IsUnknown() && b.Service.ValueString() == cfg.Name.ValueString() {
			resp.Diagnostics.AddAttributeError(path.Root("services").AtMapKey(name), "Service binding to itself",
				fmt.Sprintf("Binding %s points at this service (%q). A Worker calls itself with fetch on its own URL; bind other services here.", name, b.Service.ValueString()))
		}
	}
	seenRoutes := map[string]bool{}
	for _, rt := range cfg.routes(ctx, &resp.Diagnostics) {
		if rt.Pattern.IsUnknown() {
			continue
		}
		key := lowerHost(rt.Pattern.ValueString())
		if seenRoutes[key] {
			resp.Diagnostics.AddAttributeError(path.Root("routes"), "Duplicate route",
				fmt.Sprintf("Route pattern %q appears more than once (hostnames are case-insensitive): declare each pattern once.", rt.Pattern.ValueString()))
		}
		seenRoutes[key] = true
	}
	seenDomains := map[string]bool{}
	for _, d := range stringSet(cfg.CustomDomains) {
		key := strings.ToLower(d)
		if seenDomains[key] {
			resp.Diagnostics.AddAttributeError(path.Root("custom_domains"), "Duplicate custom domain",
				fmt.Sprintf("Custom domain %q appears more than once (hostnames are case-insensitive): declare each hostname once.", d))
		}
		seenDomains[key] = true
	}
}

// checkBindingCollisions rejects a binding name used by two kinds: env has one namespace.
func checkBindingCollisions(cfg *serviceModel, diags *diag.Diagnostics) {
	kinds := []struct {
		attr string
		m    types.Map
	}{
		{"vars", cfg.Vars}, {"json_vars", cfg.JSONVars}, {"secrets", cfg.Secrets}, {"kv_namespaces", cfg.KVNamespaces},
		{"r2_buckets", cfg.R2Buckets}, {"durable_objects", cfg.DurableObjects}, {"services", cfg.Services},
	}
	owner := map[string]string{}
	claim := func(name, attrName string, at path.Path) {
		if prev, taken := owner[name]; taken {
			diags.AddAttributeError(at, "Duplicate binding name",
				fmt.Sprintf("Binding name %q is used by both %s and %s: binding names share one namespace (env), so rename one of them.", name, prev, attrName))
			return
		}
		owner[name] = attrName
	}
	for _, k := range kinds {
		if k.m.IsNull() || k.m.IsUnknown() {
			continue
		}
		names := make([]string, 0, len(k.m.Elements()))
		for name := range k.m.Elements() {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			claim(name, k.attr, path.Root(k.attr).AtMapKey(name))
		}
	}
	if cfg.Registry != nil && !cfg.Registry.Binding.IsUnknown() {
		claim(cfg.Registry.Binding.ValueString(), "registry", path.Root("registry").AtName("binding"))
	}
}

// sources returns the configured code sources, or false when some are unknown at plan time.
func (m *serviceModel) sources() (workerscript.Sources, bool) {
	if m.SourceDir.IsUnknown() || m.Modules.IsUnknown() || m.InlineModules.IsUnknown() {
		return workerscript.Sources{}, false
	}
	for _, m := range []types.Map{m.Modules, m.InlineModules} {
		for _, v := range m.Elements() {
			if v.IsUnknown() {
				return workerscript.Sources{}, false
			}
		}
	}
	return workerscript.Sources{
		Dir:    m.SourceDir.ValueString(),
		Files:  stringMap(m.Modules),
		Inline: stringMap(m.InlineModules),
	}, true
}

// loadModules reads the code the configuration names, reporting problems on the attribute
// that names them.
func loadModules(cfg *serviceModel, diags *diag.Diagnostics) ([]workerscript.Module, bool) {
	src, known := cfg.sources()
	if !known {
		return nil, false
	}
	modules, err := src.Load()
	if err != nil {
		at := path.Root("modules")
		switch {
		case strings.Contains(err.Error(), "source_dir"):
			at = path.Root("source_dir")
		case strings.Contains(err.Error(), "unknown extension") && len(src.Inline) > 0 && len(src.Files) == 0:
			at = path.Root("inline_modules")
		}
		diags.AddAttributeError(at, "Cannot load the service's code", err.Error()+".")
		return nil, false
	}
	if !cfg.MainModule.IsUnknown() {
		if err := workerscript.CheckMain(cfg.MainModule.ValueString(), modules); err != nil {
			diags.AddAttributeError(path.Root("main_module"), "Invalid main_module", err.Error()+".")
			return nil, false
		}
	}
	return modules, true
}

// secretHashes hashes the configured secrets; nil when there are none.
func secretHashes(cfg *serviceModel) (map[string]string, bool) {
	if cfg.Secrets.IsUnknown() {
		return nil, false
	}
	if cfg.Secrets.IsNull() {
		return nil, true
	}
	out := map[string]string{}
	for name, v := range cfg.Secrets.Elements() {
		s, ok := v.(types.String)
		if !ok || s.IsUnknown() {
			return nil, false
		}
		out[name] = workerscript.HashSecret(s.ValueString(), cfg.Name.ValueString()+"/"+name)
	}
	return out, true
}

func classesMap(classes []workerscript.Class) types.Map {
	elems := map[string]attr.Value{}
	for _, c := range classes {
		elems[c.Name] = types.BoolValue(c.SQLite)
	}
	return types.MapValueMust(types.BoolType, elems)
}

func currentClasses(m types.Map) map[string]bool {
	out := map[string]bool{}
	for k, v := range m.Elements() {
		if b, ok := v.(types.Bool); ok {
			out[k] = b.ValueBool()
		}
	}
	return out
}

// ModifyPlan computes, at plan time, what only the provider can know: module and secret
// hashes, the Durable Object migration the change needs (refusing unsafe ones), and the
// zone of each route.
func (r *serviceResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan, cfg serviceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var state *serviceModel
	if !req.State.Raw.IsNull() {
		state = &serviceModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	}

	if modules, ok := loadModules(&cfg, &resp.Diagnostics); ok {
		plan.ModuleHashes = mapOfStrings(workerscript.Hashes(modules))
	} else {
		plan.ModuleHashes = types.MapUnknown(types.StringType)
	}
	switch hashes, known := secretHashes(&cfg); {
	case !known:
		plan.SecretHashes = types.MapUnknown(types.StringType)
	case hashes == nil:
		plan.SecretHashes = types.MapNull(types.StringType)
	default:
		plan.SecretHashes = mapOfStrings(hashes)
	}

	if !cfg.DurableObjects.IsUnknown() {
		desired := cfg.declaredClasses(ctx, &resp.Diagnostics)
		current, tag := map[string]bool{}, ""
		if state != nil {
			current, tag = currentClasses(state.DurableObjectClasses), state.MigrationTag.ValueString()
		}
		migration, err := workerscript.PlanMigration(current, tag, desired, plan.AllowDelete.ValueBool())
		switch {
		case err != nil:
			resp.Diagnostics.AddAttributeError(path.Root("durable_objects"), "Unsafe Durable Object migration", err.Error()+".")
		case migration != nil && state != nil && plan.Rollout.ValueString() == "managed":
			resp.Diagnostics.AddAttributeError(path.Root("rollout"), "Durable Object migration under a managed rollout",
				fmt.Sprintf("This change needs a Durable Object migration (%s), and a migration cannot ship in a gradual version: "+
					"every instance must run the new classes at once. Apply it with rollout = \"immediate\" (it deploys at 100 %%), "+
					"then set rollout back to \"managed\" for later changes.", migration.Summary()))
		}
		plan.DurableObjectClasses = classesMap(desired)
		if migration != nil {
			plan.MigrationTag = types.StringUnknown()
		} else if state != nil {
			plan.MigrationTag = state.MigrationTag
		} else {
			plan.MigrationTag = types.StringValue("")
		}
	}

	if r.data != nil && r.data.zoneID == "" {
		for _, rt := range plan.routes(ctx, &resp.Diagnostics) {
			if rt.ZoneID.IsNull() {
				resp.Diagnostics.AddAttributeError(path.Root("routes"), "Route without a zone",
					fmt.Sprintf("Route %q has no zone: set zone_id on the route, or the provider's zone_id (or CLOUDFLARE_ZONE_ID).", rt.Pattern.ValueString()))
			}
		}
	}
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
	// Hashes can change while every configured value stays the same (a file edited, a secret
	// replaced), so the framework may not have seen a change: when the plan differs from the
	// state, what an update moves is unknown until it runs.
	if state != nil && !resp.Plan.Raw.Equal(req.State.Raw) {
		plan.Etag, plan.ModifiedOn, plan.URL = types.StringUnknown(), types.StringUnknown(), types.StringUnknown()
		plan.LatestVersionID, plan.DeployedVersionID = types.StringUnknown(), types.StringUnknown()
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
	}
}
