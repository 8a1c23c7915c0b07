package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/registry"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workers"
)

var (
	_ datasource.DataSource              = (*serviceDiscoveryDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*serviceDiscoveryDataSource)(nil)
)

// NewServiceDiscoveryDataSource is the servicesdo_service_discovery constructor.
func NewServiceDiscoveryDataSource() datasource.DataSource { return &serviceDiscoveryDataSource{} }

type serviceDiscoveryDataSource struct{ data *providerData }

type serviceDiscoveryModel struct {
	RegistryID types.String `tfsdk:"registry_id"`
	Name       types.String `tfsdk:"name"`
	Constraint types.String `tfsdk:"version"`
	Resolved   types.String `tfsdk:"resolved_version"`
	Available  types.List   `tfsdk:"available_versions"`
	Document   types.String `tfsdk:"document"`
	Healthy    types.Bool   `tfsdk:"healthy"`
	MaxAge     types.String `tfsdk:"health_max_age"`
	Health     types.String `tfsdk:"health_status"`
	HealthAt   types.String `tfsdk:"health_last_check"`
	HealthWhy  types.String `tfsdk:"health_reason"`
	entryFields
}

func (d *serviceDiscoveryDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_service_discovery"
}

func (d *serviceDiscoveryDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	computed := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc, Computed: true}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Finds the newest registry entry of a service matching a version constraint.",
		Attributes: map[string]schema.Attribute{
			"registry_id": schema.StringAttribute{MarkdownDescription: "The registry's KV namespace; defaults to the provider's `registry_namespace_id`.", Optional: true},
			"name": schema.StringAttribute{
				MarkdownDescription: "Service name.",
				Required:            true,
				Validators:          []validator.String{checkValidator{"Invalid registry name", registry.CheckName}},
			},
			"version": schema.StringAttribute{
				MarkdownDescription: "Version constraint: `latest` (default: the newest release), an exact version, `^1.2`, `~1.2.3`, `1.x`, `>=2.0.0 <3`, " +
					"Terraform's pessimistic `~> 1.2` (`>= 1.2, < 2.0`; `~> 1.2.3` is `>= 1.2.3, < 1.3.0`), alternatives with `||`.",
				Optional: true,
				Validators: []validator.String{checkValidator{"Invalid version constraint", func(s string) error {
					_, err := registry.ParseConstraint(s)
					return err
				}}},
			},
			"healthy": schema.BoolAttribute{
				MarkdownDescription: "Skip versions whose monitor (`servicesdo_monitor`) recorded them `unhealthy` in the registry: the newest matching " +
					"version that is not unhealthy is found (versions never checked count as usable). Default false.",
				Optional: true,
			},
			"health_max_age": schema.StringAttribute{
				MarkdownDescription: "With `healthy = true`: an `unhealthy` status recorded longer ago than this (e.g. `11m`, the monitor's `heartbeat` + `interval`) " +
					"is stale — its monitor stopped writing — and does not skip the version. Default: a status of any age counts.",
				Optional: true,
				Validators: []validator.String{checkValidator{"Invalid duration", func(s string) error {
					_, err := workers.ParseMonitorDuration(s)
					return err
				}}},
			},
			"health_status": computed("The found version's health as its monitor last recorded it: `healthy`, `degraded`, `unhealthy`, " +
				"or empty when no monitor has checked it."),
			"health_last_check":  computed("When the monitor last checked the found version (RFC 3339), or empty."),
			"health_reason":      computed("Why the found version is not healthy, as the monitor recorded it, or empty."),
			"resolved_version":   computed("The version found."),
			"available_versions": schema.ListAttribute{MarkdownDescription: "Every version of the service, newest first.", Computed: true, ElementType: types.StringType},
			"service":            computed("The Worker script."),
			"endpoint":           computed("The service's URL."),
			"schema":             computed("Type URL of what it serves."),
			"type_id":            computed("The document's `$id`."),
			"dependencies":       schema.ListAttribute{MarkdownDescription: "Services it calls.", Computed: true, ElementType: types.StringType},
			"tags":               schema.SetAttribute{MarkdownDescription: "Tags.", Computed: true, ElementType: types.StringType},
			"metadata":           schema.MapAttribute{MarkdownDescription: "Metadata.", Computed: true, ElementType: types.StringType},
			"details":            schema.MapAttribute{MarkdownDescription: "Details.", Computed: true, ElementType: types.StringType},
			"description":        computed("Description."),
			"document":           computed("The whole registry document (JSON)."),
			"updated_at":         computed("When the entry was written."),
		},
	}
}

func (d *serviceDiscoveryDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configureClient(req.ProviderData, &resp.Diagnostics)
}

func (d *serviceDiscoveryDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m serviceDiscoveryModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	registryID, err := d.data.registryID(m.RegistryID)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("registry_id"), "No registry", err.Error()+".")
		return
	}
	name := m.Name.ValueString()
	constraint := m.Constraint.ValueString()
	if constraint == "" {
		constraint = "latest"
	}
	var maxAge time.Duration
	if m.Healthy.ValueBool() {
		maxAge, _ = workers.ParseMonitorDuration(m.MaxAge.ValueString()) // validated; "" is 0, any age
	}
	e, version, versions, err := discover(ctx, d.data.client, registryID, name, constraint, m.Healthy.ValueBool(), maxAge)
	var noMatch *noMatchError
	var allUnhealthy *unhealthyError
	switch {
	case errors.As(err, &allUnhealthy):
		resp.Diagnostics.AddAttributeError(path.Root("healthy"), "No healthy service version", err.Error()+".")
		return
	case errors.As(err, &noMatch):
		resp.Diagnostics.AddAttributeError(path.Root("version"), "No matching service version", err.Error()+".")
		return
	case err != nil:
		resp.Diagnostics.AddError("Cannot read the registry", err.Error())
		return
	}
	doc, _ := json.Marshal(e)
	m.RegistryID = types.StringValue(registryID)
	m.Constraint = types.StringValue(constraint)
	m.Resolved = types.StringValue(version)
	registry.SortNewestFirst(versions)
	m.Available = listOfStrings(versions)
	m.Document = types.StringValue(string(doc))
	m.Health, m.HealthAt, m.HealthWhy = types.StringValue(""), types.StringValue(""), types.StringValue("")
	if h := e.HealthStatus; h != nil {
		m.Health, m.HealthAt, m.HealthWhy = types.StringValue(h.Status), types.StringValue(h.LastCheck), types.StringValue(h.Reason)
	}
	m.fill(e)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// noMatchError is a constraint that no registered version satisfies.
type noMatchError struct{ err error }

func (e *noMatchError) Error() string { return e.err.Error() }

// unhealthyError is a constraint whose matching versions are all unhealthy.
type unhealthyError struct{ err error }

func (e *unhealthyError) Error() string { return e.err.Error() }

// discover resolves name and constraint against the registry with one key listing (the
// versions come from key names, their health from key metadata) and one value read.
// healthyOnly skips the versions a monitor recorded unhealthy no longer than maxAge ago (0: any
// age).
func discover(ctx context.Context, client cloudflare.API, registryID, name, constraint string, healthyOnly bool, maxAge time.Duration) (registry.Entry, string, []string, error) {
	keys, err := client.ListKVKeys(ctx, registryID, registry.Key(name, ""))
	if cloudflare.IsNotFound(err) {
		return registry.Entry{}, "", nil, errNoRegistryNamespace(registryID)
	}
	if err != nil {
		return registry.Entry{}, "", nil, err
	}
	var versions, usable, unhealthy []string
	for _, k := range keys {
		n, v, ok := registry.ParseKey(k.Name)
		if !ok || n != name {
			continue
		}
		versions = append(versions, v)
		var s registry.Summary
		if healthyOnly && len(k.Metadata) > 0 && json.Unmarshal(k.Metadata, &s) == nil && s.Unhealthy(time.Now(), maxAge) {
			unhealthy = append(unhealthy, v)
			continue
		}
		usable = append(usable, v)
	}
	version, err := registry.Resolve(name, constraint, usable)
	if err != nil {
		if _, errAll := registry.Resolve(name, constraint, versions); errAll == nil {
			var matching []string
			for _, v := range unhealthy {
				if _, err := registry.Resolve(name, constraint, []string{v}); err == nil {
					matching = append(matching, v)
				}
			}
			registry.SortNewestFirst(matching)
			return registry.Entry{}, "", versions, &unhealthyError{fmt.Errorf("every version of %s matching %q is unhealthy (%s), as its monitor recorded: "+
				"fix the service, or drop healthy = true to find it anyway", name, constraint, strings.Join(matching, ", "))}
		}
		return registry.Entry{}, "", versions, &noMatchError{err}
	}
	raw, err := client.GetKVValue(ctx, registryID, registry.Key(name, version))
	if err != nil {
		return registry.Entry{}, "", versions, err
	}
	e, err := registry.Decode(raw)
	return e, version, versions, err
}

func errNoRegistryNamespace(id string) error {
	return fmt.Errorf("registry %s does not exist: set registry_id (or the provider's registry_namespace_id) to a KV namespace id", id)
}
