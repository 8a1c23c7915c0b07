package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workerscript"
)

// serviceModel is servicesdo_service's schema, one field per attribute.
type serviceModel struct {
	ID                   types.String   `tfsdk:"id"`
	Name                 types.String   `tfsdk:"name"`
	Description          types.String   `tfsdk:"description"`
	Version              types.String   `tfsdk:"version"`
	Domain               types.String   `tfsdk:"domain"`
	Tags                 types.Set      `tfsdk:"tags"`
	MainModule           types.String   `tfsdk:"main_module"`
	SourceDir            types.String   `tfsdk:"source_dir"`
	Modules              types.Map      `tfsdk:"modules"`
	InlineModules        types.Map      `tfsdk:"inline_modules"`
	ModuleHashes         types.Map      `tfsdk:"module_hashes"`
	CompatibilityDate    types.String   `tfsdk:"compatibility_date"`
	CompatibilityFlags   types.Set      `tfsdk:"compatibility_flags"`
	UsageModel           types.String   `tfsdk:"usage_model"`
	Limits               *limitsModel   `tfsdk:"limits"`
	Vars                 types.Map      `tfsdk:"vars"`
	JSONVars             types.Map      `tfsdk:"json_vars"`
	Secrets              types.Map      `tfsdk:"secrets"`
	SecretHashes         types.Map      `tfsdk:"secret_hashes"`
	KVNamespaces         types.Map      `tfsdk:"kv_namespaces"`
	R2Buckets            types.Map      `tfsdk:"r2_buckets"`
	DurableObjects       types.Map      `tfsdk:"durable_objects"`
	AllowDelete          types.Bool     `tfsdk:"allow_delete"`
	Services             types.Map      `tfsdk:"services"`
	Registry             *registryModel `tfsdk:"registry"`
	Routes               types.Set      `tfsdk:"routes"`
	CustomDomains        types.Set      `tfsdk:"custom_domains"`
	WorkersDev           types.Bool     `tfsdk:"workers_dev"`
	Crons                types.Set      `tfsdk:"crons"`
	Health               *healthModel   `tfsdk:"health"`
	Observability        *observeModel  `tfsdk:"observability"`
	Rollout              types.String   `tfsdk:"rollout"`
	MigrationTag         types.String   `tfsdk:"migration_tag"`
	DurableObjectClasses types.Map      `tfsdk:"durable_object_classes"`
	Etag                 types.String   `tfsdk:"etag"`
	LatestVersionID      types.String   `tfsdk:"latest_version_id"`
	DeployedVersionID    types.String   `tfsdk:"deployed_version_id"`
	URL                  types.String   `tfsdk:"url"`
	CreatedOn            types.String   `tfsdk:"created_on"`
	ModifiedOn           types.String   `tfsdk:"modified_on"`
	Timeouts             timeouts.Value `tfsdk:"timeouts"`
}

type limitsModel struct {
	CPUMs    types.Int64 `tfsdk:"cpu_ms"`
	MemoryMB types.Int64 `tfsdk:"memory_mb"`
}

type registryModel struct {
	Binding     types.String `tfsdk:"binding"`
	NamespaceID types.String `tfsdk:"namespace_id"`
}

type healthModel struct {
	Path         types.String `tfsdk:"path"`
	ExpectStatus types.Int64  `tfsdk:"expect_status"`
	Timeout      types.String `tfsdk:"timeout"`
}

type observeModel struct {
	Enabled          types.Bool    `tfsdk:"enabled"`
	HeadSamplingRate types.Float64 `tfsdk:"head_sampling_rate"`
}

type r2BindingModel struct {
	BucketName   types.String `tfsdk:"bucket_name"`
	Jurisdiction types.String `tfsdk:"jurisdiction"`
}

type doBindingModel struct {
	ClassName   types.String `tfsdk:"class_name"`
	ScriptName  types.String `tfsdk:"script_name"`
	SQLite      types.Bool   `tfsdk:"sqlite"`
	RenamedFrom types.String `tfsdk:"renamed_from"`
}

type serviceBindingModel struct {
	Service    types.String `tfsdk:"service"`
	Entrypoint types.String `tfsdk:"entrypoint"`
}

type routeModel struct {
	Pattern types.String `tfsdk:"pattern"`
	ZoneID  types.String `tfsdk:"zone_id"`
}

var (
	r2BindingType = types.ObjectType{AttrTypes: map[string]attr.Type{"bucket_name": types.StringType, "jurisdiction": types.StringType}}
	doBindingType = types.ObjectType{AttrTypes: map[string]attr.Type{
		"class_name": types.StringType, "script_name": types.StringType, "sqlite": types.BoolType, "renamed_from": types.StringType,
	}}
	serviceBindingType = types.ObjectType{AttrTypes: map[string]attr.Type{"service": types.StringType, "entrypoint": types.StringType}}
	routeType          = types.ObjectType{AttrTypes: map[string]attr.Type{"pattern": types.StringType, "zone_id": types.StringType}}
)

// stringMap reads a known map(string); unknown elements are skipped.
func stringMap(m types.Map) map[string]string {
	out := map[string]string{}
	if m.IsNull() || m.IsUnknown() {
		return out
	}
	for k, v := range m.Elements() {
		if s, ok := v.(types.String); ok && !s.IsUnknown() && !s.IsNull() {
			out[k] = s.ValueString()
		}
	}
	return out
}

func stringSet(s types.Set) []string {
	var out []string
	if s.IsNull() || s.IsUnknown() {
		return out
	}
	for _, v := range s.Elements() {
		if str, ok := v.(types.String); ok && !str.IsUnknown() && !str.IsNull() {
			out = append(out, str.ValueString())
		}
	}
	sort.Strings(out)
	return out
}

func objectMap[T any](ctx context.Context, m types.Map, diags *diag.Diagnostics) map[string]T {
	out := map[string]T{}
	if m.IsNull() || m.IsUnknown() {
		return out
	}
	diags.Append(m.ElementsAs(ctx, &out, false)...)
	return out
}

func (m *serviceModel) routes(ctx context.Context, diags *diag.Diagnostics) []routeModel {
	var out []routeModel
	if m.Routes.IsNull() || m.Routes.IsUnknown() {
		return out
	}
	diags.Append(m.Routes.ElementsAs(ctx, &out, false)...)
	return out
}

// declaredClasses are the Durable Object classes this service implements.
func (m *serviceModel) declaredClasses(ctx context.Context, diags *diag.Diagnostics) []workerscript.Class {
	seen := map[string]bool{}
	var out []workerscript.Class
	for _, b := range objectMap[doBindingModel](ctx, m.DurableObjects, diags) {
		if !b.ScriptName.IsNull() && b.ScriptName.ValueString() != "" && b.ScriptName.ValueString() != m.Name.ValueString() {
			continue
		}
		name := b.ClassName.ValueString()
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, workerscript.Class{Name: name, SQLite: b.SQLite.IsNull() || b.SQLite.ValueBool(), RenamedFrom: b.RenamedFrom.ValueString()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// registryNamespace is the namespace the registry binding points at.
func (m *serviceModel) registryNamespace(data *providerData) string {
	if m.Registry == nil {
		return ""
	}
	if id := m.Registry.NamespaceID.ValueString(); id != "" {
		return id
	}
	return data.registryNamespaceID
}

// bindings builds the non-secret bindings, sorted by name.
func (m *serviceModel) bindings(ctx context.Context, data *providerData, diags *diag.Diagnostics) []cloudflare.Binding {
	var out []cloudflare.Binding
	for name, v := range stringMap(m.Vars) {
		out = append(out, cloudflare.Binding{Type: cloudflare.BindingPlainText, Name: name, Text: v})
	}
	for name, v := range stringMap(m.JSONVars) {
		out = append(out, cloudflare.Binding{Type: cloudflare.BindingJSON, Name: name, JSON: json.RawMessage(v)})
	}
	for name, id := range stringMap(m.KVNamespaces) {
		out = append(out, cloudflare.Binding{Type: cloudflare.BindingKVNamespace, Name: name, NamespaceID: id})
	}
	for name, b := range objectMap[r2BindingModel](ctx, m.R2Buckets, diags) {
		out = append(out, cloudflare.Binding{Type: cloudflare.BindingR2Bucket, Name: name, BucketName: b.BucketName.ValueString(), Jurisdiction: b.Jurisdiction.ValueString()})
	}
	for name, b := range objectMap[doBindingModel](ctx, m.DurableObjects, diags) {
		script := b.ScriptName.ValueString()
		if script == m.Name.ValueString() {
			script = ""
		}
		out = append(out, cloudflare.Binding{Type: cloudflare.BindingDurableObject, Name: name, ClassName: b.ClassName.ValueString(), ScriptName: script})
	}
	for name, b := range objectMap[serviceBindingModel](ctx, m.Services, diags) {
		out = append(out, cloudflare.Binding{Type: cloudflare.BindingService, Name: name, Service: b.Service.ValueString(), Entrypoint: b.Entrypoint.ValueString()})
	}
	if m.Registry != nil {
		out = append(out, cloudflare.Binding{Type: cloudflare.BindingKVNamespace, Name: m.Registry.Binding.ValueString(), NamespaceID: m.registryNamespace(data)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// scriptTags are the tags sent to the platform: the configured ones plus domain:<domain>.
func (m *serviceModel) scriptTags() []string {
	tags := stringSet(m.Tags)
	if d := m.Domain.ValueString(); d != "" {
		tags = append(tags, domainTagPrefix+d)
	}
	sort.Strings(tags)
	if tags == nil {
		tags = []string{}
	}
	return tags
}

const domainTagPrefix = "domain:"

func (m *serviceModel) observability() *cloudflare.Observability {
	if m.Observability == nil {
		return &cloudflare.Observability{Enabled: false}
	}
	o := &cloudflare.Observability{Enabled: m.Observability.Enabled.ValueBool()}
	if !m.Observability.HeadSamplingRate.IsNull() && !m.Observability.HeadSamplingRate.IsUnknown() {
		rate := m.Observability.HeadSamplingRate.ValueFloat64()
		o.HeadSamplingRate = &rate
	}
	return o
}

func (m *serviceModel) cpuMs() int64 {
	if m.Limits == nil || m.Limits.CPUMs.IsNull() {
		return 0
	}
	return m.Limits.CPUMs.ValueInt64()
}

func (m *serviceModel) annotations() cloudflare.Annotations {
	return cloudflare.Annotations{Message: m.Description.ValueString(), Tag: m.Version.ValueString()}
}

// jsonEqual compares two JSON documents semantically.
func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

func setOfStrings(values []string) types.Set {
	elems := make([]attr.Value, 0, len(values))
	for _, v := range values {
		elems = append(elems, types.StringValue(v))
	}
	return types.SetValueMust(types.StringType, elems)
}

func mapOfStrings(values map[string]string) types.Map {
	elems := make(map[string]attr.Value, len(values))
	for k, v := range values {
		elems[k] = types.StringValue(v)
	}
	return types.MapValueMust(types.StringType, elems)
}

// formatTime keeps the platform's full precision: Read compares modified_on to decide
// whether to re-read a script, and a value cut to the second would hide a change made in the
// same second as the last refresh.
func formatTime(t time.Time) types.String {
	if t.IsZero() {
		return types.StringValue("")
	}
	return types.StringValue(t.UTC().Format(time.RFC3339Nano))
}

// keepNullIfEmpty returns null when the platform has nothing of a kind and the prior value
// was null, so an unset attribute never diffs against an empty one.
func keepNullIfEmptyMap(prior types.Map, n int, build func() types.Map) types.Map {
	if n == 0 && (prior.IsNull() || prior.IsUnknown()) {
		return types.MapNull(prior.ElementType(context.Background()))
	}
	return build()
}

func keepNullIfEmptySet(prior types.Set, elem attr.Type, values []string) types.Set {
	if len(values) == 0 && (prior.IsNull() || prior.IsUnknown()) {
		return types.SetNull(elem)
	}
	return setOfStrings(values)
}

func lowerHost(pattern string) string {
	host, rest, found := strings.Cut(pattern, "/")
	if !found {
		return strings.ToLower(host)
	}
	return strings.ToLower(host) + "/" + rest
}

func pathSecret(name string) path.Path { return path.Root("secrets").AtMapKey(name) }

func timeoutsNull() timeouts.Value {
	return timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{"create": types.StringType, "update": types.StringType, "delete": types.StringType})}
}
