package provider

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workerscript"
)

// Secrets are kept across uploads by type; they change only through the secrets API or
// with their values in an upload.
var keepSecretBindings = []string{cloudflare.BindingSecretText, "secret_key"}

// Reading a service back after a write is retried this many times, with these waits between
// attempts: the write succeeded, and a transient failure must not cost what it did.
var readBackWaits = []time.Duration{250 * time.Millisecond, time.Second}

// applyCode loads the configured modules and checks that they are the ones planned: a file
// edited between plan and apply must not ship unreviewed.
func applyCode(cfg, plan *serviceModel) ([]cloudflare.Module, error) {
	var diags attributeErrors
	modules, ok := loadModules(cfg, &diags)
	if !ok {
		return nil, errors.Join(diags...)
	}
	if !plan.ModuleHashes.IsUnknown() && !reflect.DeepEqual(stringMap(plan.ModuleHashes), workerscript.Hashes(modules)) {
		return nil, errors.New("the service's module files changed between plan and apply, so the reviewed plan is not what would be uploaded: run terraform plan again")
	}
	out := make([]cloudflare.Module, len(modules))
	for i, m := range modules {
		out[i] = cloudflare.Module{Name: m.Name, ContentType: m.ContentType, Content: m.Content}
	}
	return out, nil
}

// attributeErrors collects attribute errors as plain errors, for apply-time callers of the
// plan-time loaders.
type attributeErrors []error

func (a *attributeErrors) AddAttributeError(at path.Path, summary, detail string) {
	*a = append(*a, fmt.Errorf("%s: %s: %s", at, summary, detail))
}

// Create uploads the service, then sets its triggers. A Worker of the same name that exists
// already is refused, unless it carries this plan's create marker (an interrupted create of
// this configuration), which Create adopts. Once the upload has committed, nothing Create
// meets is an error: an error from Create makes Terraform taint the service, and the next
// apply would replace (delete and recreate) a live Worker. Problems after the upload are a
// warning, with complete state, and the next plan shows what is left to do.
func (r *serviceResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, cfg serviceModel
	resp.Diagnostics.Append(getService(ctx, req.Plan.Raw, &plan)...)
	resp.Diagnostics.Append(getService(ctx, req.Config.Raw, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Create(ctx, 20*time.Minute)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	name := plan.Name.ValueString()
	marker := workerscript.CreateMarker(name, plan.MainModule.ValueString(), stringMap(plan.ModuleHashes))

	r.data.cache.invalidate()
	existing, err := r.findScript(ctx, name)
	if err != nil {
		resp.Diagnostics.AddError("Cannot create service", err.Error())
		return
	}
	if existing != nil {
		if !slices.Contains(existing.Tags, marker) {
			resp.Diagnostics.AddAttributeError(path.Root("name"), "Worker already exists", r.alreadyExists(name, existing))
			return
		}
		r.adopt(ctx, &plan, &cfg, marker, resp)
		return
	}

	modules, err := applyCode(&cfg, &plan)
	if err != nil {
		resp.Diagnostics.AddError("Cannot create service", err.Error())
		return
	}
	migration, err := plan.planMigration(ctx, nil)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("durable_objects"), "Unsafe Durable Object migration", err.Error()+".")
		return
	}
	upload, err := plan.scriptUpload(ctx, r.data.serviceEnv(), modules, stringMap(cfg.Secrets), migration)
	if err != nil {
		resp.Diagnostics.AddError("Cannot create service", err.Error())
		return
	}
	upload.Tags = append(upload.Tags, marker)
	_, err = r.data.client.UploadScript(ctx, upload)
	r.data.cache.invalidate()
	if err != nil {
		// A dropped connection or a truncated answer leaves the outcome unknown: the upload
		// may have committed. Only this create's marker makes the Worker ours.
		if found, lookErr := r.findScript(ctx, name); lookErr == nil && found != nil && slices.Contains(found.Tags, marker) {
			tflog.Warn(ctx, "the upload failed but committed; adopting the Worker it made", map[string]any{"name": name, "error": err.Error()})
			r.adopt(ctx, &plan, &cfg, marker, resp)
			return
		}
		resp.Diagnostics.AddError("Cannot create service", explainUploadError(name, err))
		return
	}
	r.finishCreate(ctx, &plan, &cfg, nil, createChanges(&plan, migration), resp)
}

// adopt finishes a create that was interrupted after its upload committed: the Worker is
// read as it is, uploaded again as this plan has it (with every secret, and the migration
// from the classes it already has), and its triggers reconciled.
func (r *serviceResource) adopt(ctx context.Context, plan, cfg *serviceModel, marker string, resp *resource.CreateResponse) {
	name := plan.Name.ValueString()
	// Seeded as an import is: the read fills everything the platform knows.
	current := serviceModel{ID: plan.Name, Name: plan.Name}
	found, _, err := r.readService(ctx, &current, true)
	if err == nil && !found {
		err = fmt.Errorf("worker %q disappeared while it was being adopted", name)
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot create service", fmt.Sprintf("Worker %q was left by an interrupted create of this configuration, but reading it failed: %v. "+
			"Nothing was recorded in state; the next apply adopts it again.", name, err))
		return
	}
	changes, err := planServiceUpdate(ctx, &current, plan, r.data.serviceEnv())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("durable_objects"), "Unsafe Durable Object migration", err.Error()+".")
		return
	}
	// As a create would: one full upload that deploys, with every secret and no other.
	changes.upload, changes.putSecrets, changes.deleteSecrets, changes.scriptSettings = uploadScript, stringSet(plan.SecretNames), nil, false
	if _, err := r.applyUpload(ctx, changes, plan, cfg, nil, marker); err != nil {
		resp.Diagnostics.AddError("Cannot create service", err.Error()+". Nothing was recorded in state; the next apply adopts the Worker again.")
		return
	}
	resp.Diagnostics.AddWarning("Adopted an interrupted create",
		fmt.Sprintf("Worker %q already existed with the marker of an interrupted create of this configuration (%s): a crash, or a lost or truncated "+
			"answer to its upload. It was adopted and brought to this plan instead of refused.", name, marker))
	r.finishCreate(ctx, plan, cfg, &current, changes, resp)
}

// finishCreate reconciles the triggers, removes the create marker, reads back what the
// platform assigned and saves the state, reporting problems as one warning.
func (r *serviceResource) finishCreate(ctx context.Context, plan, cfg *serviceModel, prior *serviceModel, changes serviceChanges, resp *resource.CreateResponse) {
	name := plan.Name.ValueString()
	var problems []error
	if err := r.applySecretsAndSettings(ctx, changes, plan, cfg); err != nil {
		problems = append(problems, err)
	}
	if err := r.reconcileTriggers(ctx, plan, prior, changes); err != nil {
		problems = append(problems, err)
	}
	var priorConsumers []queueConsumerModel
	if prior != nil {
		priorConsumers = prior.queueConsumers(ctx)
	}
	if err := r.reconcileQueueConsumers(ctx, name, plan.queueConsumers(ctx), priorConsumers); err != nil {
		problems = append(problems, err)
	}
	// Last: a create interrupted before here keeps its marker, and the next apply adopts it.
	if _, err := r.data.client.EditScriptLevelSettings(ctx, name, cloudflare.ScriptLevelSettingsPatch{Tags: plan.scriptTags()}); err != nil {
		problems = append(problems, fmt.Errorf("removing the create marker tag (the next plan removes it): %w", err))
	}
	// The marker's removal touched the script after the upload: nothing it returned stands.
	state, err := r.readBack(ctx, plan, uploaded{})
	if err != nil {
		problems = append(problems, fmt.Errorf("reading the service back: %w (the computed values that could not be read are empty until the next refresh)", err))
	}
	resp.Diagnostics.Append(setService(ctx, &resp.State.Raw, &state)...)
	if len(problems) > 0 {
		resp.Diagnostics.AddWarning("Service created with problems",
			fmt.Sprintf("Worker %q was created and is recorded in state, but: %v. Run terraform apply again: the next plan shows what is left to do. "+
				"(A warning, not an error: an error would make Terraform taint the service and replace the live Worker.)", name, errors.Join(problems...)))
	}
}

// alreadyExists explains a Worker that exists but was not made by this configuration.
func (r *serviceResource) alreadyExists(name string, existing *cloudflare.Script) string {
	origin := "made outside this configuration"
	if markers := workerscript.CreateMarkers(existing.Tags); len(markers) > 0 {
		origin = fmt.Sprintf("left by an interrupted create of different code (its marker %s is not this plan's), so it may belong to another configuration", markers[0])
	}
	return fmt.Sprintf("A Worker named %q already exists in account %s (%s, created %s). Script names are unique per account, and creating it "+
		"would overwrite its code, bindings and secrets: choose another name, or adopt the existing Worker with "+
		"`terraform import servicesdo_service.<name> %s` or an import block.",
		name, r.data.client.AccountID(), origin, existing.CreatedOn.UTC().Format(time.RFC3339), name)
}

// uploaded is what an upload returned that still holds when the apply reads the service
// back: the read-back asks the platform only for the rest.
type uploaded struct {
	// script is the script as a full upload left it (etag, timestamps, migration tag).
	script *cloudflare.Script
	// deployed: that upload deployed its new version at 100 %, so it is both the latest and
	// the deployed version.
	deployed bool
	// version is the version a version upload made (rollout = "managed").
	version string
}

// readBack fills what the plan left unknown (version ids, etag, timestamps, URL), from what
// the upload returned and else from the platform, retrying: the write has succeeded.
// Whatever still cannot be read is recorded empty, never unknown, and an empty etag makes the
// next refresh read the service in full.
func (r *serviceResource) readBack(ctx context.Context, plan *serviceModel, up uploaded) (serviceModel, error) {
	m := *plan
	m.Secrets, m.InlineModules = types.MapNull(types.StringType), types.MapNull(types.StringType)
	var err error
	for attempt := 0; attempt <= len(readBackWaits); attempt++ {
		if attempt > 0 {
			if sleepErr := sleepCtx(ctx, readBackWaits[attempt-1]); sleepErr != nil {
				break
			}
		}
		r.data.cache.invalidate()
		if err = r.fillComputed(ctx, &m, up); err == nil {
			return m, nil
		}
		tflog.Warn(ctx, "reading the service back failed", map[string]any{"name": plan.Name.ValueString(), "attempt": attempt + 1, "error": err.Error()})
	}
	fillEmpty(&m)
	return m, err
}

// fillComputed sets the computed values of m that are unknown, each from what the upload
// returned or else the one read that gives it.
func (r *serviceResource) fillComputed(ctx context.Context, m *serviceModel, up uploaded) error {
	name := m.Name.ValueString()
	fill := func(v *types.String, value types.String) {
		if v.IsUnknown() {
			*v = value
		}
	}
	fill(&m.ID, types.StringValue(name))
	if up.version != "" {
		fill(&m.LatestVersionID, types.StringValue(up.version))
	}
	script := up.script
	if script == nil && (m.Etag.IsUnknown() || m.CreatedOn.IsUnknown() || m.ModifiedOn.IsUnknown() || m.MigrationTag.IsUnknown()) {
		found, err := r.findScript(ctx, name)
		if err != nil {
			return err
		}
		if found == nil {
			return fmt.Errorf("worker %q was written but is not in the account's list of Workers", name)
		}
		script = found
	}
	if script != nil {
		fill(&m.Etag, types.StringValue(script.Etag))
		fill(&m.CreatedOn, formatTime(script.CreatedOn))
		fill(&m.ModifiedOn, formatTime(script.ModifiedOn))
		fill(&m.MigrationTag, types.StringValue(script.MigrationTag))
	}
	var err error
	if m.DurableObjectClasses.IsUnknown() {
		if m.DurableObjectClasses, err = r.scriptClasses(ctx, name); err != nil {
			return err
		}
	}
	if up.deployed && (m.LatestVersionID.IsUnknown() || m.DeployedVersionID.IsUnknown()) {
		// One read gives both: the upload's version serves all the traffic.
		deployment, found, err := r.data.client.ActiveDeployment(ctx, name)
		if err != nil {
			return err
		}
		if found {
			serving := types.StringValue(servingVersion(deployment))
			fill(&m.LatestVersionID, serving)
			fill(&m.DeployedVersionID, serving)
		}
	}
	if m.LatestVersionID.IsUnknown() {
		versions, err := r.data.client.ListVersions(ctx, name)
		if err != nil {
			return err
		}
		if len(versions) == 0 {
			return fmt.Errorf("worker %q has no version", name)
		}
		m.LatestVersionID = types.StringValue(versions[0].ID)
	}
	if m.DeployedVersionID.IsUnknown() {
		deployment, found, err := r.data.client.ActiveDeployment(ctx, name)
		if err != nil {
			return err
		}
		m.DeployedVersionID = types.StringValue("")
		if found {
			m.DeployedVersionID = types.StringValue(servingVersion(deployment))
		}
	}
	if m.URL.IsUnknown() {
		account := ""
		if m.WorkersDev.ValueBool() {
			if account, err = r.data.accountSubdomain(ctx); err != nil {
				return err
			}
		}
		var patterns []string
		routes, _ := m.routes(ctx)
		for _, rt := range routes {
			patterns = append(patterns, rt.Pattern.ValueString())
		}
		m.URL = types.StringValue(serviceURL(name, account, m.WorkersDev.ValueBool(), stringSet(m.CustomDomains), patterns))
	}
	return nil
}

// fillEmpty records each computed value still unknown as empty.
func fillEmpty(m *serviceModel) {
	for _, v := range []*types.String{&m.ID, &m.Etag, &m.CreatedOn, &m.ModifiedOn, &m.MigrationTag, &m.LatestVersionID, &m.DeployedVersionID, &m.URL, &m.DurableObjectMigration} {
		if v.IsUnknown() {
			*v = types.StringValue("")
		}
	}
	if m.ID.ValueString() == "" {
		m.ID = m.Name
	}
	// An empty etag and latest version make the next refresh read everything again.
	m.Etag, m.LatestVersionID = types.StringValue(""), types.StringValue("")
	if m.DurableObjectClasses.IsUnknown() {
		m.DurableObjectClasses = types.MapValueMust(types.BoolType, nil)
	}
	if m.ModuleHashes.IsUnknown() {
		m.ModuleHashes = types.MapValueMust(types.StringType, nil)
	}
	if m.SecretNames.IsUnknown() {
		m.SecretNames = types.SetNull(types.StringType)
	}
}

// Update carries out planServiceUpdate. When the upload fails nothing has changed and the
// prior state stays. When a later step fails, the prior state is saved with its etag and
// version emptied, so the next refresh reads the service in full and the next plan shows
// what is left. Errors from Update never taint.
func (r *serviceResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, cfg, state serviceModel
	resp.Diagnostics.Append(getService(ctx, req.Plan.Raw, &plan)...)
	resp.Diagnostics.Append(getService(ctx, req.Config.Raw, &cfg)...)
	resp.Diagnostics.Append(getService(ctx, req.State.Raw, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Update(ctx, 20*time.Minute)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	name := plan.Name.ValueString()

	changes, err := planServiceUpdate(ctx, &state, &plan, r.data.serviceEnv())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("durable_objects"), "Unsafe Durable Object migration", err.Error()+".")
		return
	}
	up, err := r.applyUpload(ctx, changes, &plan, &cfg, keepSecretBindings, "")
	if err != nil {
		resp.Diagnostics.AddError("Cannot update service", err.Error())
		return
	}
	if changes.touchesScriptAfterUpload() {
		up = uploaded{}
	}
	err = errors.Join(r.applySecretsAndSettings(ctx, changes, &plan, &cfg), r.reconcileTriggers(ctx, &plan, &state, changes),
		r.reconcileQueueConsumers(ctx, name, plan.queueConsumers(ctx), state.queueConsumers(ctx)))
	if err != nil {
		state.Etag, state.LatestVersionID, state.ModifiedOn = types.StringValue(""), types.StringValue(""), types.StringValue("")
		resp.Diagnostics.Append(setService(ctx, &resp.State.Raw, &state)...)
		resp.Diagnostics.AddError("Cannot update service", fmt.Sprintf("Worker %q was partly updated: %v. State keeps what is certain; "+
			"the next plan reads the Worker in full and shows what is left to do.", name, err))
		return
	}
	saved, err := r.readBack(ctx, &plan, up)
	resp.Diagnostics.Append(setService(ctx, &resp.State.Raw, &saved)...)
	if err != nil {
		resp.Diagnostics.AddError("Cannot read service back", fmt.Sprintf("Worker %q was updated, but reading it back failed: %v. "+
			"State records the planned values, with the version ids and etag empty; the next refresh reads the rest.", name, err))
	}
}

// applyUpload performs the planned upload, if any: a full script upload, or a version upload
// under a managed rollout. The secrets to put travel with it. keep names the binding types
// carried over from the previous version; marker, when set, is added to the tags. It returns
// what the upload told of the result.
func (r *serviceResource) applyUpload(ctx context.Context, c serviceChanges, plan, cfg *serviceModel, keep []string, marker string) (uploaded, error) {
	if c.upload == uploadNone {
		return uploaded{}, nil
	}
	name := plan.Name.ValueString()
	modules, err := applyCode(cfg, plan)
	if err != nil {
		return uploaded{}, err
	}
	configured := stringMap(cfg.Secrets)
	secrets := make(map[string]string, len(c.putSecrets))
	for _, s := range c.putSecrets {
		secrets[s] = configured[s]
	}
	upload, err := plan.scriptUpload(ctx, r.data.serviceEnv(), modules, secrets, c.migration)
	if err != nil {
		return uploaded{}, err
	}
	upload.KeepBindings = keep
	if marker != "" {
		upload.Tags = append(upload.Tags, marker)
	}
	var up uploaded
	if c.upload == uploadVersion {
		var v cloudflare.Version
		v, err = r.data.client.UploadVersion(ctx, versionUpload(upload))
		up.version = v.ID
	} else {
		var script cloudflare.Script
		script, err = r.data.client.UploadScript(ctx, upload)
		up.script, up.deployed = &script, true
	}
	r.data.cache.invalidate()
	if err != nil {
		return uploaded{}, errors.New(explainUploadError(name, err))
	}
	return up, nil
}

// applySecretsAndSettings sets the script-level settings and the secrets that no upload
// carried.
func (r *serviceResource) applySecretsAndSettings(ctx context.Context, c serviceChanges, plan, cfg *serviceModel) error {
	name := plan.Name.ValueString()
	var errs []error
	if c.scriptSettings {
		if _, err := r.data.client.EditScriptLevelSettings(ctx, name, cloudflare.ScriptLevelSettingsPatch{
			Tags: plan.scriptTags(), Observability: plan.observability(),
		}); err != nil {
			errs = append(errs, err)
		}
	}
	if !c.secretsInUpload() {
		configured := stringMap(cfg.Secrets)
		for _, s := range c.putSecrets {
			if err := r.data.client.PutSecret(ctx, name, s, configured[s]); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, s := range c.deleteSecrets {
		if err := r.data.client.DeleteSecret(ctx, name, s); err != nil && !cloudflare.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	if c.secretsViaAPI() || c.scriptSettings {
		r.data.cache.invalidate()
	}
	return errors.Join(errs...)
}

// reconcileTriggers makes the cron triggers, workers.dev, routes and custom domains that
// the change touches match the plan, without touching the code; prior is nil on creation.
func (r *serviceResource) reconcileTriggers(ctx context.Context, plan, prior *serviceModel, c serviceChanges) error {
	name := plan.Name.ValueString()
	var errs []error
	if c.crons {
		if _, err := r.data.client.SetSchedules(ctx, name, nonNil(stringSet(plan.Crons))); err != nil {
			errs = append(errs, err)
		}
	}
	if c.workersDev {
		want := plan.WorkersDev.ValueBool()
		if _, err := r.data.client.SetScriptSubdomain(ctx, name, want, want); err != nil {
			errs = append(errs, err)
		}
	}
	if c.routes {
		errs = append(errs, r.reconcileRoutes(ctx, plan, prior))
	}
	if c.domains {
		errs = append(errs, r.reconcileDomains(ctx, plan))
	}
	return errors.Join(errs...)
}

func (r *serviceResource) reconcileRoutes(ctx context.Context, plan, prior *serviceModel) error {
	want, err := plan.routes(ctx)
	if err != nil {
		return err
	}
	var had []routeModel
	if prior != nil {
		if had, err = prior.routes(ctx); err != nil {
			return err
		}
	}
	return r.data.reconcileRoutes(ctx, plan.Name.ValueString(), want, had)
}

func (r *serviceResource) reconcileDomains(ctx context.Context, plan *serviceModel) error {
	return r.data.reconcileDomains(ctx, plan.Name.ValueString(), stringSet(plan.CustomDomains))
}

func (r *serviceResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state serviceModel
	resp.Diagnostics.Append(getService(ctx, req.State.Raw, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := state.Timeouts.Delete(ctx, 20*time.Minute)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	name := state.Name.ValueString()

	// ModifyPlan refuses this destroy at plan time; this is the last line for a plan made
	// without that check (a replacement, or a Terraform that skips destroy plans).
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
	empty := serviceModel{Name: state.Name, Routes: types.SetNull(routeType), CustomDomains: types.SetNull(types.StringType)}
	if err := errors.Join(r.reconcileRoutes(ctx, &empty, &state), r.reconcileDomains(ctx, &empty),
		r.reconcileQueueConsumers(ctx, name, nil, state.queueConsumers(ctx))); err != nil {
		resp.Diagnostics.AddError("Cannot delete service", err.Error())
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
		case 10021:
			return err.Error() + fmt.Sprintf(". Cloudflare refused the code or configuration of Worker %q: the message above names the module and the problem. "+
				"terraform plan checks JavaScript syntax and exported Durable Object classes, so this is one only the runtime finds "+
				"(for example an exception thrown while the Worker starts): fix it and apply again; nothing was changed", name)
		case 10061:
			return err.Error() + ". A Durable Object binding without script_name must name a class this service exports and declares"
		case 10079:
			return err.Error() + fmt.Sprintf(". Worker %q was migrated outside Terraform: run terraform apply -refresh-only, then plan again", name)
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

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
