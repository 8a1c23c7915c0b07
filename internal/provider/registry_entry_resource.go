package provider

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/registry"
)

var (
	_ resource.Resource                   = (*registryEntryResource)(nil)
	_ resource.ResourceWithConfigure      = (*registryEntryResource)(nil)
	_ resource.ResourceWithImportState    = (*registryEntryResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*registryEntryResource)(nil)
	_ resource.ResourceWithValidateConfig = (*registryEntryResource)(nil)
)

// NewRegistryEntryResource is the servicesdo_registry_entry constructor.
func NewRegistryEntryResource() resource.Resource { return &registryEntryResource{} }

type registryEntryResource struct{ data *providerData }

type registryEntryModel struct {
	ID         types.String `tfsdk:"id"`
	RegistryID types.String `tfsdk:"registry_id"`
	Name       types.String `tfsdk:"name"`
	Version    types.String `tfsdk:"version"`
	Health     *healthModel `tfsdk:"health"`
	Key        types.String `tfsdk:"key"`
	entryFields
}

// entryFields are the attributes of a registry document that the entry resource and the
// discovery data source share.
type entryFields struct {
	Service      types.String `tfsdk:"service"`
	Endpoint     types.String `tfsdk:"endpoint"`
	Schema       types.String `tfsdk:"schema"`
	TypeID       types.String `tfsdk:"type_id"`
	Dependencies types.List   `tfsdk:"dependencies"`
	Tags         types.Set    `tfsdk:"tags"`
	Metadata     types.Map    `tfsdk:"metadata"`
	Details      types.Map    `tfsdk:"details"`
	Description  types.String `tfsdk:"description"`
	UpdatedAt    types.String `tfsdk:"updated_at"`
}

func (r *registryEntryResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_registry_entry"
}

func (r *registryEntryResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "One version of a service in the service registry: a JSON document in a Workers KV namespace, " +
			"keyed `service:<name>:<version>`, that Terraform data sources and Workers read. The key layout and document are a " +
			"versioned contract: see the registry guide.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`<registry_id>/<name>/<version>` (the import id).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"registry_id": schema.StringAttribute{
				MarkdownDescription: "The registry's KV namespace id; defaults to the provider's `registry_namespace_id`.",
				Optional:            true,
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown(), stringplanmodifier.RequiresReplace()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Service name, e.g. `UserService`: a letter, then up to 62 letters, digits, `_`, `.` or `-`.",
				Required:            true,
				PlanModifiers:       replace,
				Validators:          []validator.String{checkValidator{"Invalid registry name", registry.CheckName}},
			},
			"version": schema.StringAttribute{
				MarkdownDescription: "Semantic version of this entry, e.g. `1.2.0`.",
				Required:            true,
				PlanModifiers:       replace,
				Validators:          []validator.String{checkValidator{"Invalid version", checkPlainVersion}},
			},
			"service": schema.StringAttribute{MarkdownDescription: "The Worker script serving this version.", Optional: true},
			"endpoint": schema.StringAttribute{
				MarkdownDescription: "Absolute http(s) URL of the service.",
				Optional:            true,
				Validators:          []validator.String{checkValidator{"Invalid endpoint", registry.CheckEndpoint}},
			},
			"schema": schema.StringAttribute{MarkdownDescription: "Type URL of what the service serves, e.g. `https://schema.org/Person`.", Optional: true},
			"type_id": schema.StringAttribute{
				MarkdownDescription: "The document's `$id`; default `https://services.do/<name>`.",
				Optional:            true,
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"dependencies": schema.ListAttribute{MarkdownDescription: "Names of the services this one calls.", Optional: true, ElementType: types.StringType},
			"health": schema.SingleNestedAttribute{
				MarkdownDescription: "How to check the service's health.",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"path":          schema.StringAttribute{MarkdownDescription: "Path, starting with `/`.", Required: true},
					"expect_status": schema.Int64Attribute{MarkdownDescription: "Expected status.", Optional: true, Validators: []validator.Int64{int64validator.Between(100, 599)}},
					"timeout":       schema.StringAttribute{MarkdownDescription: "Probe timeout, e.g. `5s`.", Optional: true, Validators: []validator.String{durationValidator{}}},
				},
			},
			"tags":        schema.SetAttribute{MarkdownDescription: "Tags, for filtering.", Optional: true, ElementType: types.StringType},
			"metadata":    schema.MapAttribute{MarkdownDescription: "String metadata, kept in the document and in the key's KV metadata (listing needs no reads; KV allows 1024 bytes in all).", Optional: true, ElementType: types.StringType},
			"details":     schema.MapAttribute{MarkdownDescription: "String details kept in the document only (no size limit from KV metadata).", Optional: true, ElementType: types.StringType},
			"description": schema.StringAttribute{MarkdownDescription: "What the service does.", Optional: true, Validators: []validator.String{stringvalidator.LengthAtMost(1000)}},
			"key":         schema.StringAttribute{MarkdownDescription: "The KV key, `service:<name>:<version>`.", Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"updated_at":  schema.StringAttribute{MarkdownDescription: "When the document was last written (RFC 3339).", Computed: true},
		},
	}
}

func (r *registryEntryResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureClient(req.ProviderData, &resp.Diagnostics)
}

func (r *registryEntryResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m registryEntryModel
	if !getKnown(ctx, req.Config, req.Config.Raw, &m, &resp.Diagnostics) || m.Name.IsUnknown() || m.Version.IsUnknown() || m.Metadata.IsUnknown() || m.Tags.IsUnknown() {
		return
	}
	if _, err := registry.EncodeSummary(m.entry("").Summary()); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("metadata"), "Registry metadata too large", err.Error()+".")
	}
}

// ModifyPlan resolves the registry and marks the write time unknown when the entry changes.
func (r *registryEntryResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	var plan, cfg registryEntryModel
	if !getKnown(ctx, req.Plan, req.Plan.Raw, &plan, &resp.Diagnostics) || !getKnown(ctx, req.Config, req.Config.Raw, &cfg, &resp.Diagnostics) {
		return
	}
	// A value rewritten without "$id", which the contract requires, reads as an empty type_id.
	// Plan the default back as a visible update, so that the apply writes what the plan says.
	if !req.State.Raw.IsNull() && cfg.TypeID.IsNull() && !plan.TypeID.IsUnknown() && plan.TypeID.ValueString() == "" && !plan.Name.IsUnknown() {
		plan.TypeID = types.StringValue(registry.DefaultTypeID(plan.Name.ValueString()))
		plan.UpdatedAt = types.StringUnknown()
	}
	if plan.RegistryID.IsUnknown() && !req.State.Raw.IsNull() {
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	if plan.RegistryID.IsNull() || plan.RegistryID.IsUnknown() {
		if cfg.RegistryID.IsNull() {
			id, err := r.data.registryID(cfg.RegistryID)
			if err != nil {
				resp.Diagnostics.AddAttributeError(path.Root("registry_id"), "No registry", err.Error()+".")
				return
			}
			plan.RegistryID = types.StringValue(id)
		}
	}
	if plan.TypeID.IsUnknown() && !plan.Name.IsUnknown() && req.State.Raw.IsNull() {
		plan.TypeID = types.StringValue(registry.DefaultTypeID(plan.Name.ValueString()))
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// entry builds the document from the model.
func (m *registryEntryModel) entry(updatedAt string) registry.Entry {
	e := registry.Entry{
		ID: m.TypeID.ValueString(), Type: "Service", SchemaVersion: registry.SchemaVersion,
		Name: m.Name.ValueString(), Version: m.Version.ValueString(), Service: m.Service.ValueString(),
		Endpoint: m.Endpoint.ValueString(), Schema: m.Schema.ValueString(), Tags: stringSet(m.Tags),
		Description: m.Description.ValueString(), UpdatedAt: updatedAt,
	}
	if e.ID == "" {
		e.ID = registry.DefaultTypeID(e.Name)
	}
	if md := stringMap(m.Metadata); len(md) > 0 {
		e.Metadata = md
	}
	if d := stringMap(m.Details); len(d) > 0 {
		e.Details = d
	}
	for _, v := range m.Dependencies.Elements() {
		if s, ok := v.(types.String); ok {
			e.Dependencies = append(e.Dependencies, s.ValueString())
		}
	}
	if m.Health != nil {
		e.Health = &registry.Health{Path: m.Health.Path.ValueString(), ExpectStatus: m.Health.ExpectStatus.ValueInt64(), Timeout: m.Health.Timeout.ValueString()}
	}
	return e
}

// fill sets the model from a document read back.
func (m *registryEntryModel) fill(registryID string, e registry.Entry) {
	m.RegistryID = types.StringValue(registryID)
	m.Name, m.Version = types.StringValue(e.Name), types.StringValue(e.Version)
	m.ID = types.StringValue(registryID + "/" + e.Name + "/" + e.Version)
	m.Key = types.StringValue(registry.Key(e.Name, e.Version))
	m.entryFields.fill(e)
	if e.Health == nil {
		m.Health = nil
	} else {
		h := &healthModel{Path: types.StringValue(e.Health.Path), ExpectStatus: types.Int64Null(), Timeout: types.StringNull()}
		if e.Health.ExpectStatus != 0 {
			h.ExpectStatus = types.Int64Value(e.Health.ExpectStatus)
		}
		if e.Health.Timeout != "" {
			h.Timeout = types.StringValue(e.Health.Timeout)
		}
		m.Health = h
	}
}

// fill sets the shared fields from a document; optional ones stay null when the document
// leaves them empty and they were null before.
func (f *entryFields) fill(e registry.Entry) {
	f.TypeID = types.StringValue(e.ID)
	f.Service = optionalString(f.Service, e.Service)
	f.Endpoint = optionalString(f.Endpoint, e.Endpoint)
	f.Schema = optionalString(f.Schema, e.Schema)
	f.Description = optionalString(f.Description, e.Description)
	f.UpdatedAt = types.StringValue(e.UpdatedAt)
	f.Tags = keepNullIfEmptySet(f.Tags, types.StringType, e.Tags)
	f.Metadata = keepNullIfEmptyMap(f.Metadata, len(e.Metadata), func() types.Map { return mapOfStrings(e.Metadata) })
	f.Details = keepNullIfEmptyMap(f.Details, len(e.Details), func() types.Map { return mapOfStrings(e.Details) })
	if len(e.Dependencies) == 0 && f.Dependencies.IsNull() {
		f.Dependencies = types.ListNull(types.StringType)
	} else {
		deps := make([]attr.Value, len(e.Dependencies))
		for i, d := range e.Dependencies {
			deps[i] = types.StringValue(d)
		}
		f.Dependencies = types.ListValueMust(types.StringType, deps)
	}
}

func (r *registryEntryResource) write(ctx context.Context, m *registryEntryModel, create bool) error {
	registryID := m.RegistryID.ValueString()
	e := m.entry(time.Now().UTC().Format(time.RFC3339))
	key := registry.Key(e.Name, e.Version)
	// Two resources declaring the same name and version must not both believe they created it.
	unlock := r.data.lock("registry/" + registryID + "/" + key)
	defer unlock()
	if !create {
		// health_status belongs to the monitor (servicesdo_monitor), not to the configuration:
		// an update carries the monitor's last verdict over instead of erasing it.
		if existing, err := r.data.client.GetKVValue(ctx, registryID, key); err == nil {
			if old, decodeErr := registry.Decode(existing); decodeErr == nil {
				e.HealthStatus = old.HealthStatus
			}
		} else if !cloudflare.IsNotFound(err) {
			return err
		}
	}
	summary, err := registry.EncodeSummary(e.Summary())
	if err != nil {
		return err
	}
	value, err := e.Encode()
	if err != nil {
		return err
	}
	if create {
		if _, err := r.data.client.GetKVNamespace(ctx, registryID); cloudflare.IsNotFound(err) {
			return fmt.Errorf("registry_id %q is not a KV namespace of account %s: create it (servicesdo_kv_namespace) or fix the id", registryID, r.data.client.AccountID())
		} else if err != nil {
			return err
		}
		existing, err := r.data.client.GetKVValue(ctx, registryID, key)
		if err == nil {
			if old, decodeErr := registry.Decode(existing); decodeErr == nil {
				return fmt.Errorf("the registry already has %s %s (written at %s): two entries cannot share a name and version. "+
					"Remove the duplicate from the configuration, bump the version, or import the existing entry (%s/%s/%s)",
					e.Name, e.Version, old.UpdatedAt, registryID, e.Name, e.Version)
			}
		} else if !cloudflare.IsNotFound(err) {
			return err
		}
	}
	if err := r.data.client.PutKVValue(ctx, registryID, key, value, summary); err != nil {
		return err
	}
	m.fill(registryID, e)
	return nil
}

func (r *registryEntryResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan registryEntryModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.write(ctx, &plan, true); err != nil {
		resp.Diagnostics.AddError("Cannot create registry entry", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *registryEntryResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state registryEntryModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	registryID := state.RegistryID.ValueString()
	raw, err := r.data.client.GetKVValue(ctx, registryID, registry.Key(state.Name.ValueString(), state.Version.ValueString()))
	if cloudflare.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot read registry entry", err.Error())
		return
	}
	e, err := registry.Decode(raw)
	if err != nil {
		resp.Diagnostics.AddError("Cannot read registry entry", fmt.Sprintf("The value of %s is not a registry document: %v. Fix or delete it out of band; the next apply rewrites it.", state.Key.ValueString(), err))
		return
	}
	state.fill(registryID, e)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *registryEntryResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan registryEntryModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.write(ctx, &plan, false); err != nil {
		resp.Diagnostics.AddError("Cannot update registry entry", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *registryEntryResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state registryEntryModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := r.data.client.DeleteKVKeys(ctx, state.RegistryID.ValueString(), []string{state.Key.ValueString()})
	if err != nil && !cloudflare.IsNotFound(err) {
		resp.Diagnostics.AddError("Cannot delete registry entry", err.Error())
	}
}

func (r *registryEntryResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	parts := strings.Split(req.ID, "/")
	if len(parts) != 3 || parts[0] == "" || registry.CheckName(parts[1]) != nil {
		resp.Diagnostics.AddError("Invalid import id", fmt.Sprintf("Import a registry entry by <registry_id>/<name>/<version>, e.g. 0f2ac74b498b48028cb68387c421e279/UserService/1.2.0; got %q.", req.ID))
		return
	}
	if _, err := registry.ParseVersion(parts[2]); err != nil {
		resp.Diagnostics.AddError("Invalid import id", err.Error())
		return
	}
	for name, v := range map[string]string{"registry_id": parts[0], "name": parts[1], "version": parts[2], "key": registry.Key(parts[1], parts[2])} {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(name), v)...)
	}
}

// checkPlainVersion accepts a semantic version written plainly (no "v" prefix): it is part of
// the KV key, which readers build from the version they want.
func checkPlainVersion(v string) error {
	parsed, err := registry.ParseVersion(v)
	if err != nil {
		return err
	}
	if parsed.String() != v {
		return fmt.Errorf("version %q must be written as %q", v, parsed.String())
	}
	return nil
}
