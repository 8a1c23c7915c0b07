package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
)

// kvTitleMaxLength is the platform's limit on namespace titles.
const kvTitleMaxLength = 512

var (
	_ resource.Resource                = (*kvNamespaceResource)(nil)
	_ resource.ResourceWithConfigure   = (*kvNamespaceResource)(nil)
	_ resource.ResourceWithImportState = (*kvNamespaceResource)(nil)
)

// NewKVNamespaceResource is the servicesdo_kv_namespace constructor.
func NewKVNamespaceResource() resource.Resource { return &kvNamespaceResource{} }

type kvNamespaceResource struct{ data *providerData }

type kvNamespaceModel struct {
	ID                  types.String   `tfsdk:"id"`
	Title               types.String   `tfsdk:"title"`
	SupportsURLEncoding types.Bool     `tfsdk:"supports_url_encoding"`
	ForceDestroy        types.Bool     `tfsdk:"force_destroy"`
	Timeouts            timeouts.Value `tfsdk:"timeouts"`
}

func (r *kvNamespaceResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_kv_namespace"
}

func (r *kvNamespaceResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Workers KV namespace that services bind. Destroying a namespace that still holds keys " +
			"fails unless `force_destroy = true`, so no data is lost by accident.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Namespace id (32 hexadecimal characters).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"title": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Human-readable name, unique within the account (1–%d characters). Changing it renames the namespace in place.", kvTitleMaxLength),
				Required:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, kvTitleMaxLength)},
			},
			"supports_url_encoding": schema.BoolAttribute{
				MarkdownDescription: "Whether the API decodes URL-encoded key names before storing them.",
				Computed:            true,
				PlanModifiers:       []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()},
			},
			"force_destroy": schema.BoolAttribute{
				MarkdownDescription: "Delete the namespace on destroy even when it still holds keys (they are deleted with it). Default `false`: destroying a non-empty namespace is an error that says how many keys remain.",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(false),
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Delete: true}),
		},
	}
}

func (r *kvNamespaceResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureClient(req.ProviderData, &resp.Diagnostics)
}

func (m *kvNamespaceModel) fill(ns cloudflare.KVNamespace) {
	m.ID = types.StringValue(ns.ID)
	m.Title = types.StringValue(ns.Title)
	m.SupportsURLEncoding = types.BoolValue(ns.SupportsURLEncoding)
	if m.ForceDestroy.IsNull() || m.ForceDestroy.IsUnknown() {
		m.ForceDestroy = types.BoolValue(false)
	}
}

func (r *kvNamespaceResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	defer r.data.cache.kvNamespaces.reset() // the listing Read uses no longer holds
	var plan kvNamespaceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	title := plan.Title.ValueString()
	// Resources creating the same title take turns, so the second sees the first's namespace
	// as claimed instead of adopting it.
	unlock := r.data.lock("kv-title/" + title)
	defer unlock()
	ns, adopted, err := r.create(ctx, title)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("title"), "Cannot create KV namespace", err.Error())
		return
	}
	if adopted != "" {
		resp.Diagnostics.AddAttributeWarning(path.Root("title"), "Adopted an empty KV namespace", adopted)
	}
	plan.fill(ns)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// create makes the namespace, or recovers from a create that failed or whose answer was lost.
// Titles are unique and namespaces carry no marker, so the only evidence that a namespace with
// the title is the one an earlier attempt made (this one, or a run killed before it saved its
// state) is that it is empty: then it is adopted, and adopted says so. A namespace holding keys
// is never adopted; the error says how to import it.
func (r *kvNamespaceResource) create(ctx context.Context, title string) (ns cloudflare.KVNamespace, adopted string, err error) {
	for attempt := 0; ; attempt++ {
		ns, err = r.data.client.CreateKVNamespace(ctx, title)
		if err == nil {
			r.data.claim("kv/" + ns.ID)
			return ns, "", nil
		}
		if !mayHaveCreated(err) {
			return ns, "", err
		}
		existing, found, lookupErr := r.findByTitle(ctx, title)
		switch {
		case lookupErr != nil:
			return ns, "", fmt.Errorf("%w; then looking for a namespace titled %q failed too (%v): apply again, which adopts the namespace if it was created empty", err, title, lookupErr)
		case found:
			return r.adopt(ctx, existing, err)
		case cloudflare.IsUnknownOutcome(err) && attempt == 0:
			// Nothing was created: sending the create again cannot duplicate a unique title.
			continue
		case errors.Is(err, cloudflare.ErrConflict):
			return ns, "", errors.New(r.alreadyExists(title, "another namespace", ""))
		default:
			return ns, "", err
		}
	}
}

// adopt takes over existing when it is empty and no other resource of this command has it.
func (r *kvNamespaceResource) adopt(ctx context.Context, existing cloudflare.KVNamespace, createErr error) (cloudflare.KVNamespace, string, error) {
	holder := "namespace " + existing.ID
	if !r.data.claim("kv/" + existing.ID) {
		return existing, "", errors.New(r.alreadyExists(existing.Title, holder,
			" Another servicesdo_kv_namespace of this configuration created or adopted it: give each resource its own title."))
	}
	keys, err := r.data.client.ListKVKeys(ctx, existing.ID, "")
	if err != nil {
		r.data.claimed.Delete("kv/" + existing.ID)
		return existing, "", fmt.Errorf("%w; then checking whether the existing namespace %s is empty failed (%v): apply again", createErr, existing.ID, err)
	}
	if len(keys) > 0 {
		r.data.claimed.Delete("kv/" + existing.ID)
		return existing, "", errors.New(r.alreadyExists(existing.Title, holder, fmt.Sprintf(
			" It holds %d key(s), so it was not adopted: only an empty namespace, as an interrupted create leaves it, is adopted.", len(keys))))
	}
	return existing, fmt.Sprintf("The create of KV namespace %q did not complete normally (%v), and namespace %s with that title exists and is empty, "+
		"which is what an interrupted create leaves: this resource now manages it. A namespace that holds keys is never adopted.",
		existing.Title, createErr, existing.ID), nil
}

// findByTitle looks the namespace up by its unique title.
func (r *kvNamespaceResource) findByTitle(ctx context.Context, title string) (cloudflare.KVNamespace, bool, error) {
	all, err := r.data.client.ListKVNamespaces(ctx)
	if err != nil {
		return cloudflare.KVNamespace{}, false, err
	}
	for _, ns := range all {
		if ns.Title == title {
			return ns, true, nil
		}
	}
	return cloudflare.KVNamespace{}, false, nil
}

// alreadyExists is the error for a title held by a namespace this resource does not take over.
func (r *kvNamespaceResource) alreadyExists(title, holder, why string) string {
	return fmt.Sprintf("A KV namespace titled %q already exists in account %s (%s).%s Titles are unique per account: "+
		"choose another title, or adopt the existing namespace with `terraform import <address> <id>` or an import block.",
		title, r.data.client.AccountID(), holder, why)
}

// explainRenameError turns a duplicate title into an error that says which namespace holds it.
func (r *kvNamespaceResource) explainRenameError(ctx context.Context, title string, err error) string {
	if !errors.Is(err, cloudflare.ErrConflict) {
		return err.Error()
	}
	holder := "another namespace"
	if ns, found, lookupErr := r.findByTitle(ctx, title); lookupErr == nil && found {
		holder = "namespace " + ns.ID
	}
	return r.alreadyExists(title, holder, "")
}

func (r *kvNamespaceResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state kvNamespaceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ns, err := r.data.kvNamespace(ctx, state.ID.ValueString())
	if cloudflare.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot read KV namespace", err.Error())
		return
	}
	before := state
	state.fill(ns)
	setStateIfChanged(ctx, &resp.State, &before, &state, &resp.Diagnostics)
}

func (r *kvNamespaceResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	defer r.data.cache.kvNamespaces.reset() // the listing Read uses no longer holds
	var plan, state kvNamespaceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.Title.ValueString() != state.Title.ValueString() {
		ns, err := r.data.client.RenameKVNamespace(ctx, state.ID.ValueString(), plan.Title.ValueString())
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("title"), "Cannot rename KV namespace", r.explainRenameError(ctx, plan.Title.ValueString(), err))
			return
		}
		plan.fill(ns)
	} else {
		plan.ID, plan.SupportsURLEncoding = state.ID, state.SupportsURLEncoding
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *kvNamespaceResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	defer r.data.cache.kvNamespaces.reset() // the listing Read uses no longer holds
	var state kvNamespaceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, 20*time.Minute)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	id := state.ID.ValueString()
	if !state.ForceDestroy.ValueBool() {
		keys, err := r.data.client.ListKVKeys(ctx, id, "")
		if cloudflare.IsNotFound(err) {
			return
		}
		if err != nil {
			resp.Diagnostics.AddError("Cannot delete KV namespace", err.Error())
			return
		}
		if len(keys) > 0 {
			resp.Diagnostics.AddError("KV namespace is not empty",
				fmt.Sprintf("KV namespace %q (%s) still holds %d key(s); nothing was deleted. "+
					"To delete it with its keys, set force_destroy = true and apply before destroying; or remove the keys first.",
					state.Title.ValueString(), id, len(keys)))
			return
		}
	}
	if err := r.data.client.DeleteKVNamespace(ctx, id); err != nil && !cloudflare.IsNotFound(err) {
		resp.Diagnostics.AddError("Cannot delete KV namespace", err.Error())
	}
}

func (r *kvNamespaceResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("force_destroy"), false)...)
}
