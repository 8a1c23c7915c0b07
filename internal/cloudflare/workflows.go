package cloudflare

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	cf "github.com/cloudflare/cloudflare-go/v7"
	"github.com/cloudflare/cloudflare-go/v7/workflows"
)

// WorkflowsAPI is the Workflows API the provider uses: a Workflow (its class and script), and
// reads of its instances.
type WorkflowsAPI interface {
	PutWorkflow(ctx context.Context, name, className, scriptName string) (Workflow, error)
	GetWorkflow(ctx context.Context, name string) (Workflow, error)
	DeleteWorkflow(ctx context.Context, name string) error
	ListWorkflowInstances(ctx context.Context, workflow, status string) ([]WorkflowInstance, error)
	GetWorkflowInstance(ctx context.Context, workflow, id string) (WorkflowInstanceDetail, error)
}

// Workflow is a Cloudflare Workflow: the WorkflowEntrypoint class of a Worker script that runs
// its instances.
type Workflow struct {
	ID         string
	Name       string
	ClassName  string
	ScriptName string
	VersionID  string
	// Instances counts the Workflow's instances by status (GetWorkflow only).
	Instances map[string]int
}

// WorkflowInstance is one instance of a listing.
type WorkflowInstance struct {
	ID        string
	Status    string
	CreatedOn time.Time
}

// WorkflowInstanceDetail is one instance with its params, output and steps.
type WorkflowInstanceDetail struct {
	Status string
	// Params, Output and Error are the instance's JSON (null when none).
	Params json.RawMessage
	Output json.RawMessage
	Error  json.RawMessage
	Queued time.Time
	Start  time.Time
	End    time.Time
	Steps  []WorkflowStep
}

// WorkflowStep is one step of an instance: a step.do ("step"), a sleep, or a waitForEvent.
type WorkflowStep struct {
	Name string
	Type string
	// Success is nil while the step runs (and for sleeps and waits); Finished is set for
	// sleeps and waits.
	Success  *bool
	Finished bool
	Attempts int
	// Output is the step's output as JSON text, "" when none.
	Output string
	Start  time.Time
	End    time.Time
}

// PutWorkflow creates or updates a Workflow.
func (c *Client) PutWorkflow(ctx context.Context, name, className, scriptName string) (Workflow, error) {
	w, err := c.workflows.Update(ctx, escape(name), workflows.WorkflowUpdateParams{
		AccountID: cf.F(c.accountID), ClassName: cf.F(className), ScriptName: cf.F(scriptName),
	})
	if err != nil {
		return Workflow{}, wrap(fmt.Sprintf("putting Workflow %q", name), err)
	}
	return Workflow{ID: w.ID, Name: w.Name, ClassName: w.ClassName, ScriptName: w.ScriptName, VersionID: w.VersionID}, nil
}

// GetWorkflow reads a Workflow and its instance counts.
func (c *Client) GetWorkflow(ctx context.Context, name string) (Workflow, error) {
	w, err := c.workflows.Get(ctx, escape(name), workflows.WorkflowGetParams{AccountID: cf.F(c.accountID)})
	if err != nil {
		return Workflow{}, wrap(fmt.Sprintf("reading Workflow %q", name), err)
	}
	counts := map[string]int{}
	if raw := w.JSON.Instances.Raw(); raw != "" {
		_ = json.Unmarshal([]byte(raw), &counts)
	}
	return Workflow{ID: w.ID, Name: w.Name, ClassName: w.ClassName, ScriptName: w.ScriptName, Instances: counts}, nil
}

// DeleteWorkflow deletes a Workflow and its instances.
func (c *Client) DeleteWorkflow(ctx context.Context, name string) error {
	_, err := c.workflows.Delete(ctx, escape(name), workflows.WorkflowDeleteParams{AccountID: cf.F(c.accountID)})
	return wrap(fmt.Sprintf("deleting Workflow %q", name), err)
}

// ListWorkflowInstances lists a Workflow's instances, only those with the status when it is
// not "".
func (c *Client) ListWorkflowInstances(ctx context.Context, workflow, status string) ([]WorkflowInstance, error) {
	params := workflows.InstanceListParams{AccountID: cf.F(c.accountID), PerPage: cf.F(100.0)}
	if status != "" {
		params.Status = cf.F(workflows.InstanceListParamsStatus(status))
	}
	var out []WorkflowInstance
	pager := c.workflows.Instances.ListAutoPaging(ctx, escape(workflow), params)
	for pager.Next() {
		i := pager.Current()
		out = append(out, WorkflowInstance{ID: i.ID, Status: string(i.Status), CreatedOn: i.CreatedOn})
	}
	if err := pager.Err(); err != nil {
		return nil, wrap(fmt.Sprintf("listing the instances of Workflow %q", workflow), err)
	}
	return out, nil
}

// GetWorkflowInstance reads an instance with its steps.
func (c *Client) GetWorkflowInstance(ctx context.Context, workflow, id string) (WorkflowInstanceDetail, error) {
	i, err := c.workflows.Instances.Get(ctx, escape(workflow), escape(id), workflows.InstanceGetParams{AccountID: cf.F(c.accountID)})
	if err != nil {
		return WorkflowInstanceDetail{}, wrap(fmt.Sprintf("reading instance %q of Workflow %q", id, workflow), err)
	}
	// The SDK types params, output and error narrowly; the raw JSON is what the API sent.
	raw := func(s string) json.RawMessage {
		if strings.TrimSpace(s) == "" {
			return json.RawMessage("null")
		}
		return json.RawMessage(s)
	}
	out := WorkflowInstanceDetail{
		Status: string(i.Status), Params: raw(i.JSON.Params.Raw()), Output: raw(i.JSON.Output.Raw()), Error: raw(i.JSON.Error.Raw()),
		Queued: i.Queued, Start: i.Start, End: i.End,
	}
	for _, s := range i.Steps {
		step := WorkflowStep{Name: s.Name, Type: string(s.Type), Output: s.Output, Start: s.Start, End: s.End, Finished: s.Finished}
		if r := s.JSON.Success.Raw(); r == "true" || r == "false" {
			step.Success = new(r == "true")
		}
		var attempts []json.RawMessage
		if json.Unmarshal([]byte(s.JSON.Attempts.Raw()), &attempts) == nil {
			step.Attempts = len(attempts)
		}
		out.Steps = append(out.Steps, step)
	}
	return out, nil
}
