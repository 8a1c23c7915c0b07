package provider

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workerscript"
)

// Secrets are kept across uploads by type; they change only through the secrets API.
var keepSecretBindings = []string{cloudflare.BindingSecretText, "secret_key"}

// applyCode loads the configured modules and checks that they are the ones planned: a file
// edited between plan and apply must not ship unreviewed.
func applyCode(cfg, plan *serviceModel, diags *diag.Diagnostics) []cloudflare.Module {
	modules, ok := loadModules(cfg, diags)
	if !ok {
		return nil
	}
	planned := stringMap(plan.ModuleHashes)
	if !plan.ModuleHashes.IsUnknown() && !reflect.DeepEqual(planned, workerscript.Hashes(modules)) {
		diags.AddError("Code changed since the plan",
			"The service's module files changed between plan and apply, so the reviewed plan is not what would be uploaded. Run terraform plan again.")
		return nil
	}
	out := make([]cloudflare.Module, len(modules))
	for i, m := range modules {
		out[i] = cloudflare.Module{Name: m.Name, ContentType: m.ContentType, Content: m.Content}
	}
	return out
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

// secretValues are the configured secrets (write-only: only in the configuration).
func secretValues(cfg *serviceModel) map[string]string {
	return stringMap(cfg.Secrets)
}

func (r *serviceResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, cfg serviceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Create(ctx, 20*time.Minute)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	modules := applyCode(&cfg, &plan, &resp.Diagnostics)
	migration, err := workerscript.PlanMigration(map[string]bool{}, "", plan.declaredClasses(ctx, &resp.Diagnostics), plan.AllowDelete.ValueBool())
	if err != nil {
		resp.Diagnostics.AddError("Unsafe Durable Object migration", err.Error())
	}
	if resp.Diagnostics.HasError() {
		return
	}
	bindings := plan.bindings(ctx, r.data, &resp.Diagnostics)
	for name, value := range secretValues(&cfg) {
		bindings = append(bindings, cloudflare.Binding{Type: cloudflare.BindingSecretText, Name: name, Text: value})
	}
	_, err = r.data.client.UploadScript(ctx, cloudflare.ScriptUpload{
		Name: plan.Name.ValueString(), MainModule: plan.MainModule.ValueString(), Modules: modules,
		CompatibilityDate: plan.CompatibilityDate.ValueString(), CompatibilityFlags: stringSet(plan.CompatibilityFlags),
		Bindings: bindings, Migration: toCloudflareMigration(migration), UsageModel: plan.UsageModel.ValueString(),
		CPUMs: plan.cpuMs(), Tags: plan.scriptTags(), Observability: plan.observability(), Annotations: plan.annotations(),
	})
	r.data.cache.invalidate()
	if err != nil {
		resp.Diagnostics.AddError("Cannot create service", explainUploadError(plan.Name.ValueString(), err))
		return
	}
	// From here the script exists: whatever fails, state records it.
	triggerDiags := r.reconcileTriggers(ctx, &plan, nil)
	r.saveAfterWrite(ctx, &plan, &resp.State, &resp.Diagnostics)
	resp.Diagnostics.Append(triggerDiags...)
}

// saveAfterWrite reads the service back in full and saves it; the planned values the
// platform cannot return (write-only inputs, hints) come from the plan.
func (r *serviceResource) saveAfterWrite(ctx context.Context, plan *serviceModel, state *tfsdk.State, diags *diag.Diagnostics) {
	r.data.cache.invalidate()
	m := *plan
	m.Secrets, m.InlineModules = types.MapNull(types.StringType), types.MapNull(types.StringType)
	found, d := r.readService(ctx, &m, true)
	diags.Append(d...)
	if !found {
		diags.AddError("Service vanished", fmt.Sprintf("Worker %q was written but cannot be read back.", plan.Name.ValueString()))
		return
	}
	// Attributes the platform keeps only as hints or not at all.
	m.SourceDir, m.Modules = plan.SourceDir, plan.Modules
	m.Health, m.Rollout, m.AllowDelete, m.Timeouts = plan.Health, plan.Rollout, plan.AllowDelete, plan.Timeouts
	if m.Limits != nil && plan.Limits != nil {
		m.Limits.MemoryMB = plan.Limits.MemoryMB
	} else if m.Limits == nil && plan.Limits != nil && !plan.Limits.MemoryMB.IsNull() {
		m.Limits = &limitsModel{CPUMs: types.Int64Null(), MemoryMB: plan.Limits.MemoryMB}
	}
	diags.Append(state.Set(ctx, &m)...)
}

func (r *serviceResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state serviceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	found, d := r.readService(ctx, &state, false)
	resp.Diagnostics.Append(d...)
	if !found && !d.HasError() {
		resp.State.RemoveResource(ctx)
		return
	}
	if state.Rollout.IsNull() {
		state.Rollout = types.StringValue("immediate")
	}
	if state.AllowDelete.IsNull() {
		state.AllowDelete = types.BoolValue(false)
	}
	if state.Timeouts.IsNull() {
		state.Timeouts = timeoutsNull()
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// codeChanged reports whether the plan needs a new version (code, runtime or bindings).
func codeChanged(ctx context.Context, data *providerData, plan, state *serviceModel, diags *diag.Diagnostics) bool {
	return !plan.ModuleHashes.Equal(state.ModuleHashes) || !plan.MainModule.Equal(state.MainModule) ||
		!plan.CompatibilityDate.Equal(state.CompatibilityDate) || !reflect.DeepEqual(stringSet(plan.CompatibilityFlags), stringSet(state.CompatibilityFlags)) ||
		!plan.UsageModel.Equal(state.UsageModel) || plan.cpuMs() != state.cpuMs() ||
		!reflect.DeepEqual(plan.bindings(ctx, data, diags), state.bindings(ctx, data, diags)) ||
		!plan.DurableObjectClasses.Equal(state.DurableObjectClasses) ||
		!plan.Description.Equal(state.Description) || !plan.Version.Equal(state.Version)
}

func (r *serviceResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, cfg, state serviceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Update(ctx, 20*time.Minute)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	name := plan.Name.ValueString()
	managed := plan.Rollout.ValueString() == "managed"

	secrets := secretValues(&cfg)
	plannedHashes := stringMap(plan.SecretHashes)
	priorHashes := stringMap(state.SecretHashes)
	var changedSecrets, removedSecrets []string
	for secretName, h := range plannedHashes {
		if priorHashes[secretName] != h {
			changedSecrets = append(changedSecrets, secretName)
		}
	}
	for secretName := range priorHashes {
		if _, keep := plannedHashes[secretName]; !keep {
			removedSecrets = append(removedSecrets, secretName)
		}
	}
	sort.Strings(changedSecrets)
	sort.Strings(removedSecrets)

	if codeChanged(ctx, r.data, &plan, &state, &resp.Diagnostics) {
		modules := applyCode(&cfg, &plan, &resp.Diagnostics)
		migration, err := workerscript.PlanMigration(currentClasses(state.DurableObjectClasses), state.MigrationTag.ValueString(),
			plan.declaredClasses(ctx, &resp.Diagnostics), plan.AllowDelete.ValueBool())
		if err != nil {
			resp.Diagnostics.AddError("Unsafe Durable Object migration", err.Error())
		}
		if resp.Diagnostics.HasError() {
			return
		}
		bindings := plan.bindings(ctx, r.data, &resp.Diagnostics)
		if managed {
			// A version carries its own secrets: changed ones ride along so that traffic never
			// reaches code whose secrets are missing.
			for _, s := range changedSecrets {
				bindings = append(bindings, cloudflare.Binding{Type: cloudflare.BindingSecretText, Name: s, Text: secrets[s]})
			}
			_, err = r.data.client.UploadVersion(ctx, cloudflare.VersionUpload{
				Script: name, MainModule: plan.MainModule.ValueString(), Modules: modules,
				CompatibilityDate: plan.CompatibilityDate.ValueString(), CompatibilityFlags: stringSet(plan.CompatibilityFlags),
				Bindings: bindings, KeepBindings: keepSecretBindings, UsageModel: plan.UsageModel.ValueString(), Annotations: plan.annotations(),
			})
			changedSecrets = nil
		} else {
			_, err = r.data.client.UploadScript(ctx, cloudflare.ScriptUpload{
				Name: name, MainModule: plan.MainModule.ValueString(), Modules: modules,
				CompatibilityDate: plan.CompatibilityDate.ValueString(), CompatibilityFlags: stringSet(plan.CompatibilityFlags),
				Bindings: bindings, KeepBindings: keepSecretBindings, Migration: toCloudflareMigration(migration),
				UsageModel: plan.UsageModel.ValueString(), CPUMs: plan.cpuMs(), Tags: plan.scriptTags(),
				Observability: plan.observability(), Annotations: plan.annotations(),
			})
		}
		r.data.cache.invalidate()
		if err != nil {
			resp.Diagnostics.AddError("Cannot update service", explainUploadError(name, err))
			return
		}
	}
	if !reflect.DeepEqual(plan.scriptTags(), state.scriptTags()) || !reflect.DeepEqual(plan.observability(), state.observability()) || managed {
		if _, err := r.data.client.EditScriptLevelSettings(ctx, name, cloudflare.ScriptLevelSettingsPatch{
			Tags: plan.scriptTags(), Observability: plan.observability(),
		}); err != nil {
			resp.Diagnostics.AddError("Cannot update service settings", err.Error())
		}
	}
	for _, s := range changedSecrets {
		if err := r.data.client.PutSecret(ctx, name, s, secrets[s]); err != nil {
			resp.Diagnostics.AddAttributeError(pathSecret(s), "Cannot set secret", err.Error())
		}
	}
	for _, s := range removedSecrets {
		if err := r.data.client.DeleteSecret(ctx, name, s); err != nil && !cloudflare.IsNotFound(err) {
			resp.Diagnostics.AddAttributeError(pathSecret(s), "Cannot delete secret", err.Error())
		}
	}
	resp.Diagnostics.Append(r.reconcileTriggers(ctx, &plan, &state)...)
	r.saveAfterWrite(ctx, &plan, &resp.State, &resp.Diagnostics)
}

// reconcileTriggers makes cron triggers, workers.dev, routes and custom domains match the
// plan without touching the code; prior is nil on creation.
func (r *serviceResource) reconcileTriggers(ctx context.Context, plan, prior *serviceModel) diag.Diagnostics {
	var diags diag.Diagnostics
	name := plan.Name.ValueString()
	if prior == nil || !reflect.DeepEqual(stringSet(plan.Crons), stringSet(prior.Crons)) {
		if crons := stringSet(plan.Crons); prior != nil || len(crons) > 0 {
			if _, err := r.data.client.SetSchedules(ctx, name, nonNil(crons)); err != nil {
				diags.AddError("Cannot set cron triggers", err.Error())
			}
		}
	}
	if want := plan.WorkersDev.ValueBool(); prior == nil && want || prior != nil && prior.WorkersDev.ValueBool() != want {
		if _, err := r.data.client.SetScriptSubdomain(ctx, name, want, want); err != nil {
			diags.AddError("Cannot set the workers.dev route", err.Error())
		}
	}
	diags.Append(r.reconcileRoutes(ctx, plan, prior)...)
	diags.Append(r.reconcileDomains(ctx, plan)...)
	return diags
}

func (r *serviceResource) zoneOf(rt routeModel) string {
	if z := rt.ZoneID.ValueString(); z != "" {
		return z
	}
	return r.data.zoneID
}

func (r *serviceResource) reconcileRoutes(ctx context.Context, plan, prior *serviceModel) diag.Diagnostics {
	var diags diag.Diagnostics
	name := plan.Name.ValueString()
	want := map[string]map[string]bool{} // zone → patterns
	for _, rt := range plan.routes(ctx, &diags) {
		zone := r.zoneOf(rt)
		if want[zone] == nil {
			want[zone] = map[string]bool{}
		}
		want[zone][rt.Pattern.ValueString()] = true
	}
	zones := map[string]bool{}
	for z := range want {
		zones[z] = true
	}
	if prior != nil {
		for _, rt := range prior.routes(ctx, &diags) {
			zones[r.zoneOf(rt)] = true
		}
	}
	for zone := range zones {
		if zone == "" {
			continue
		}
		existing, err := r.data.client.ListRoutes(ctx, zone)
		if err != nil {
			diags.AddError("Cannot read routes", err.Error())
			continue
		}
		have := map[string]bool{}
		for _, rt := range existing {
			if rt.Script != name {
				continue
			}
			if want[zone][rt.Pattern] {
				have[rt.Pattern] = true
				continue
			}
			if err := r.data.client.DeleteRoute(ctx, zone, rt.ID); err != nil && !cloudflare.IsNotFound(err) {
				diags.AddError("Cannot remove route", err.Error())
			}
		}
		for pattern := range want[zone] {
			if have[pattern] {
				continue
			}
			if _, err := r.data.client.CreateRoute(ctx, zone, pattern, name); err != nil {
				msg := err.Error()
				if errors.Is(err, cloudflare.ErrConflict) {
					msg = fmt.Sprintf("Route %q in zone %s already exists for another Worker: remove it there, or choose another pattern. (%v)", pattern, zone, err)
				}
				diags.AddError("Cannot add route", msg)
			}
		}
	}
	return diags
}

func (r *serviceResource) reconcileDomains(ctx context.Context, plan *serviceModel) diag.Diagnostics {
	var diags diag.Diagnostics
	name := plan.Name.ValueString()
	existing, err := r.data.client.ListDomains(ctx, cloudflare.DomainFilter{Service: name})
	if err != nil {
		diags.AddError("Cannot read custom domains", err.Error())
		return diags
	}
	want := map[string]bool{}
	for _, h := range stringSet(plan.CustomDomains) {
		want[strings.ToLower(h)] = true
	}
	have := map[string]bool{}
	for _, d := range existing {
		if d.Service != name {
			continue
		}
		if want[strings.ToLower(d.Hostname)] {
			have[strings.ToLower(d.Hostname)] = true
			continue
		}
		if err := r.data.client.DeleteDomain(ctx, d.ID); err != nil && !cloudflare.IsNotFound(err) {
			diags.AddError("Cannot remove custom domain", err.Error())
		}
	}
	for _, h := range stringSet(plan.CustomDomains) {
		if have[strings.ToLower(h)] {
			continue
		}
		if _, err := r.data.client.AttachDomain(ctx, h, name, ""); err != nil {
			diags.AddError("Cannot attach custom domain", err.Error())
		}
	}
	return diags
}

func (r *serviceResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state serviceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := state.Timeouts.Delete(ctx, 20*time.Minute)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	name := state.Name.ValueString()

	classes := currentClasses(state.DurableObjectClasses)
	if len(classes) > 0 && !state.AllowDelete.ValueBool() {
		names := make([]string, 0, len(classes))
		for c := range classes {
			names = append(names, c)
		}
		sort.Strings(names)
		resp.Diagnostics.AddError("Service holds Durable Object data",
			fmt.Sprintf("Service %q implements Durable Object classes %s: destroying it deletes the data of all their objects; nothing was deleted. "+
				"Set allow_delete = true and apply before destroying.", name, strings.Join(names, ", ")))
		return
	}
	empty := serviceModel{Name: state.Name, Routes: types.SetNull(routeType), CustomDomains: types.SetNull(types.StringType), Crons: types.SetNull(types.StringType), WorkersDev: types.BoolValue(false)}
	resp.Diagnostics.Append(r.reconcileRoutes(ctx, &empty, &state)...)
	resp.Diagnostics.Append(r.reconcileDomains(ctx, &empty)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.data.client.DeleteScript(ctx, name, true); err != nil && !cloudflare.IsNotFound(err) {
		resp.Diagnostics.AddError("Cannot delete service", err.Error())
	}
	r.data.cache.invalidate()
}

// explainUploadError adds the usual fix to the platform's upload errors.
func explainUploadError(name string, err error) string {
	var cfErr *cloudflare.Error
	if errors.As(err, &cfErr) {
		switch cfErr.Code {
		case 10061:
			return err.Error() + ". A Durable Object binding without script_name must name a class this service exports and declares."
		case 10079:
			return err.Error() + fmt.Sprintf(". Worker %q was migrated outside Terraform: run terraform apply -refresh-only, then plan again.", name)
		}
	}
	return err.Error()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
