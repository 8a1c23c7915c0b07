package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/validation"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workerscript"
)

// ValidateConfig checks what single-attribute validators cannot: rules across attributes.
func (r *serviceResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg serviceModel
	if !getServiceKnown(ctx, req.Config.Raw, &cfg, &resp.Diagnostics) {
		return
	}
	if !cfg.CompatibilityDate.IsNull() && !cfg.CompatibilityDate.IsUnknown() {
		if err := validation.CheckCompatibilityDate(cfg.CompatibilityDate.ValueString(), time.Now()); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("compatibility_date"), "Invalid compatibility_date", "compatibility_date "+err.Error()+".")
		}
	}
	for _, flag := range stringSet(cfg.CompatibilityFlags) {
		if !workerscript.IsKnownCompatibilityFlag(flag) {
			resp.Diagnostics.AddAttributeWarning(path.Root("compatibility_flags"), "Unknown compatibility flag", unknownFlagDetail(flag))
		}
	}
	if cfg.SourceDir.IsNull() && cfg.Modules.IsNull() && cfg.InlineModules.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("main_module"), "No code",
			"Set source_dir, modules (files) or inline_modules so that main_module names one of the service's modules.")
	}
	if !cfg.SourceDir.IsNull() && !cfg.InlineModules.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("inline_modules"), "Conflicting code sources",
			"source_dir and inline_modules cannot be set together: a module in both would silently come from inline_modules. "+
				"Keep the code in one place: files under source_dir (and modules for single files), or inline_modules.")
	}
	checkBindingCollisions(&cfg, &resp.Diagnostics)
	services, err := objectMap[serviceBindingModel](ctx, cfg.Services)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("services"), "Invalid services", err.Error())
	}
	for name, b := range services {
		if !cfg.Name.IsUnknown() && b.Service.ValueString() == cfg.Name.ValueString() {
			resp.Diagnostics.AddAttributeError(path.Root("services").AtMapKey(name), "Service binding to itself",
				fmt.Sprintf("Binding %s points at this service (%q). A Worker calls itself with fetch on its own URL; bind other services here.", name, b.Service.ValueString()))
		}
	}
	routes, err := cfg.routes(ctx)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("routes"), "Invalid routes", err.Error())
	}
	seenRoutes := map[string]bool{}
	for _, rt := range routes {
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

// unknownFlagDetail names the closest known flags and lists all of them.
func unknownFlagDetail(flag string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "compatibility_flags has %q, which is not a flag the Workers runtime knows: Cloudflare rejects the upload of a Worker with an unknown flag.", flag)
	if similar := workerscript.SimilarCompatibilityFlags(flag); len(similar) > 0 {
		fmt.Fprintf(&b, " Did you mean %s?", strings.Join(similar, " or "))
	}
	known := workerscript.KnownCompatibilityFlags()
	fmt.Fprintf(&b, " The %d known flags (see https://developers.cloudflare.com/workers/configuration/compatibility-flags/): %s.", len(known), strings.Join(known, ", "))
	return b.String()
}

// loadModules reads the code the configuration names, reporting problems on the attribute
// that names them.
func loadModules(cfg *serviceModel, diags interface {
	AddAttributeError(path.Path, string, string)
}) ([]workerscript.Module, bool) {
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

// sources returns the configured code sources, or false when some are unknown at plan time.
func (m *serviceModel) sources() (workerscript.Sources, bool) {
	if m.SourceDir.IsUnknown() || !fullyKnown(m.Modules) || !fullyKnown(m.InlineModules) {
		return workerscript.Sources{}, false
	}
	return workerscript.Sources{
		Dir:    m.SourceDir.ValueString(),
		Files:  stringMap(m.Modules),
		Inline: stringMap(m.InlineModules),
	}, true
}

// codeAttribute is the attribute that supplies the code, to blame for a code problem.
func (m *serviceModel) codeAttribute() path.Path {
	switch {
	case !m.InlineModules.IsNull():
		return path.Root("inline_modules")
	case !m.SourceDir.IsNull():
		return path.Root("source_dir")
	}
	return path.Root("modules")
}

// ModifyPlan computes, at plan time, what only the provider can know: the module hashes and
// the checks of the code, the secrets' names, the Durable Object migration the change needs
// (refusing unsafe ones), the existence of what bindings and routes point at, and which
// computed values the change can move. It also refuses, at plan time, a destroy that would
// delete Durable Object data.
func (r *serviceResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		r.refuseDataLosingDestroy(ctx, req, resp)
		return
	}
	// proposed stays as Terraform proposed it: only what ModifyPlan changes is written back.
	var plan, proposed, cfg serviceModel
	if !getServiceKnown(ctx, req.Plan.Raw, &plan, &resp.Diagnostics) || !getServiceKnown(ctx, req.Config.Raw, &cfg, &resp.Diagnostics) {
		return
	}
	resp.Diagnostics.Append(getService(ctx, req.Plan.Raw, &proposed)...)
	var state *serviceModel
	if !req.State.Raw.IsNull() {
		state = &serviceModel{}
		resp.Diagnostics.Append(getService(ctx, req.State.Raw, state)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if state != nil && !plan.Name.IsUnknown() && !plan.Name.Equal(state.Name) {
		refuseDataLosingReplace(state, plan.Name.ValueString(), &resp.Diagnostics)
	}

	if modules, ok := loadModules(&cfg, &resp.Diagnostics); ok {
		plan.ModuleHashes = mapOfStrings(workerscript.Hashes(modules))
		if codeChangedSince(state, &plan) {
			checkCode(ctx, &cfg, modules, &resp.Diagnostics)
		}
	} else {
		plan.ModuleHashes = types.MapUnknown(types.StringType)
	}
	plan.SecretNames = plannedSecretNames(&cfg)
	planClasses(ctx, &plan, state, &resp.Diagnostics)
	if r.data != nil {
		r.checkName(req, state, &plan, &resp.Diagnostics)
		r.checkBindingTargets(ctx, &plan, state, &resp.Diagnostics)
		r.checkQueues(ctx, &plan, &resp.Diagnostics)
		r.checkRoutes(ctx, &plan, state, &resp.Diagnostics)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if state != nil {
		var env serviceEnv
		if r.data != nil {
			env = r.data.serviceEnv()
		}
		changes, err := planServiceUpdate(ctx, state, &plan, env)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("durable_objects"), "Unsafe Durable Object migration", err.Error()+".")
			return
		}
		keepUnmoved(&plan, state, changes)
	}
	resp.Diagnostics.Append(updateService(ctx, &resp.Plan.Raw, &proposed, &plan)...)
}

// codeChangedSince reports whether the planned code differs from the code in state (or
// there is no state): unchanged code was checked when it was planned, and is not parsed
// again on every plan.
func codeChangedSince(state, plan *serviceModel) bool {
	return state == nil || !state.ModuleHashes.Equal(plan.ModuleHashes) || !state.MainModule.Equal(plan.MainModule) ||
		!state.DurableObjects.Equal(plan.DurableObjects)
}

// planClasses plans the Durable Object classes and their migration.
func planClasses(ctx context.Context, plan, state *serviceModel, diags interface {
	AddAttributeError(path.Path, string, string)
}) {
	if !fullyKnown(plan.DurableObjects) || plan.AllowDelete.IsUnknown() {
		plan.DurableObjectClasses, plan.MigrationTag, plan.DurableObjectMigration = types.MapUnknown(types.BoolType), types.StringUnknown(), types.StringUnknown()
		return
	}
	declared, err := plan.declaredClasses(ctx)
	if err != nil {
		diags.AddAttributeError(path.Root("durable_objects"), "Invalid durable_objects", err.Error())
		return
	}
	migration, err := plan.planMigration(ctx, state)
	if err != nil {
		diags.AddAttributeError(path.Root("durable_objects"), "Unsafe Durable Object migration", err.Error()+".")
		return
	}
	if migration != nil && state != nil && plan.Rollout.ValueString() == "managed" {
		diags.AddAttributeError(path.Root("rollout"), "Durable Object migration under a managed rollout",
			fmt.Sprintf("This change needs a Durable Object migration (%s), and a migration cannot ship in a gradual version: "+
				"every instance must run the new classes at once. Apply it with rollout = \"immediate\" (it deploys at 100 %%), "+
				"then set rollout back to \"managed\" for later changes.", migration.Summary()))
	}
	plan.DurableObjectClasses = classesMap(classesOf(declared))
	switch {
	case migration != nil:
		plan.MigrationTag = types.StringValue(migration.NewTag)
		plan.DurableObjectMigration = types.StringValue(migration.Description())
		if len(migration.Renamed) > 0 {
			// A rename removes one key of the class map and adds another, which a plan shows
			// as a deletion; durable_object_migration says what really happens instead.
			plan.DurableObjectClasses = types.MapUnknown(types.BoolType)
		}
	case state != nil:
		plan.MigrationTag, plan.DurableObjectMigration = state.MigrationTag, state.DurableObjectMigration
	default:
		plan.MigrationTag, plan.DurableObjectMigration = types.StringValue(""), types.StringNull()
	}
}

// keepUnmoved keeps each computed value of the state that the planned change cannot move,
// and marks unknown the ones it can: a reviewer sees what the change really touches.
func keepUnmoved(plan, state *serviceModel, c serviceChanges) {
	keep := func(prior types.String, moves bool) types.String {
		if moves {
			return types.StringUnknown()
		}
		return prior
	}
	plan.Etag = keep(state.Etag, c.upload == uploadScript && c.codeChanged)
	plan.LatestVersionID = keep(state.LatestVersionID, c.makesVersion())
	plan.DeployedVersionID = keep(state.DeployedVersionID, c.deploys())
	plan.ModifiedOn = keep(state.ModifiedOn, c.touchesScript())
	plan.URL = keep(state.URL, c.movesURL())
	plan.CreatedOn, plan.ID = state.CreatedOn, state.ID
}

// refuseDataLosingDestroy fails the plan of a destroy that would delete Durable Object data
// without allow_delete: refused here, before anything is deleted, rather than by Delete
// after the other resources of the configuration are gone.
func (r *serviceResource) refuseDataLosingDestroy(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.State.Raw.IsNull() {
		return
	}
	var name types.String
	var classes types.Map
	var allowDelete types.Bool
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("name"), &name)...)
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("durable_object_classes"), &classes)...)
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("allow_delete"), &allowDelete)...)
	if resp.Diagnostics.HasError() || allowDelete.ValueBool() || len(classes.Elements()) == 0 {
		return
	}
	names := make([]string, 0, len(classes.Elements()))
	for class := range classes.Elements() {
		names = append(names, class)
	}
	sort.Strings(names)
	resp.Diagnostics.AddAttributeError(path.Root("allow_delete"), "Service holds Durable Object data",
		fmt.Sprintf("Destroying service %q deletes Durable Object classes %s with the data of all their objects, and allow_delete is false, "+
			"so this destroy is refused before anything is deleted. Set allow_delete = true and apply, then destroy; "+
			"or leave the service out of the destroy (-target, or a removed block with destroy = false).", name.ValueString(), strings.Join(names, ", ")))
}

// refuseDataLosingReplace fails the plan of a rename, which replaces the Worker, when the old
// one holds Durable Object classes and allow_delete was not set before.
func refuseDataLosingReplace(state *serviceModel, newName string, diags attributeDiags) {
	classes := currentClasses(state.DurableObjectClasses)
	if len(classes) == 0 || state.AllowDelete.ValueBool() {
		return
	}
	names := make([]string, 0, len(classes))
	for c := range classes {
		names = append(names, c)
	}
	sort.Strings(names)
	diags.AddAttributeError(path.Root("name"), "Service holds Durable Object data",
		fmt.Sprintf("Renaming service %q to %q replaces the Worker, which deletes Durable Object classes %s with the data of all their objects, "+
			"and allow_delete is false. Keep the name, or set allow_delete = true and apply before renaming.", state.Name.ValueString(), newName, strings.Join(names, ", ")))
}
