package provider

import (
	"context"
	"reflect"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workerscript"
)

// uploadKind is how a change reaches the platform's code and bindings.
type uploadKind int

const (
	// uploadNone: code, bindings and runtime stay as they are.
	uploadNone uploadKind = iota
	// uploadScript: a full upload (PUT script), which deploys at 100 % and may migrate.
	uploadScript
	// uploadVersion: a version upload (POST versions) that moves no traffic (rollout = "managed").
	uploadVersion
)

// serviceChanges is what an update does, decided by planServiceUpdate before anything is
// called: ModifyPlan shows its effect on the computed attributes, Update carries it out.
type serviceChanges struct {
	upload uploadKind
	// codeChanged: the modules or the main module differ, so the script's etag moves.
	codeChanged bool
	migration   *workerscript.Migration
	// putSecrets are set (with their configured values), deleteSecrets removed. With an
	// upload, putSecrets travel in it (one version with code and secrets); otherwise, and
	// always for deletions, through the secrets API, each a new deployed version.
	putSecrets, deleteSecrets []string
	// scriptSettings: tags or observability change without an upload to carry them.
	scriptSettings                     bool
	crons, workersDev, routes, domains bool
}

func (c serviceChanges) secretsInUpload() bool { return c.upload != uploadNone }

// secretsViaAPI reports whether the secrets API is called (each call deploys a version).
func (c serviceChanges) secretsViaAPI() bool {
	return len(c.deleteSecrets) > 0 || (len(c.putSecrets) > 0 && !c.secretsInUpload())
}

// makesVersion: latest_version_id moves.
func (c serviceChanges) makesVersion() bool { return c.upload != uploadNone || c.secretsViaAPI() }

// deploys: deployed_version_id moves.
func (c serviceChanges) deploys() bool { return c.upload == uploadScript || c.secretsViaAPI() }

// touchesScript: the script's modified_on moves.
func (c serviceChanges) touchesScript() bool { return c.makesVersion() || c.scriptSettings }

// touchesScriptAfterUpload: a write after the upload (the secrets API, script settings)
// moves the script and its versions again, so what the upload returned no longer holds.
func (c serviceChanges) touchesScriptAfterUpload() bool { return c.secretsViaAPI() || c.scriptSettings }

// movesURL: url moves.
func (c serviceChanges) movesURL() bool { return c.workersDev || c.routes || c.domains }

// createChanges is what a creation does: everything configured, from nothing.
func createChanges(plan *serviceModel, migration *workerscript.Migration) serviceChanges {
	return serviceChanges{
		upload: uploadScript, codeChanged: true, migration: migration, putSecrets: stringSet(plan.SecretNames),
		crons: len(stringSet(plan.Crons)) > 0, workersDev: plan.WorkersDev.ValueBool(),
		routes: len(plan.Routes.Elements()) > 0, domains: len(stringSet(plan.CustomDomains)) > 0,
	}
}

// planServiceUpdate decides how to move the service from state to plan. It is pure: plan
// already carries what only the configuration knows (module hashes, secret names), and a
// value still unknown counts as a change. The one refusal is an unsafe Durable Object
// migration.
func planServiceUpdate(ctx context.Context, state, plan *serviceModel, env serviceEnv) (serviceChanges, error) {
	var c serviceChanges
	migration, err := plan.planMigration(ctx, state)
	if err != nil {
		return c, err
	}
	c.migration = migration
	c.codeChanged = !fullyKnown(plan.ModuleHashes) || !plan.ModuleHashes.Equal(state.ModuleHashes) || !plan.MainModule.Equal(state.MainModule)
	newVersion, err := needsNewVersion(ctx, state, plan, env)
	if err != nil {
		return c, err
	}
	if c.codeChanged || newVersion || migration != nil {
		c.upload = uploadScript
		if plan.Rollout.ValueString() == "managed" {
			c.upload = uploadVersion
		}
	}

	planned, current := stringSet(plan.SecretNames), stringSet(state.SecretNames)
	rotate := !plan.SecretsVersion.Equal(state.SecretsVersion)
	for _, name := range planned {
		if rotate || !slices.Contains(current, name) {
			c.putSecrets = append(c.putSecrets, name)
		}
	}
	for _, name := range current {
		if !slices.Contains(planned, name) {
			c.deleteSecrets = append(c.deleteSecrets, name)
		}
	}

	settingsChange := !fullyKnown(plan.Tags) || !plan.Domain.Equal(state.Domain) || !slices.Equal(plan.scriptTags(), state.scriptTags()) ||
		!reflect.DeepEqual(plan.observability(), state.observability())
	c.scriptSettings = settingsChange && c.upload != uploadScript

	c.crons = !fullyKnown(plan.Crons) || !slices.Equal(stringSet(plan.Crons), stringSet(state.Crons))
	c.workersDev = plan.WorkersDev.IsUnknown() || plan.WorkersDev.ValueBool() != state.WorkersDev.ValueBool()
	c.routes = !fullyKnown(plan.Routes) || !slices.Equal(routeKeys(ctx, plan, env), routeKeys(ctx, state, env))
	c.domains = !fullyKnown(plan.CustomDomains) || !slices.Equal(lowerAll(stringSet(plan.CustomDomains)), lowerAll(stringSet(state.CustomDomains)))
	return c, nil
}

// needsNewVersion reports whether anything a version holds besides the code changes:
// runtime settings, bindings, or the version's annotations (description and version label).
func needsNewVersion(ctx context.Context, state, plan *serviceModel, env serviceEnv) (bool, error) {
	if !plan.bindingsKnown() || !fullyKnown(plan.CompatibilityFlags) {
		return true, nil
	}
	planned, err := plan.bindings(ctx, env)
	if err != nil {
		return false, err
	}
	current, err := state.bindings(ctx, env)
	if err != nil {
		return false, err
	}
	return !plan.CompatibilityDate.Equal(state.CompatibilityDate) || !slices.Equal(stringSet(plan.CompatibilityFlags), stringSet(state.CompatibilityFlags)) ||
		!plan.UsageModel.Equal(state.UsageModel) || plan.cpuMs() != state.cpuMs() || !reflect.DeepEqual(planned, current) ||
		!plan.Description.Equal(state.Description) || !plan.Version.Equal(state.Version), nil
}

// routeKeys are a model's routes as "zone pattern", sorted.
func routeKeys(ctx context.Context, m *serviceModel, env serviceEnv) []string {
	routes, _ := m.routes(ctx)
	out := make([]string, 0, len(routes))
	for _, rt := range routes {
		out = append(out, zoneOf(rt, env)+" "+rt.Pattern.ValueString())
	}
	slices.Sort(out)
	return out
}

func zoneOf(rt routeModel, env serviceEnv) string {
	if z := rt.ZoneID.ValueString(); z != "" {
		return z
	}
	return env.zoneID
}

func lowerAll(values []string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = strings.ToLower(v)
	}
	slices.Sort(out)
	return out
}

// scriptUpload is the full upload of the planned service: its code, its bindings plus the
// given secrets, the migration, runtime and script settings. Callers add KeepBindings and
// extra tags where they need them.
func (m *serviceModel) scriptUpload(ctx context.Context, env serviceEnv, modules []cloudflare.Module, secrets map[string]string, migration *workerscript.Migration) (cloudflare.ScriptUpload, error) {
	bindings, err := m.bindings(ctx, env)
	if err != nil {
		return cloudflare.ScriptUpload{}, err
	}
	names := make([]string, 0, len(secrets))
	for name := range secrets {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		bindings = append(bindings, cloudflare.Binding{Type: cloudflare.BindingSecretText, Name: name, Text: secrets[name]})
	}
	return cloudflare.ScriptUpload{
		Name: m.Name.ValueString(), MainModule: m.MainModule.ValueString(), Modules: modules,
		CompatibilityDate: m.CompatibilityDate.ValueString(), CompatibilityFlags: stringSet(m.CompatibilityFlags),
		Bindings: bindings, Migration: toCloudflareMigration(migration), UsageModel: m.UsageModel.ValueString(),
		CPUMs: m.cpuMs(), Tags: m.scriptTags(), Observability: m.observability(), Annotations: m.annotations(),
	}, nil
}

// versionUpload is the version-upload form of a script upload: a version holds no
// migration, limits or script-level settings.
func versionUpload(u cloudflare.ScriptUpload) cloudflare.VersionUpload {
	return cloudflare.VersionUpload{
		Script: u.Name, MainModule: u.MainModule, Modules: u.Modules, CompatibilityDate: u.CompatibilityDate,
		CompatibilityFlags: u.CompatibilityFlags, Bindings: u.Bindings, KeepBindings: u.KeepBindings,
		UsageModel: u.UsageModel, Annotations: u.Annotations,
	}
}

func toCloudflareMigration(m *workerscript.Migration) *cloudflare.Migration {
	if m == nil {
		return nil
	}
	out := &cloudflare.Migration{OldTag: m.OldTag, NewTag: m.NewTag, NewClasses: m.NewClasses, NewSqliteClasses: m.NewSQLiteClasses, DeletedClasses: m.Deleted}
	for _, r := range m.Renamed {
		out.RenamedClasses = append(out.RenamedClasses, cloudflare.RenamedClass{From: r.From, To: r.To})
	}
	return out
}

// plannedSecretNames are the configured secrets' names: the map is write-only, but its keys
// are no secret, and keeping them in state lets adding or removing a secret plan a change.
func plannedSecretNames(cfg *serviceModel) types.Set {
	switch {
	case cfg.Secrets.IsUnknown():
		return types.SetUnknown(types.StringType)
	case cfg.Secrets.IsNull():
		return types.SetNull(types.StringType)
	}
	names := make([]string, 0, len(cfg.Secrets.Elements()))
	for name := range cfg.Secrets.Elements() {
		names = append(names, name)
	}
	slices.Sort(names)
	return setOfStrings(names)
}
