package provider

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/registry"
)

var (
	_ datasource.DataSource              = (*registryDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*registryDataSource)(nil)
)

// NewRegistryDataSource is the servicesdo_registry constructor.
func NewRegistryDataSource() datasource.DataSource { return &registryDataSource{} }

type registryDataSource struct{ data *providerData }

type registryListModel struct {
	RegistryID types.String `tfsdk:"registry_id"`
	NamePrefix types.String `tfsdk:"name_prefix"`
	Tag        types.String `tfsdk:"tag"`
	Type       types.String `tfsdk:"type"`
	Schema     types.String `tfsdk:"schema"`
	Entries    types.List   `tfsdk:"entries"`
}

var registrySummaryType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"name": types.StringType, "version": types.StringType, "key": types.StringType, "type": types.StringType, "type_id": types.StringType,
	"service": types.StringType, "endpoint": types.StringType, "schema": types.StringType,
	"tags": types.ListType{ElemType: types.StringType}, "metadata": types.MapType{ElemType: types.StringType},
}}

func (d *registryDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_registry"
}

func (d *registryDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists registry entries, filtered and sorted (name, then newest version first), from one KV key listing: the summaries in KV metadata need no per-entry reads.",
		Attributes: map[string]schema.Attribute{
			"registry_id": schema.StringAttribute{MarkdownDescription: "The registry's KV namespace; defaults to the provider's `registry_namespace_id`.", Optional: true},
			"name_prefix": schema.StringAttribute{MarkdownDescription: "Only names starting with this.", Optional: true},
			"tag":         schema.StringAttribute{MarkdownDescription: "Only entries with this tag.", Optional: true},
			"type":        schema.StringAttribute{MarkdownDescription: "Only entries with this `$type` (`Service`).", Optional: true},
			"schema":      schema.StringAttribute{MarkdownDescription: "Only entries serving this schema type URL.", Optional: true},
			"entries": schema.ListNestedAttribute{
				MarkdownDescription: "The entries.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":     schema.StringAttribute{MarkdownDescription: "Name.", Computed: true},
					"version":  schema.StringAttribute{MarkdownDescription: "Version.", Computed: true},
					"key":      schema.StringAttribute{MarkdownDescription: "KV key.", Computed: true},
					"type":     schema.StringAttribute{MarkdownDescription: "`$type`.", Computed: true},
					"type_id":  schema.StringAttribute{MarkdownDescription: "`$id`.", Computed: true},
					"service":  schema.StringAttribute{MarkdownDescription: "Worker script.", Computed: true},
					"endpoint": schema.StringAttribute{MarkdownDescription: "URL.", Computed: true},
					"schema":   schema.StringAttribute{MarkdownDescription: "Schema type URL.", Computed: true},
					"tags":     schema.ListAttribute{MarkdownDescription: "Tags.", Computed: true, ElementType: types.StringType},
					"metadata": schema.MapAttribute{MarkdownDescription: "Metadata.", Computed: true, ElementType: types.StringType},
				}},
			},
		},
	}
}

func (d *registryDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configureClient(req.ProviderData, &resp.Diagnostics)
}

func (d *registryDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m registryListModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	registryID, err := d.data.registryID(m.RegistryID)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("registry_id"), "No registry", err.Error()+".")
		return
	}
	keys, err := d.data.client.ListKVKeys(ctx, registryID, registry.KeyPrefix+m.NamePrefix.ValueString())
	if err != nil {
		if cloudflare.IsNotFound(err) {
			err = errNoRegistryNamespace(registryID)
		}
		resp.Diagnostics.AddError("Cannot read the registry", err.Error())
		return
	}
	var summaries []registry.Summary
	for _, k := range keys {
		var s registry.Summary
		if json.Unmarshal(k.Metadata, &s) != nil || s.Name == "" {
			continue // not a registry entry (or written by something else)
		}
		if tag := m.Tag.ValueString(); tag != "" && !containsString(s.Tags, tag) {
			continue
		}
		if t := m.Type.ValueString(); t != "" && s.Type != t {
			continue
		}
		if sc := m.Schema.ValueString(); sc != "" && s.Schema != sc {
			continue
		}
		summaries = append(summaries, s)
	}
	slices.SortStableFunc(summaries, func(a, b registry.Summary) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return registry.NewestFirst(a.Version, b.Version)
	})
	entries := make([]attr.Value, 0, len(summaries))
	for _, s := range summaries {
		metadata := map[string]string{}
		for k, v := range s.Metadata {
			metadata[k] = v
		}
		entries = append(entries, types.ObjectValueMust(registrySummaryType.AttrTypes, map[string]attr.Value{
			"name": types.StringValue(s.Name), "version": types.StringValue(s.Version), "key": types.StringValue(registry.Key(s.Name, s.Version)),
			"type": types.StringValue(s.Type), "type_id": types.StringValue(s.ID), "service": types.StringValue(s.Service),
			"endpoint": types.StringValue(s.Endpoint), "schema": types.StringValue(s.Schema),
			"tags": listOfStrings(s.Tags), "metadata": mapOfStrings(metadata),
		}))
	}
	m.RegistryID = types.StringValue(registryID)
	m.Entries = types.ListValueMust(registrySummaryType, entries)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func listOfStrings(values []string) types.List {
	elems := make([]attr.Value, len(values))
	for i, v := range values {
		elems[i] = types.StringValue(v)
	}
	return types.ListValueMust(types.StringType, elems)
}
