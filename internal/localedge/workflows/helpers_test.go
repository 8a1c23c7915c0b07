package workflows_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	cloudflare "github.com/cloudflare/cloudflare-go/v7"
	cfworkers "github.com/cloudflare/cloudflare-go/v7/workers"
	cfworkflows "github.com/cloudflare/cloudflare-go/v7/workflows"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

// flowJS implements the test Workflow: a step on the params, a wait for an "approve" event,
// a step on the event's payload.
const flowJS = `
import { WorkflowEntrypoint } from "cloudflare:workers";
export class Flow extends WorkflowEntrypoint {
  async run(event, step) {
    const first = await step.do("first", async () => ({ n: (event.payload.n ?? 0) + 1 }));
    const approval = await step.waitForEvent("approval", { type: "approve", timeout: "1 hour" });
    const second = await step.do("second", async () => first.n + (approval.payload.add ?? 0));
    return { sum: second };
  }
}
export default {
  async fetch(request, env) {
    const instance = await env.FLOW.create({ id: new URL(request.url).searchParams.get("id"), params: { n: 10 } });
    return Response.json({ id: instance.id });
  },
};`

// env is one test's local edge with cloudflare-go's Workflows and Workers services.
type env struct {
	*edgetest.Env
	ctx       context.Context
	workflows *cfworkflows.WorkflowService
	workers   *cfworkers.WorkerService
}

func newEnv(t *testing.T, opts ...edgetest.Option) *env {
	t.Helper()
	e := edgetest.Start(t, opts...)
	sdk := e.SDK(edgetest.Token)
	return &env{Env: e, ctx: context.Background(), workflows: cfworkflows.NewWorkflowService(sdk...), workers: cfworkers.NewWorkerService(sdk...)}
}

var account = cloudflare.F(edgetest.AccountID)

// uploadFlow uploads the Worker that implements Flow, with a workflow binding FLOW to the
// Workflow named workflow.
func (e *env) uploadFlow(script, workflow string) {
	e.T.Helper()
	md := cfworkers.ScriptUpdateParamsMetadata{
		MainModule:        cloudflare.F("index.js"),
		CompatibilityDate: cloudflare.F("2025-01-01"),
		Bindings: cloudflare.F([]cfworkers.ScriptUpdateParamsMetadataBindingUnion{cfworkers.ScriptUpdateParamsMetadataBindingsWorkersBindingKindWorkflow{
			Name: cloudflare.F("FLOW"), Type: cloudflare.F(cfworkers.ScriptUpdateParamsMetadataBindingsWorkersBindingKindWorkflowTypeWorkflow),
			WorkflowName: cloudflare.F(workflow), ClassName: cloudflare.F("Flow"),
		}}),
	}
	_, err := e.workers.Scripts.Update(e.ctx, script, cfworkers.ScriptUpdateParams{
		AccountID: account, Metadata: cloudflare.F(md),
		Files: cloudflare.F([]io.Reader{cloudflare.FileParam(strings.NewReader(flowJS), "index.js", "application/javascript+module").Value}),
	})
	if err != nil {
		e.T.Fatalf("upload %s: %v", script, err)
	}
}

func (e *env) put(name, class, script string) (*cfworkflows.WorkflowUpdateResponse, error) {
	return e.workflows.Update(e.ctx, name, cfworkflows.WorkflowUpdateParams{AccountID: account, ClassName: cloudflare.F(class), ScriptName: cloudflare.F(script)})
}

func (e *env) mustPut(name, class, script string) *cfworkflows.WorkflowUpdateResponse {
	e.T.Helper()
	res, err := e.put(name, class, script)
	if err != nil {
		e.T.Fatalf("PUT workflow %s: %v", name, err)
	}
	return res
}

func (e *env) instance(workflow, id string) *cfworkflows.InstanceGetResponse {
	e.T.Helper()
	res, err := e.workflows.Instances.Get(e.ctx, workflow, id, cfworkflows.InstanceGetParams{AccountID: account})
	if err != nil {
		e.T.Fatalf("GET instance %s: %v", id, err)
	}
	return res
}

// waitStatus polls an instance until it has the status.
func (e *env) waitStatus(workflow, id string, want cfworkflows.InstanceGetResponseStatus) *cfworkflows.InstanceGetResponse {
	e.T.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		res := e.instance(workflow, id)
		if res.Status == want {
			return res
		}
		if time.Now().After(deadline) {
			e.T.Fatalf("instance %s is %s, want %s", id, res.Status, want)
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
}

// waitStep polls until the instance has a step with the name and type.
func (e *env) waitStep(workflow, id, name string, typ cfworkflows.InstanceGetResponseStepsType) {
	e.T.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		for _, s := range e.instance(workflow, id).Steps {
			if s.Name == name && s.Type == typ {
				return
			}
		}
		if time.Now().After(deadline) {
			e.T.Fatalf("instance %s never reached step %s (%s)", id, name, typ)
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
}

func filesOf(code string) []io.Reader {
	return []io.Reader{cloudflare.FileParam(strings.NewReader(code), "index.js", "application/javascript+module").Value}
}
