package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workers"
)

var (
	_ datasource.DataSource              = (*sagaExecutionDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*sagaExecutionDataSource)(nil)
)

// NewSagaExecutionDataSource is the servicesdo_saga_execution constructor.
func NewSagaExecutionDataSource() datasource.DataSource { return &sagaExecutionDataSource{} }

// sagaExecutionDataSource reads an execution through the Workflows API (with the provider's
// token): it works on Cloudflare and on the local edge, whatever the saga's access mode, and
// needs neither the saga's URL nor its API key.
type sagaExecutionDataSource struct{ data *providerData }

type sagaExecutionModel struct {
	Saga           types.String `tfsdk:"saga"`
	ExecutionID    types.String `tfsdk:"execution_id"`
	IdempotencyKey types.String `tfsdk:"idempotency_key"`
	ID             types.String `tfsdk:"id"`
	Status         types.String `tfsdk:"status"`
	EngineStatus   types.String `tfsdk:"engine_status"`
	Parked         types.Bool   `tfsdk:"parked"`
	FailedStep     types.String `tfsdk:"failed_step"`
	Input          types.String `tfsdk:"input"`
	Output         types.String `tfsdk:"output"`
	Error          types.String `tfsdk:"error"`
	Steps          types.List   `tfsdk:"steps"`
}

type sagaExecutionStep struct {
	Name     types.String `tfsdk:"name"`
	Kind     types.String `tfsdk:"kind"`
	State    types.String `tfsdk:"state"`
	Attempts types.Int64  `tfsdk:"attempts"`
	Output   types.String `tfsdk:"output"`
}

var sagaExecutionStepType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"name": types.StringType, "kind": types.StringType, "state": types.StringType, "attempts": types.Int64Type, "output": types.StringType,
}}

func (d *sagaExecutionDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_saga_execution"
}

func (d *sagaExecutionDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads one execution of a `servicesdo_saga` — its status and each step's calls — for Terraform-side checks " +
			"and CI smoke tests. It reads the saga's Workflow instance through the Workflows API with the provider's credentials, so it needs " +
			"neither the saga's URL nor its API key. Start executions through the saga's API (`POST /executions`).",
		Attributes: map[string]schema.Attribute{
			"saga": schema.StringAttribute{Required: true, MarkdownDescription: "The saga's name (`servicesdo_saga.<name>.name`)."},
			"execution_id": schema.StringAttribute{
				Optional: true, Computed: true, MarkdownDescription: "The execution's id (`e-…`). Set it or `idempotency_key`.",
				Validators: []validator.String{stringvalidator.ExactlyOneOf(path.MatchRoot("execution_id"), path.MatchRoot("idempotency_key"))},
			},
			"idempotency_key": schema.StringAttribute{Optional: true, MarkdownDescription: "The key the execution was started with; its id is derived from it."},
			"id":              schema.StringAttribute{Computed: true, MarkdownDescription: "The execution's id."},
			"status": schema.StringAttribute{Computed: true, MarkdownDescription: "`running`, `parked` (waiting for an operator), `completed`, `compensated`, " +
				"`resolved`, `terminated` or `failed` (a failure escaped the saga; its steps were compensated)."},
			"engine_status": schema.StringAttribute{Computed: true, MarkdownDescription: "The Workflow instance's own status (`queued`, `running`, `paused`, `complete`, `errored`, `terminated`, …)."},
			"parked":        schema.BoolAttribute{Computed: true, MarkdownDescription: "True while the execution waits for an operator's `retry`, `skip` or `resolve`."},
			"failed_step":   schema.StringAttribute{Computed: true, MarkdownDescription: "The step whose failure compensated the execution, when it did."},
			"input":         schema.StringAttribute{Computed: true, MarkdownDescription: "The execution's input (JSON)."},
			"output":        schema.StringAttribute{Computed: true, MarkdownDescription: "The instance's output (JSON) once it has finished."},
			"error":         schema.StringAttribute{Computed: true, MarkdownDescription: "The instance's error (JSON), when it failed."},
			"steps": schema.ListNestedAttribute{
				Computed: true, MarkdownDescription: "Each call the execution made, in order: actions (`action`), compensations (`compensate`) and operator waits (`decision`).",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":     schema.StringAttribute{Computed: true, MarkdownDescription: "The saga step."},
					"kind":     schema.StringAttribute{Computed: true, MarkdownDescription: "`action`, `compensate` or `decision`."},
					"state":    schema.StringAttribute{Computed: true, MarkdownDescription: "`running`, `completed`, `failed` or (a decision) `waiting`."},
					"attempts": schema.Int64Attribute{Computed: true, MarkdownDescription: "Attempts of the call so far."},
					"output":   schema.StringAttribute{Computed: true, MarkdownDescription: "The call's result as the saga recorded it (JSON)."},
				}},
			},
		},
	}
}

func (d *sagaExecutionDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configureClient(req.ProviderData, &resp.Diagnostics)
}

func (d *sagaExecutionDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m sagaExecutionModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || d.data == nil {
		return
	}
	id := m.ExecutionID.ValueString()
	if key := m.IdempotencyKey.ValueString(); key != "" {
		id = workers.SagaExecutionID(key)
	}
	inst, err := d.data.client.GetWorkflowInstance(ctx, m.Saga.ValueString(), id)
	if err != nil {
		if cloudflare.IsNotFound(err) {
			err = fmt.Errorf("saga %q has no execution %q (or no longer keeps it): %w", m.Saga.ValueString(), id, err)
		}
		resp.Diagnostics.AddError("Cannot read saga execution", err.Error())
		return
	}
	view := sagaExecutionView(inst)
	m.ExecutionID, m.ID = types.StringValue(id), types.StringValue(id)
	m.Status, m.EngineStatus, m.Parked, m.FailedStep = types.StringValue(view.status), types.StringValue(inst.Status), types.BoolValue(view.parked), types.StringValue(view.failedStep)
	var params struct {
		Input json.RawMessage `json:"input"`
	}
	_ = json.Unmarshal(inst.Params, &params)
	m.Input = types.StringValue(string(rawOrNull(params.Input)))
	m.Output, m.Error = types.StringValue(string(rawOrNull(inst.Output))), types.StringValue(string(rawOrNull(inst.Error)))
	steps, diags := types.ListValueFrom(ctx, sagaExecutionStepType, view.steps)
	resp.Diagnostics.Append(diags...)
	m.Steps = steps
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func rawOrNull(raw json.RawMessage) json.RawMessage {
	if len(strings.TrimSpace(string(raw))) == 0 {
		return json.RawMessage("null")
	}
	return raw
}

// executionView is what an instance says about its execution.
type executionView struct {
	status, failedStep string
	parked             bool
	steps              []sagaExecutionStep
}

// sagaExecutionView derives an execution's status from its Workflow instance: the run's
// output once it has finished (completed, compensated or resolved), the engine's status
// otherwise; an unfinished wait for a decision (step decision:<park>:<n>) is a parked execution.
// The saga's step names are action:<step>[#round], compensate:<step>[#round] and
// decision:<park>:<wait> (internal/workers/saga/README.md).
func sagaExecutionView(inst cloudflare.WorkflowInstanceDetail) executionView {
	v := executionView{}
	for _, s := range inst.Steps {
		kind, rest, ok := strings.Cut(s.Name, ":")
		if !ok || (kind != "action" && kind != "compensate" && kind != "decision") {
			continue
		}
		name, _, _ := strings.Cut(rest, "#")
		state := "running"
		switch {
		case kind == "decision" && !s.Finished:
			state, v.parked = "waiting", true
		case kind == "decision":
			state = "completed"
		case s.Success != nil && *s.Success:
			state = "completed"
		case s.Success != nil:
			state = "failed"
		}
		if kind == "decision" {
			name = rest
		}
		out := types.StringNull()
		if s.Output != "" {
			out = types.StringValue(s.Output)
		}
		v.steps = append(v.steps, sagaExecutionStep{Name: types.StringValue(name), Kind: types.StringValue(kind), State: types.StringValue(state), Attempts: types.Int64Value(int64(s.Attempts)), Output: out})
	}
	var result struct {
		Outcome    string `json:"outcome"`
		FailedStep string `json:"failed_step"`
	}
	switch inst.Status {
	case "complete":
		_ = json.Unmarshal(inst.Output, &result)
		v.status, v.failedStep = result.Outcome, result.FailedStep
	case "errored":
		v.status = "failed"
	case "terminated":
		v.status = "terminated"
	default:
		v.status = "running"
		if v.parked {
			v.status = "parked"
		}
	}
	if v.status == "" {
		v.status = "completed"
	}
	return v
}
