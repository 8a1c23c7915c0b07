package provider

import (
	"context"
	"encoding/json"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workerscript"
)

// secretSetOutside marks, in secret_hashes, a secret that exists on the platform but was
// not set through this configuration: no configured value hashes to it, so the next plan
// replaces or removes it.
const secretSetOutside = "set outside Terraform"

// readService refreshes m from the platform. It returns false when the script is gone.
// Listings are shared by all services of a run; the version, settings and code reads happen
// only when the script changed since m was saved (its modified_on or etag moved), or when
// full is set (after a write, after import).
func (r *serviceResource) readService(ctx context.Context, m *serviceModel, full bool) (bool, diag.Diagnostics) {
	var diags diag.Diagnostics
	name := m.Name.ValueString()
	if name == "" {
		name = m.ID.ValueString()
	}
	scripts, err := r.data.listScripts(ctx)
	if err != nil {
		diags.AddError("Cannot read service", err.Error())
		return false, diags
	}
	var script *cloudflare.Script
	for i := range scripts {
		if scripts[i].Name == name {
			script = &scripts[i]
		}
	}
	if script == nil {
		return false, diags
	}
	changed := full || m.Etag.ValueString() != script.Etag || m.ModifiedOn != formatTime(script.ModifiedOn) ||
		m.LatestVersionID.ValueString() == ""

	m.ID, m.Name = types.StringValue(name), types.StringValue(name)
	m.Etag, m.ModifiedOn, m.CreatedOn = types.StringValue(script.Etag), formatTime(script.ModifiedOn), formatTime(script.CreatedOn)
	m.MigrationTag = types.StringValue(script.MigrationTag)
	r.readTags(m, script.Tags)

	namespaces, err := r.data.listDONamespaces(ctx)
	if err != nil {
		diags.AddError("Cannot read service", err.Error())
		return true, diags
	}
	classes := map[string]attr.Value{}
	for _, ns := range namespaces {
		if ns.Script == name {
			classes[ns.Class] = types.BoolValue(ns.UseSQLite)
		}
	}
	m.DurableObjectClasses = types.MapValueMust(types.BoolType, classes)

	if changed {
		if d := r.readVersionState(ctx, m); d.HasError() {
			return true, d
		}
	}
	diags.Append(r.readTriggers(ctx, m, script)...)
	return true, diags
}

// readTags splits the script's tags into tags and the domain tag.
func (r *serviceResource) readTags(m *serviceModel, tags []string) {
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
	m.Tags = keepNullIfEmptySet(m.Tags, types.StringType, plain)
	if domain == "" && (m.Domain.IsNull() || m.Domain.IsUnknown()) {
		m.Domain = types.StringNull()
	} else {
		m.Domain = types.StringValue(domain)
	}
}

// readVersionState reads what belongs to versions: the latest version's code, bindings and
// runtime settings, the deployed version, and the script-level settings.
func (r *serviceResource) readVersionState(ctx context.Context, m *serviceModel) diag.Diagnostics {
	var diags diag.Diagnostics
	name := m.Name.ValueString()
	fail := func(err error) diag.Diagnostics {
		diags.AddError("Cannot read service", err.Error())
		return diags
	}
	versions, err := r.data.client.ListVersions(ctx, name)
	if err != nil {
		return fail(err)
	}
	if len(versions) == 0 {
		return fail(&cloudflare.Error{Kind: cloudflare.KindUnknown, Op: "reading the versions of Worker " + name, Message: "the Worker has no version"})
	}
	latest, err := r.data.client.GetVersion(ctx, name, versions[0].ID)
	if err != nil {
		return fail(err)
	}
	if m.LatestVersionID.ValueString() != latest.ID || m.ModuleHashes.IsNull() || m.ModuleHashes.IsUnknown() {
		content, err := r.data.client.GetScriptContent(ctx, name, latest.ID)
		if err != nil {
			return fail(err)
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
			m.Description = optionalString(m.Description, v.Message)
			m.Version = optionalString(m.Version, v.Tag)
			break
		}
	}
	if latest.MainModule != "" {
		m.MainModule = types.StringValue(latest.MainModule)
	}
	m.CompatibilityDate = types.StringValue(latest.CompatibilityDate)
	flags := append([]string{}, latest.CompatibilityFlags...)
	sort.Strings(flags)
	m.CompatibilityFlags = keepNullIfEmptySet(m.CompatibilityFlags, types.StringType, flags)
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
	r.readBindings(m, latest.Bindings)

	deployment, found, err := r.data.client.ActiveDeployment(ctx, name)
	if err != nil {
		return fail(err)
	}
	m.DeployedVersionID = types.StringValue("")
	if found {
		m.DeployedVersionID = types.StringValue(servingVersion(deployment))
	}

	level, err := r.data.client.GetScriptLevelSettings(ctx, name)
	if err != nil {
		return fail(err)
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
	return diags
}

// optionalString maps the platform's "" to null unless the prior value was set.
func optionalString(prior types.String, v string) types.String {
	if v == "" && (prior.IsNull() || prior.IsUnknown()) {
		return types.StringNull()
	}
	return types.StringValue(v)
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

// readBindings maps the platform's bindings back onto the model, keeping what the platform
// does not return (write-only secrets, migration hints) from the prior model.
func (r *serviceResource) readBindings(m *serviceModel, bindings []cloudflare.Binding) {
	ctx := context.Background()
	var diags diag.Diagnostics
	priorJSON := stringMap(m.JSONVars)
	priorDO := objectMap[doBindingModel](ctx, m.DurableObjects, &diags)
	priorHashes := stringMap(m.SecretHashes)
	registryBinding := ""
	if m.Registry != nil {
		registryBinding = m.Registry.Binding.ValueString()
	}

	vars, jsonVars, kvs, hashes := map[string]string{}, map[string]string{}, map[string]string{}, map[string]string{}
	r2s, dos, svcs := map[string]attr.Value{}, map[string]attr.Value{}, map[string]attr.Value{}
	var registry *registryModel
	optional := func(s string) types.String {
		if s == "" {
			return types.StringNull()
		}
		return types.StringValue(s)
	}
	for _, b := range bindings {
		switch b.Type {
		case cloudflare.BindingPlainText:
			vars[b.Name] = b.Text
		case cloudflare.BindingJSON:
			if prior, ok := priorJSON[b.Name]; ok && jsonEqual([]byte(prior), b.JSON) {
				jsonVars[b.Name] = prior
			} else {
				var v any
				_ = json.Unmarshal(b.JSON, &v)
				compact, _ := json.Marshal(v)
				jsonVars[b.Name] = string(compact)
			}
		case cloudflare.BindingSecretText:
			if h, ok := priorHashes[b.Name]; ok {
				hashes[b.Name] = h
			} else {
				hashes[b.Name] = secretSetOutside
			}
		case cloudflare.BindingKVNamespace:
			isRegistry := b.Name == registryBinding || (registryBinding == "" && b.NamespaceID != "" && b.NamespaceID == r.data.registryNamespaceID)
			if isRegistry {
				registry = &registryModel{Binding: types.StringValue(b.Name), NamespaceID: types.StringNull()}
				if m.Registry != nil && !m.Registry.NamespaceID.IsNull() || b.NamespaceID != r.data.registryNamespaceID {
					registry.NamespaceID = types.StringValue(b.NamespaceID)
				}
				continue
			}
			kvs[b.Name] = b.NamespaceID
		case cloudflare.BindingR2Bucket:
			r2s[b.Name] = types.ObjectValueMust(r2BindingType.AttrTypes, map[string]attr.Value{
				"bucket_name": types.StringValue(b.BucketName), "jurisdiction": optional(b.Jurisdiction),
			})
		case cloudflare.BindingDurableObject:
			prior, hasPrior := priorDO[b.Name]
			script := optional(b.ScriptName)
			if hasPrior && prior.ScriptName.ValueString() == m.Name.ValueString() && b.ScriptName == "" {
				script = prior.ScriptName
			}
			sqlite, renamed := types.BoolNull(), types.StringNull()
			if hasPrior && prior.ClassName.ValueString() == b.ClassName {
				sqlite, renamed = prior.SQLite, prior.RenamedFrom
			}
			dos[b.Name] = types.ObjectValueMust(doBindingType.AttrTypes, map[string]attr.Value{
				"class_name": types.StringValue(b.ClassName), "script_name": script, "sqlite": sqlite, "renamed_from": renamed,
			})
		case cloudflare.BindingService:
			svcs[b.Name] = types.ObjectValueMust(serviceBindingType.AttrTypes, map[string]attr.Value{
				"service": types.StringValue(b.Service), "entrypoint": optional(b.Entrypoint),
			})
		}
	}
	m.Vars = keepNullIfEmptyMap(m.Vars, len(vars), func() types.Map { return mapOfStrings(vars) })
	m.JSONVars = keepNullIfEmptyMap(m.JSONVars, len(jsonVars), func() types.Map { return mapOfStrings(jsonVars) })
	m.KVNamespaces = keepNullIfEmptyMap(m.KVNamespaces, len(kvs), func() types.Map { return mapOfStrings(kvs) })
	m.SecretHashes = keepNullIfEmptyMap(m.SecretHashes, len(hashes), func() types.Map { return mapOfStrings(hashes) })
	m.R2Buckets = keepNullIfEmptyMap(m.R2Buckets, len(r2s), func() types.Map { return types.MapValueMust(r2BindingType, r2s) })
	m.DurableObjects = keepNullIfEmptyMap(m.DurableObjects, len(dos), func() types.Map { return types.MapValueMust(doBindingType, dos) })
	m.Services = keepNullIfEmptyMap(m.Services, len(svcs), func() types.Map { return types.MapValueMust(serviceBindingType, svcs) })
	m.Registry = registry
}

// readTriggers reads what lives beside versions: cron triggers, workers.dev, routes and
// custom domains; and the URL they give.
func (r *serviceResource) readTriggers(ctx context.Context, m *serviceModel, script *cloudflare.Script) diag.Diagnostics {
	var diags diag.Diagnostics
	name := m.Name.ValueString()
	crons, err := r.data.client.GetSchedules(ctx, name)
	if err != nil {
		diags.AddError("Cannot read service", err.Error())
		return diags
	}
	sort.Strings(crons)
	m.Crons = keepNullIfEmptySet(m.Crons, types.StringType, crons)

	sub, err := r.data.client.GetScriptSubdomain(ctx, name)
	if err != nil {
		diags.AddError("Cannot read service", err.Error())
		return diags
	}
	m.WorkersDev = types.BoolValue(sub.Enabled)

	priorZones := map[string]types.String{}
	for _, rt := range m.routes(ctx, &diags) {
		priorZones[rt.Pattern.ValueString()] = rt.ZoneID
	}
	var routes []attr.Value
	var patterns []string
	for _, rt := range script.Routes {
		zone, ok := priorZones[rt.Pattern]
		if !ok {
			zone = types.StringNull()
		}
		patterns = append(patterns, rt.Pattern)
		routes = append(routes, types.ObjectValueMust(routeType.AttrTypes, map[string]attr.Value{"pattern": types.StringValue(rt.Pattern), "zone_id": zone}))
	}
	if len(routes) == 0 && (m.Routes.IsNull() || m.Routes.IsUnknown()) {
		m.Routes = types.SetNull(routeType)
	} else {
		m.Routes = types.SetValueMust(routeType, routes)
	}

	all, err := r.data.listDomains(ctx)
	if err != nil {
		diags.AddError("Cannot read service", err.Error())
		return diags
	}
	var hosts []string
	for _, d := range all {
		if d.Service == name {
			hosts = append(hosts, d.Hostname)
		}
	}
	sort.Strings(hosts)
	m.CustomDomains = keepNullIfEmptySet(m.CustomDomains, types.StringType, hosts)

	url := ""
	if sub.Enabled {
		account, err := r.data.accountSubdomain(ctx)
		if err != nil {
			diags.AddError("Cannot read service", err.Error())
			return diags
		}
		if account != "" {
			url = "https://" + name + "." + account + ".workers.dev"
		}
	}
	if url == "" && len(hosts) > 0 {
		url = "https://" + hosts[0]
	}
	if url == "" && len(patterns) > 0 {
		sort.Strings(patterns)
		url = "https://" + strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(patterns[0], "*."), "*"), "*")
	}
	m.URL = types.StringValue(url)
	return diags
}
