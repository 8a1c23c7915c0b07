package cloudflare

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

const wfJS = `
import { WorkflowEntrypoint } from "cloudflare:workers";
export class Flow extends WorkflowEntrypoint {
  async run(event, step) {
    const doubled = await step.do("double", async () => event.payload.n * 2);
    return { doubled };
  }
}
export default { fetch() { return new Response("flows") } };`

// The Workflows client against the local edge with its runtime: put, get (with instance
// counts), list and read instances, delete; a missing Workflow is not found.
func TestWorkflowsClient(t *testing.T) {
	t.Parallel()
	edge := edgetest.Start(t, edgetest.WithWorkers())
	c, err := New(Config{AccountID: edgetest.AccountID, APIToken: edgetest.Token, BaseURL: edge.BaseURL, MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.UploadScript(ctx, ScriptUpload{
		Name: "flows", MainModule: "index.js", CompatibilityDate: "2025-01-01",
		Modules:  []Module{{Name: "index.js", Content: []byte(wfJS)}},
		Bindings: []Binding{{Type: BindingWorkflow, Name: "FLOW", WorkflowName: "doubler", ClassName: "Flow"}},
	}); err != nil {
		t.Fatal(err)
	}
	wf, err := c.PutWorkflow(ctx, "doubler", "Flow", "flows")
	if err != nil || wf.ID == "" || wf.VersionID == "" || wf.ScriptName != "flows" {
		t.Fatalf("PutWorkflow = %+v, %v", wf, err)
	}
	status, _, body := edge.Raw(http.MethodPost, "/accounts/"+edgetest.AccountID+"/workflows/doubler/instances", nil, strings.NewReader(`{"instance_id":"i-1","params":{"n":21}}`))
	if status != http.StatusOK {
		t.Fatalf("create instance: %d %s", status, body)
	}
	var detail WorkflowInstanceDetail
	deadline := time.Now().Add(20 * time.Second)
	for detail.Status != "complete" {
		if time.Now().After(deadline) {
			t.Fatalf("instance is %q", detail.Status)
		}
		if detail, err = c.GetWorkflowInstance(ctx, "doubler", "i-1"); err != nil {
			t.Fatal(err)
		}
	}
	if string(detail.Output) != `{"doubled":42}` || string(detail.Params) != `{"n":21}` || len(detail.Steps) != 1 ||
		detail.Steps[0].Name != "double" || detail.Steps[0].Output != "42" || detail.Steps[0].Success == nil || !*detail.Steps[0].Success || detail.Steps[0].Attempts != 1 {
		t.Fatalf("instance = %+v", detail)
	}
	list, err := c.ListWorkflowInstances(ctx, "doubler", "complete")
	if err != nil || len(list) != 1 || list[0].ID != "i-1" {
		t.Fatalf("ListWorkflowInstances = %+v, %v", list, err)
	}
	if running, err := c.ListWorkflowInstances(ctx, "doubler", "running"); err != nil || len(running) != 0 {
		t.Fatalf("running = %+v, %v", running, err)
	}
	got, err := c.GetWorkflow(ctx, "doubler")
	if err != nil || got.Instances["complete"] != 1 || got.ClassName != "Flow" {
		t.Fatalf("GetWorkflow = %+v, %v", got, err)
	}
	if err := c.DeleteWorkflow(ctx, "doubler"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetWorkflow(ctx, "doubler"); !IsNotFound(err) {
		t.Fatalf("GetWorkflow after delete: %v", err)
	}
	if _, err := c.GetWorkflowInstance(ctx, "doubler", "i-1"); !IsNotFound(err) {
		t.Fatalf("GetWorkflowInstance after delete: %v", err)
	}
}
