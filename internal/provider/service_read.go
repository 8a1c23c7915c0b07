package provider

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workerscript"
)

func (r *serviceResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	// prior stays as the state was: a refresh that finds nothing new writes nothing.
	var state, prior serviceModel
	resp.Diagnostics.Append(getService(ctx, req.State.Raw, &state)...)
	resp.Diagnostics.Append(getService(ctx, req.State.Raw, &prior)...)
	if resp.Diagnostics.HasError() {
		return
	}
	found, unmanaged, err := r.readService(ctx, &state, false)
	if err != nil {
		resp.Diagnostics.AddError("Cannot read service", err.Error())
		return
	}
	if !found {
		resp.State.RemoveResource(ctx)
		return
	}
	if len(unmanaged) > 0 {
		resp.Diagnostics.AddWarning("Bindings this provider does not manage",
			fmt.Sprintf("Worker %q has bindings of kinds servicesdo_service does not declare: %s. They were added outside Terraform; "+
				"the next change to the service's code or bindings removes them.", state.Name.ValueString(), strings.Join(unmanaged, ", ")))
	}
	if state.Rollout.IsNull() {
		state.Rollout = types.StringValue("immediate")
	}
	if state.AllowDelete.IsNull() {
		state.AllowDelete = types.BoolValue(false)
	}
	if state.Timeouts.IsNull() {
		state.Timeouts = timeoutsNull(ctx)
	}
	resp.Diagnostics.Append(updateService(ctx, &resp.State.Raw, &prior, &state)...)
}

// readService refreshes m from the platform. It returns false when the script is gone, and
// the bindings of kinds the provider does not manage. Listings are shared by all services
// of a run; the Durable Object classes, version, settings and code reads happen only when the
// script changed since m was saved (its modified_on or etag moved), or when full is set
// (after import, or to adopt a Worker).
func (r *serviceResource) readService(ctx context.Context, m *serviceModel, full bool) (bool, []string, error) {
	name := m.Name.ValueString()
	if name == "" {
		name = m.ID.ValueString()
	}
	script, err := r.findScript(ctx, name)
	if err != nil || script == nil {
		return false, nil, err
	}
	changed := full || m.Etag.ValueString() != script.Etag || m.ModifiedOn != formatTime(script.ModifiedOn) ||
		m.LatestVersionID.ValueString() == ""

	m.ID, m.Name = types.StringValue(name), types.StringValue(name)
	m.Etag, m.ModifiedOn, m.CreatedOn = types.StringValue(script.Etag), formatTime(script.ModifiedOn), formatTime(script.CreatedOn)
	m.MigrationTag = types.StringValue(script.MigrationTag)
	readTags(m, script.Tags)
	if m.DurableObjectMigration.IsUnknown() {
		m.DurableObjectMigration = types.StringNull()
	}
	var unmanaged []string
	if changed || m.DurableObjectClasses.IsNull() || m.DurableObjectClasses.IsUnknown() {
		// Classes come and go only with the migrations of uploads, which move the script's
		// etag and modified_on: an unchanged script has the classes it had.
		classes, err := r.scriptClasses(ctx, name)
		if err != nil {
			return true, nil, err
		}
		m.DurableObjectClasses = classes
	}
	if changed {
		if unmanaged, err = r.readVersionState(ctx, m); err != nil {
			return true, nil, err
		}
	}
	// Queue consumers are read for services that declare them, and whenever the script is read
	// in full (import, adoption, a change): an unchanged service without queues costs no Queues
	// call in a refresh.
	var consumersErr error
	if changed || !m.QueueConsumers.IsNull() {
		consumersErr = r.readQueueConsumers(ctx, m)
	}
	return true, unmanaged, errors.Join(r.readTriggers(ctx, m, script), consumersErr)
}

// findScript is the script named name from the shared listing; nil when there is none.
func (r *serviceResource) findScript(ctx context.Context, name string) (*cloudflare.Script, error) {
	scripts, err := r.data.listScripts(ctx)
	if err != nil {
		return nil, err
	}
	for i := range scripts {
		if scripts[i].Name == name {
			return &scripts[i], nil
		}
	}
	return nil, nil
}

// scriptClasses are the Durable Object classes the platform has for a script.
func (r *serviceResource) scriptClasses(ctx context.Context, name string) (types.Map, error) {
	namespaces, err := r.data.listDONamespaces(ctx)
	if err != nil {
		return types.Map{}, err
	}
	classes := map[string]attr.Value{}
	for _, ns := range namespaces {
		if ns.Script == name {
			classes[ns.Class] = types.BoolValue(ns.UseSQLite)
		}
	}
	return types.MapValueMust(types.BoolType, classes), nil
}

// readTags splits the script's tags into tags and the domain tag. A create marker left by
// an interrupted create stays among the tags, so the next plan removes it.
func readTags(m *serviceModel, tags []string) {
	var plain []string
	domain := ""
	for _, t := range tags {
		if d, ok := strings.CutPrefix(t, domainTagPrefix); ok {
			domain = d
			continue
		}
		plain = append(plain, t)
	}
	sort.Strings(plain)
	m.Tags = setOrNull(m.Tags, plain)
	m.Domain = stringOrNull(m.Domain, domain)
}

// readVersionState reads what belongs to versions: the latest version's code, bindings and
// runtime settings, the deployed version, and the script-level settings.
func (r *serviceResource) readVersionState(ctx context.Context, m *serviceModel) ([]string, error) {
	name := m.Name.ValueString()
	versions, err := r.data.client.ListVersions(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(versions) == 0 {
		return nil, fmt.Errorf("worker %q has no version", name)
	}
	latest, err := r.data.client.GetVersion(ctx, name, versions[0].ID)
	if err != nil {
		return nil, err
	}
	if m.LatestVersionID.ValueString() != latest.ID || m.ModuleHashes.IsNull() || m.ModuleHashes.IsUnknown() {
		content, err := r.data.client.GetScriptContent(ctx, name, latest.ID)
		if err != nil {
			return nil, err
		}
		hashes := map[string]string{}
		for _, mod := range content.Modules {
			hashes[mod.Name] = workerscript.Module{Content: mod.Content}.Hash()
		}
		m.ModuleHashes = mapOfStrings(hashes)
		if content.MainModule != "" {
			m.MainModule = types.StringValue(content.MainModule)
		}
	}
	m.LatestVersionID = types.StringValue(latest.ID)
	// description and version label travel as the annotations of the versions this provider
	// uploads; versions made by secret or settings changes carry none, so look past them.
	for _, v := range versions {
		if v.TriggeredBy == "" || v.TriggeredBy == "upload" {
			m.Description = stringOrNull(m.Description, v.Message)
			m.Version = stringOrNull(m.Version, v.Tag)
			break
		}
	}
	if latest.MainModule != "" {
		m.MainModule = types.StringValue(latest.MainModule)
	}
	m.CompatibilityDate = types.StringValue(latest.CompatibilityDate)
	flags := append([]string{}, latest.CompatibilityFlags...)
	sort.Strings(flags)
	m.CompatibilityFlags = setOrNull(m.CompatibilityFlags, flags)
	if latest.UsageModel != "" {
		m.UsageModel = types.StringValue(latest.UsageModel)
	}
	switch {
	case latest.CPUMs != 0 && m.Limits == nil:
		m.Limits = &limitsModel{CPUMs: types.Int64Value(latest.CPUMs), MemoryMB: types.Int64Null()}
	case latest.CPUMs != 0:
		m.Limits.CPUMs = types.Int64Value(latest.CPUMs)
	case m.Limits != nil:
		m.Limits.CPUMs = types.Int64Null()
		if m.Limits.MemoryMB.IsNull() {
			m.Limits = nil
		}
	}
	unmanaged, err := m.readBindings(ctx, latest.Bindings, r.data.serviceEnv())
	if err != nil {
		return nil, err
	}

	deployment, found, err := r.data.client.ActiveDeployment(ctx, name)
	if err != nil {
		return nil, err
	}
	m.DeployedVersionID = types.StringValue("")
	if found {
		m.DeployedVersionID = types.StringValue(servingVersion(deployment))
	}

	level, err := r.data.client.GetScriptLevelSettings(ctx, name)
	if err != nil {
		return nil, err
	}
	switch o := level.Observability; {
	case o == nil || (!o.Enabled && m.Observability == nil):
		if m.Observability != nil {
			m.Observability = &observeModel{Enabled: types.BoolValue(false), HeadSamplingRate: types.Float64Null()}
		}
	default:
		rate := types.Float64Null()
		if o.HeadSamplingRate != nil && (m.Observability == nil || !m.Observability.HeadSamplingRate.IsNull() || *o.HeadSamplingRate != 1) {
			rate = types.Float64Value(*o.HeadSamplingRate)
		}
		m.Observability = &observeModel{Enabled: types.BoolValue(o.Enabled), HeadSamplingRate: rate}
	}
	return unmanaged, nil
}

// servingVersion is the version with the most traffic.
func servingVersion(d cloudflare.Deployment) string {
	best, pct := "", -1.0
	for _, v := range d.Versions {
		if v.Percentage > pct {
			best, pct = v.VersionID, v.Percentage
		}
	}
	return best
}

// readTriggers reads what lives beside versions: cron triggers, workers.dev, routes and
// custom domains; and the URL they give.
func (r *serviceResource) readTriggers(ctx context.Context, m *serviceModel, script *cloudflare.Script) error {
	name := m.Name.ValueString()
	crons, err := r.data.client.GetSchedules(ctx, name)
	if err != nil {
		return err
	}
	sort.Strings(crons)
	m.Crons = setOrNull(m.Crons, crons)

	sub, err := r.data.client.GetScriptSubdomain(ctx, name)
	if err != nil {
		return err
	}
	m.WorkersDev = types.BoolValue(sub.Enabled)

	reach, err := r.data.readReachability(ctx, name, script.Routes, m.Routes, m.CustomDomains)
	if err != nil {
		return err
	}
	m.Routes, m.CustomDomains = reach.routes, reach.domains
	hosts, patterns := reach.hosts, reach.patterns

	account := ""
	if sub.Enabled {
		if account, err = r.data.accountSubdomain(ctx); err != nil {
			return err
		}
	}
	m.URL = types.StringValue(serviceURL(name, account, sub.Enabled, hosts, patterns))
	return nil
}
