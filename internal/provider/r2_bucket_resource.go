package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/validation"
)

var (
	_ resource.Resource                = (*r2BucketResource)(nil)
	_ resource.ResourceWithConfigure   = (*r2BucketResource)(nil)
	_ resource.ResourceWithImportState = (*r2BucketResource)(nil)
)

// NewR2BucketResource is the servicesdo_r2_bucket constructor.
func NewR2BucketResource() resource.Resource { return &r2BucketResource{} }

type r2BucketResource struct{ data *providerData }

type r2BucketModel struct {
	ID           types.String   `tfsdk:"id"`
	Name         types.String   `tfsdk:"name"`
	LocationHint types.String   `tfsdk:"location_hint"`
	StorageClass types.String   `tfsdk:"storage_class"`
	Jurisdiction types.String   `tfsdk:"jurisdiction"`
	Location     types.String   `tfsdk:"location"`
	CreationDate types.String   `tfsdk:"creation_date"`
	ForceDestroy types.Bool     `tfsdk:"force_destroy"`
	Timeouts     timeouts.Value `tfsdk:"timeouts"`
}

// r2DeleteConcurrency bounds parallel object deletes of a force_destroy.
const r2DeleteConcurrency = 8

func (r *r2BucketResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_r2_bucket"
}

func (r *r2BucketResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "An R2 bucket that services bind. Destroying a bucket that still holds objects fails " +
			"unless `force_destroy = true`, so no data is lost by accident.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`<name>` in the default jurisdiction, `<jurisdiction>/<name>` otherwise (the import id).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Bucket name: " + validation.R2BucketNameRule + ". Changing it replaces the bucket.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{validation.R2BucketName()},
			},
			"location_hint": schema.StringAttribute{
				MarkdownDescription: "Where the bucket should live: one of `" + strings.Join(validation.R2LocationHints, "`, `") +
					"`. A hint, not a guarantee; `location` says where it is. When unset, it takes the bucket's location. Changing it replaces the bucket.",
				Optional: true,
				Computed: true,
				PlanModifiers: []planmodifier.String{
					stringplanmodifier.UseStateForUnknown(),
					stringplanmodifier.RequiresReplaceIfConfigured(),
				},
				Validators: []validator.String{stringvalidator.OneOf(validation.R2LocationHints...)},
			},
			"storage_class": schema.StringAttribute{
				MarkdownDescription: "Default storage class of new objects: `Standard` (default) or `InfrequentAccess`. Changed in place.",
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString("Standard"),
				Validators:          []validator.String{stringvalidator.OneOf("Standard", "InfrequentAccess")},
			},
			"jurisdiction": schema.StringAttribute{
				MarkdownDescription: "Data jurisdiction: one of `" + strings.Join(validation.R2Jurisdictions, "`, `") + "`. Changing it replaces the bucket.",
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(validation.R2DefaultJurisdiction),
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{stringvalidator.OneOf(validation.R2Jurisdictions...)},
			},
			"location": schema.StringAttribute{
				MarkdownDescription: "Where the bucket lives, in lower case (the API answers in upper case).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"creation_date": schema.StringAttribute{
				MarkdownDescription: "When the bucket was created (RFC 3339).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"force_destroy": schema.BoolAttribute{
				MarkdownDescription: "Delete every object on destroy, then the bucket. Default `false`: destroying a non-empty bucket is an error that says how many objects remain.",
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

func (r *r2BucketResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureClient(req.ProviderData, &resp.Diagnostics)
}

func r2BucketID(name, jurisdiction string) string {
	if jurisdiction == "" || jurisdiction == validation.R2DefaultJurisdiction {
		return name
	}
	return jurisdiction + "/" + name
}

func (m *r2BucketModel) fill(b cloudflare.R2Bucket) {
	m.ID = types.StringValue(r2BucketID(b.Name, b.Jurisdiction))
	m.Name = types.StringValue(b.Name)
	m.StorageClass = types.StringValue(b.StorageClass)
	m.Jurisdiction = types.StringValue(b.Jurisdiction)
	m.Location = types.StringValue(b.Location)
	m.CreationDate = types.StringValue(b.CreationDate)
	// The hint is not stored by the platform: keep the configured one, and take the actual
	// location when there is none (creation without a hint, import).
	if m.LocationHint.IsNull() || m.LocationHint.IsUnknown() {
		m.LocationHint = types.StringValue(b.Location)
	}
	if m.ForceDestroy.IsNull() || m.ForceDestroy.IsUnknown() {
		m.ForceDestroy = types.BoolValue(false)
	}
}

func (r *r2BucketResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan r2BucketModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	spec := cloudflare.R2BucketSpec{
		Name:         plan.Name.ValueString(),
		LocationHint: plan.LocationHint.ValueString(),
		StorageClass: plan.StorageClass.ValueString(),
		Jurisdiction: plan.Jurisdiction.ValueString(),
	}
	// Resources creating the same bucket take turns, so the second sees the first's bucket as
	// claimed instead of adopting it.
	unlock := r.data.lock("r2/" + r2BucketID(spec.Name, spec.Jurisdiction))
	defer unlock()
	b, adopted, err := r.create(ctx, spec)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("name"), "Cannot create R2 bucket", err.Error())
		return
	}
	if adopted != "" {
		resp.Diagnostics.AddAttributeWarning(path.Root("name"), "Adopted an empty R2 bucket", adopted)
	}
	plan.fill(b)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// create makes the bucket, or recovers from a create that failed or whose answer was lost.
// Names are unique per jurisdiction and buckets carry no marker, so the only evidence that a
// bucket with the name is the one an earlier attempt made (this one, or a run killed before it
// saved its state) is that it is empty and has the storage class asked for: then it is adopted,
// and adopted says so. A bucket holding objects is never adopted; the error says how to import it.
func (r *r2BucketResource) create(ctx context.Context, spec cloudflare.R2BucketSpec) (b cloudflare.R2Bucket, adopted string, err error) {
	for attempt := 0; ; attempt++ {
		b, err = r.data.client.CreateR2Bucket(ctx, spec)
		if err == nil {
			r.data.claim("r2/" + r2BucketID(b.Name, b.Jurisdiction))
			return b, "", nil
		}
		if !mayHaveCreated(err) {
			return b, "", err
		}
		existing, lookupErr := r.data.client.GetR2Bucket(ctx, spec.Name, spec.Jurisdiction)
		switch {
		case lookupErr == nil:
			return r.adopt(ctx, spec, existing, err)
		case !cloudflare.IsNotFound(lookupErr):
			return b, "", fmt.Errorf("%w; then looking for bucket %q failed too (%v): apply again, which adopts the bucket if it was created empty", err, spec.Name, lookupErr)
		case cloudflare.IsUnknownOutcome(err) && attempt == 0:
			// Nothing was created: sending the create again cannot duplicate a unique name.
			continue
		case errors.Is(err, cloudflare.ErrConflict):
			return b, "", errors.New(r.alreadyExists(spec, ""))
		default:
			return b, "", err
		}
	}
}

// adopt takes over existing when it is what this create would have made and no other resource
// of this command has it.
func (r *r2BucketResource) adopt(ctx context.Context, spec cloudflare.R2BucketSpec, existing cloudflare.R2Bucket, createErr error) (cloudflare.R2Bucket, string, error) {
	key := "r2/" + r2BucketID(spec.Name, spec.Jurisdiction)
	if !r.data.claim(key) {
		return existing, "", errors.New(r.alreadyExists(spec, " Another servicesdo_r2_bucket of this configuration created or adopted it: give each resource its own name."))
	}
	refuse := func(why string) (cloudflare.R2Bucket, string, error) {
		r.data.claimed.Delete(key)
		return existing, "", errors.New(r.alreadyExists(spec, why))
	}
	if spec.StorageClass != "" && existing.StorageClass != spec.StorageClass {
		return refuse(fmt.Sprintf(" Its storage class is %s, not the %s this configuration asks for, so it was not adopted.", existing.StorageClass, spec.StorageClass))
	}
	keys, err := r.data.client.ListR2ObjectKeys(ctx, spec.Name, spec.Jurisdiction)
	if err != nil {
		r.data.claimed.Delete(key)
		return existing, "", fmt.Errorf("%w; then checking whether the existing bucket %q is empty failed (%v): apply again", createErr, spec.Name, err)
	}
	if len(keys) > 0 {
		return refuse(fmt.Sprintf(" It holds %d object(s), so it was not adopted: only an empty bucket, as an interrupted create leaves it, is adopted.", len(keys)))
	}
	return existing, fmt.Sprintf("The create of R2 bucket %q did not complete normally (%v), and a bucket with that name exists in jurisdiction %q and is empty, "+
		"which is what an interrupted create leaves: this resource now manages it. A bucket that holds objects is never adopted.",
		spec.Name, createErr, existing.Jurisdiction), nil
}

// alreadyExists is the error for a name held by a bucket this resource does not take over.
func (r *r2BucketResource) alreadyExists(spec cloudflare.R2BucketSpec, why string) string {
	return fmt.Sprintf("An R2 bucket named %q already exists in jurisdiction %q of account %s.%s Bucket names are unique per account and jurisdiction: "+
		"choose another name, or adopt the existing bucket with `terraform import <address> %s` or an import block.",
		spec.Name, spec.Jurisdiction, r.data.client.AccountID(), why, r2BucketID(spec.Name, spec.Jurisdiction))
}

func (r *r2BucketResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state r2BucketModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	b, err := r.data.client.GetR2Bucket(ctx, state.Name.ValueString(), state.Jurisdiction.ValueString())
	if cloudflare.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot read R2 bucket", err.Error())
		return
	}
	before := state
	state.fill(b)
	setStateIfChanged(ctx, &resp.State, &before, &state, &resp.Diagnostics)
}

func (r *r2BucketResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state r2BucketModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	b := cloudflare.R2Bucket{
		Name: state.Name.ValueString(), Location: state.Location.ValueString(), StorageClass: state.StorageClass.ValueString(),
		Jurisdiction: state.Jurisdiction.ValueString(), CreationDate: state.CreationDate.ValueString(),
	}
	if plan.StorageClass.ValueString() != state.StorageClass.ValueString() {
		var err error
		b, err = r.data.client.SetR2StorageClass(ctx, b.Name, b.Jurisdiction, plan.StorageClass.ValueString())
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("storage_class"), "Cannot change the storage class of R2 bucket", err.Error())
			return
		}
	}
	plan.fill(b)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *r2BucketResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state r2BucketModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, 60*time.Minute)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	name, jurisdiction := state.Name.ValueString(), state.Jurisdiction.ValueString()
	keys, err := r.data.client.ListR2ObjectKeys(ctx, name, jurisdiction)
	if cloudflare.IsNotFound(err) {
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot delete R2 bucket", err.Error())
		return
	}
	if len(keys) > 0 && !state.ForceDestroy.ValueBool() {
		resp.Diagnostics.AddError("R2 bucket is not empty",
			fmt.Sprintf("R2 bucket %q still holds %d object(s); nothing was deleted. "+
				"To delete it with its objects, set force_destroy = true and apply before destroying; or remove the objects first.",
				name, len(keys)))
		return
	}
	if err := r.deleteObjects(ctx, name, jurisdiction, keys); err != nil {
		resp.Diagnostics.AddError("Cannot empty R2 bucket", err.Error())
		return
	}
	if err := r.data.client.DeleteR2Bucket(ctx, name, jurisdiction); err != nil && !cloudflare.IsNotFound(err) {
		resp.Diagnostics.AddError("Cannot delete R2 bucket", err.Error())
	}
}

// deleteObjects deletes keys with bounded parallelism and reports the first failure.
func (r *r2BucketResource) deleteObjects(ctx context.Context, bucket, jurisdiction string, keys []string) error {
	work := make(chan string)
	errs := make(chan error, len(keys))
	var wg sync.WaitGroup
	for range min(r2DeleteConcurrency, len(keys)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for key := range work {
				if err := r.data.client.DeleteR2Object(ctx, bucket, jurisdiction, key); err != nil && !cloudflare.IsNotFound(err) {
					errs <- err
				}
			}
		}()
	}
	for _, key := range keys {
		work <- key
	}
	close(work)
	wg.Wait()
	close(errs)
	if err, failed := <-errs; failed {
		return fmt.Errorf("%d of %d object deletes failed; the bucket was kept. First failure: %w", len(errs)+1, len(keys), err)
	}
	return nil
}

func (r *r2BucketResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	jurisdiction, name, scoped := strings.Cut(req.ID, "/")
	if !scoped {
		jurisdiction, name = validation.R2DefaultJurisdiction, req.ID
	}
	if err := validation.CheckR2BucketName(name); err != nil || !validation.IsR2Jurisdiction(jurisdiction) {
		resp.Diagnostics.AddError("Invalid import id",
			fmt.Sprintf("Import an R2 bucket by `<name>` (default jurisdiction) or `<jurisdiction>/<name>` with jurisdiction %s; got %q.",
				strings.Join(validation.R2Jurisdictions[1:], " or "), req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), name)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("jurisdiction"), jurisdiction)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("force_destroy"), false)...)
}
