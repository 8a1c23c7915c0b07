package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workerscript"
)

// serviceModel is servicesdo_service's schema, one field per attribute.
type serviceModel struct {
	ID                     types.String   `tfsdk:"id"`
	Name                   types.String   `tfsdk:"name"`
	Description            types.String   `tfsdk:"description"`
	Version                types.String   `tfsdk:"version"`
	Domain                 types.String   `tfsdk:"domain"`
	Tags                   types.Set      `tfsdk:"tags"`
	MainModule             types.String   `tfsdk:"main_module"`
	SourceDir              types.String   `tfsdk:"source_dir"`
	Modules                types.Map      `tfsdk:"modules"`
	InlineModules          types.Map      `tfsdk:"inline_modules"`
	ModuleHashes           types.Map      `tfsdk:"module_hashes"`
	CompatibilityDate      types.String   `tfsdk:"compatibility_date"`
	CompatibilityFlags     types.Set      `tfsdk:"compatibility_flags"`
	UsageModel             types.String   `tfsdk:"usage_model"`
	Limits                 *limitsModel   `tfsdk:"limits"`
	Vars                   types.Map      `tfsdk:"vars"`
	JSONVars               types.Map      `tfsdk:"json_vars"`
	Secrets                types.Map      `tfsdk:"secrets"`
	SecretsVersion         types.Int64    `tfsdk:"secrets_version"`
	SecretNames            types.Set      `tfsdk:"secret_names"`
	KVNamespaces           types.Map      `tfsdk:"kv_namespaces"`
	R2Buckets              types.Map      `tfsdk:"r2_buckets"`
	DurableObjects         types.Map      `tfsdk:"durable_objects"`
	AllowDelete            types.Bool     `tfsdk:"allow_delete"`
	Services               types.Map      `tfsdk:"services"`
	QueueProducers         types.Map      `tfsdk:"queue_producers"`
	QueueConsumers         types.List     `tfsdk:"queue_consumers"`
	Registry               *registryModel `tfsdk:"registry"`
	Routes                 types.Set      `tfsdk:"routes"`
	CustomDomains          types.Set      `tfsdk:"custom_domains"`
	WorkersDev             types.Bool     `tfsdk:"workers_dev"`
	Crons                  types.Set      `tfsdk:"crons"`
	Health                 *healthModel   `tfsdk:"health"`
	Observability          *observeModel  `tfsdk:"observability"`
	Rollout                types.String   `tfsdk:"rollout"`
	MigrationTag           types.String   `tfsdk:"migration_tag"`
	DurableObjectClasses   types.Map      `tfsdk:"durable_object_classes"`
	DurableObjectMigration types.String   `tfsdk:"durable_object_migration"`
	Etag                   types.String   `tfsdk:"etag"`
	LatestVersionID        types.String   `tfsdk:"latest_version_id"`
	DeployedVersionID      types.String   `tfsdk:"deployed_version_id"`
	URL                    types.String   `tfsdk:"url"`
	CreatedOn              types.String   `tfsdk:"created_on"`
	ModifiedOn             types.String   `tfsdk:"modified_on"`
	Timeouts               timeouts.Value `tfsdk:"timeouts"`
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

// The nested models of map and set elements name their attribute types once, next to their
// fields, for building values with types.ObjectValueFrom.

type r2BindingModel struct {
	BucketName   types.String `tfsdk:"bucket_name"`
	Jurisdiction types.String `tfsdk:"jurisdiction"`
}

func (r2BindingModel) attrTypes() map[string]attr.Type {
	return map[string]attr.Type{"bucket_name": types.StringType, "jurisdiction": types.StringType}
}

type doBindingModel struct {
	ClassName   types.String `tfsdk:"class_name"`
	ScriptName  types.String `tfsdk:"script_name"`
	SQLite      types.Bool   `tfsdk:"sqlite"`
	RenamedFrom types.String `tfsdk:"renamed_from"`
}

func (doBindingModel) attrTypes() map[string]attr.Type {
	return map[string]attr.Type{"class_name": types.StringType, "script_name": types.StringType, "sqlite": types.BoolType, "renamed_from": types.StringType}
}

type serviceBindingModel struct {
	Service    types.String `tfsdk:"service"`
	Entrypoint types.String `tfsdk:"entrypoint"`
}

func (serviceBindingModel) attrTypes() map[string]attr.Type {
	return map[string]attr.Type{"service": types.StringType, "entrypoint": types.StringType}
}

type routeModel struct {
	Pattern types.String `tfsdk:"pattern"`
	ZoneID  types.String `tfsdk:"zone_id"`
}

func (routeModel) attrTypes() map[string]attr.Type {
	return map[string]attr.Type{"pattern": types.StringType, "zone_id": types.StringType}
}

var routeType = types.ObjectType{AttrTypes: routeModel{}.attrTypes()}

// serviceEnv is what the service's values mean beyond themselves: the provider's defaults.
type serviceEnv struct {
	registryNamespaceID string
	zoneID              string
}

func (d *providerData) serviceEnv() serviceEnv {
	return serviceEnv{registryNamespaceID: d.registryNamespaceID, zoneID: d.zoneID}
}

// diagError turns framework diagnostics (a value conversion that failed) into an error.
func diagError(d diag.Diagnostics) error {
	if !d.HasError() {
		return nil
	}
	var errs []error
	for _, e := range d.Errors() {
		errs = append(errs, errors.New(e.Summary()+": "+e.Detail()))
	}
	return errors.Join(errs...)
}

// fullyKnown reports whether v and everything inside it is known.
func fullyKnown(v attr.Value) bool {
	if v == nil || v.IsNull() {
		return true
	}
	if v.IsUnknown() {
		return false
	}
	var elems []attr.Value
	switch c := v.(type) {
	case basetypes.MapValue:
		for _, e := range c.Elements() {
			elems = append(elems, e)
		}
	case basetypes.SetValue:
		elems = c.Elements()
	case basetypes.ListValue:
		elems = c.Elements()
	case basetypes.ObjectValue:
		for _, e := range c.Attributes() {
			elems = append(elems, e)
		}
	}
	for _, e := range elems {
		if !fullyKnown(e) {
			return false
		}
	}
	return true
}

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

// stringSet reads a known set(string), sorted; unknown elements are skipped.
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

func objectMap[T any](ctx context.Context, m types.Map) (map[string]T, error) {
	out := map[string]T{}
	if m.IsNull() || m.IsUnknown() {
		return out, nil
	}
	return out, diagError(m.ElementsAs(ctx, &out, false))
}

func (m *serviceModel) routes(ctx context.Context) ([]routeModel, error) {
	return routesOf(ctx, m.Routes)
}

// declaredClass is a Durable Object class this service implements, with the binding that
// declares it.
type declaredClass struct {
	workerscript.Class
	binding string
}

// declaredClasses are the Durable Object classes this service implements, sorted by name.
func (m *serviceModel) declaredClasses(ctx context.Context) ([]declaredClass, error) {
	bindings, err := objectMap[doBindingModel](ctx, m.DurableObjects)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(bindings))
	for name := range bindings {
		names = append(names, name)
	}
	sort.Strings(names)
	seen := map[string]bool{}
	var out []declaredClass
	for _, binding := range names {
		b := bindings[binding]
		if script := b.ScriptName.ValueString(); script != "" && script != m.Name.ValueString() {
			continue
		}
		class := b.ClassName.ValueString()
		if class == "" || seen[class] {
			continue
		}
		seen[class] = true
		out = append(out, declaredClass{
			Class:   workerscript.Class{Name: class, SQLite: b.SQLite.IsNull() || b.SQLite.ValueBool(), RenamedFrom: b.RenamedFrom.ValueString()},
			binding: binding,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func classesOf(declared []declaredClass) []workerscript.Class {
	out := make([]workerscript.Class, len(declared))
	for i, c := range declared {
		out[i] = c.Class
	}
	return out
}

// planMigration is the migration from the classes in state (none on creation) to the
// declared ones.
func (m *serviceModel) planMigration(ctx context.Context, state *serviceModel) (*workerscript.Migration, error) {
	declared, err := m.declaredClasses(ctx)
	if err != nil {
		return nil, err
	}
	current, tag := map[string]bool{}, ""
	if state != nil {
		current, tag = currentClasses(state.DurableObjectClasses), state.MigrationTag.ValueString()
	}
	return workerscript.PlanMigration(current, tag, classesOf(declared), m.AllowDelete.ValueBool())
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

// registryNamespace is the namespace the registry binding points at.
func (m *serviceModel) registryNamespace(env serviceEnv) string {
	if m.Registry == nil {
		return ""
	}
	if id := m.Registry.NamespaceID.ValueString(); id != "" {
		return id
	}
	return env.registryNamespaceID
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

func lowerHost(pattern string) string {
	host, rest, found := strings.Cut(pattern, "/")
	if !found {
		return strings.ToLower(host)
	}
	return strings.ToLower(host) + "/" + rest
}

// serviceTimeouts are the operations the timeouts block configures; the schema and the null
// value below are both built from it.
var serviceTimeouts = timeouts.Opts{Create: true, Update: true, Delete: true}

func timeoutsNull(ctx context.Context) timeouts.Value {
	t, _ := timeouts.Block(ctx, serviceTimeouts).Type().(timeouts.Type)
	return timeouts.Value{Object: types.ObjectNull(t.AttrTypes)}
}

// serviceURL is where a service answers: its workers.dev address, else its first custom
// domain, else its first route.
func serviceURL(name, accountSubdomain string, workersDev bool, domains, routePatterns []string) string {
	if workersDev && accountSubdomain != "" {
		return "https://" + name + "." + accountSubdomain + ".workers.dev"
	}
	if len(domains) > 0 {
		sorted := append([]string(nil), domains...)
		sort.Strings(sorted)
		return "https://" + sorted[0]
	}
	if len(routePatterns) > 0 {
		sorted := append([]string(nil), routePatterns...)
		sort.Strings(sorted)
		return "https://" + strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(sorted[0], "*."), "*"), "*")
	}
	return ""
}
