package workflows_test

import (
	"net/http"
	"strings"
	"testing"

	cloudflare "github.com/cloudflare/cloudflare-go/v7"
	cfworkers "github.com/cloudflare/cloudflare-go/v7/workers"
	cfworkflows "github.com/cloudflare/cloudflare-go/v7/workflows"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

// The instances API drives the Workflow running in the Workers runtime: create (with an id and
// JSON-encoded params), reject a duplicate id, list (also instances a Worker created through its
// binding), get with steps, pause and resume, send the event it waits for, terminate, restart,
// batch create; deleting the Workflow deletes its instances.
func TestInstances(t *testing.T) {
	t.Parallel()
	e := newEnv(t, edgetest.WithWorkers())
	e.uploadFlow("flows", "orders")
	wf := e.mustPut("orders", "Flow", "flows")
	inst := e.workflows.Instances

	created, err := inst.New(e.ctx, "orders", cfworkflows.InstanceNewParams{AccountID: account, InstanceID: cloudflare.F("order-1"), Params: cloudflare.F(`{"n":1}`)})
	if err != nil || created.ID != "order-1" || created.WorkflowID != wf.ID || created.VersionID != wf.VersionID || created.Status != "queued" {
		t.Fatalf("create = %+v, %v", created, err)
	}
	_, err = inst.New(e.ctx, "orders", cfworkflows.InstanceNewParams{AccountID: account, InstanceID: cloudflare.F("order-1")})
	edgetest.WantAPIError(t, err, http.StatusConflict, 10502)
	_, err = inst.New(e.ctx, "orders", cfworkflows.InstanceNewParams{AccountID: account, InstanceID: cloudflare.F("bad id")})
	edgetest.WantAPIError(t, err, http.StatusBadRequest, 10001)
	_, err = inst.New(e.ctx, "nope", cfworkflows.InstanceNewParams{AccountID: account})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10501)

	e.waitStep("orders", "order-1", "approval", cfworkflows.InstanceGetResponseStepsTypeWaitForEvent)
	got := e.instance("orders", "order-1")
	if got.Status != "running" || got.Params.(map[string]any)["n"] != 1.0 || got.VersionID != wf.VersionID || got.Steps[0].Name != "first" || got.Steps[0].Output != `{"n":2}` {
		t.Fatalf("running instance = %+v", got)
	}

	// Pause while it waits, resume, then the event completes it.
	if res, err := inst.Status.Edit(e.ctx, "orders", "order-1", cfworkflows.InstanceStatusEditParams{AccountID: account, Body: rawStatus("pause")}); err != nil || res.Timestamp.IsZero() {
		t.Fatalf("pause = %+v, %v", res, err)
	}
	e.waitStatus("orders", "order-1", "paused")
	statusBody := func(s string) cfworkflows.InstanceStatusEditParams {
		return cfworkflows.InstanceStatusEditParams{AccountID: account, Body: rawStatus(s)}
	}
	if _, err := inst.Status.Edit(e.ctx, "orders", "order-1", statusBody("resume")); err != nil {
		t.Fatalf("resume: %v", err)
	}
	e.waitStep("orders", "order-1", "approval", cfworkflows.InstanceGetResponseStepsTypeWaitForEvent)
	if _, err := inst.Events.New(e.ctx, "orders", "order-1", "approve", cfworkflows.InstanceEventNewParams{AccountID: account, Body: map[string]any{"add": 5}}); err != nil {
		t.Fatalf("send event: %v", err)
	}
	done := e.waitStatus("orders", "order-1", "complete")
	// The SDK types output as a string or number; the object is in the raw JSON.
	if out := done.JSON.Output.Raw(); out != `{"sum":7}` || !done.Success || done.End.IsZero() || done.StepCount != 3 {
		t.Fatalf("completed instance: output %s, success %v, end %v, %d steps", out, done.Success, done.End, done.StepCount)
	}
	_, err = inst.Status.Edit(e.ctx, "orders", "order-1", statusBody("bounce"))
	edgetest.WantAPIError(t, err, http.StatusBadRequest, 10001)

	// Restart runs it again from the start.
	if _, err := inst.Status.Edit(e.ctx, "orders", "order-1", statusBody("restart")); err != nil {
		t.Fatalf("restart: %v", err)
	}
	e.waitStatus("orders", "order-1", "running")

	// A Worker's create through its binding is an instance like any other.
	if _, err := e.workers.Scripts.Subdomain.New(e.ctx, "flows", cfworkers.ScriptSubdomainNewParams{AccountID: account, Enabled: cloudflare.F(true)}); err != nil {
		t.Fatal(err)
	}
	if status, body := e.Get("flows.localhost", "/?id=by-binding"); status != http.StatusOK || !strings.Contains(body, "by-binding") {
		t.Fatalf("create through the binding: %d %s", status, body)
	}
	e.waitStep("orders", "by-binding", "approval", cfworkflows.InstanceGetResponseStepsTypeWaitForEvent)
	if _, err := inst.Status.Edit(e.ctx, "orders", "by-binding", cfworkflows.InstanceStatusEditParams{AccountID: account, Body: rawStatusRollback("terminate", true)}); err != nil {
		t.Fatalf("terminate: %v", err)
	}
	e.waitStatus("orders", "by-binding", "terminated")

	batch, err := inst.Bulk(e.ctx, "orders", cfworkflows.InstanceBulkParams{AccountID: account, Body: []cfworkflows.InstanceBulkParamsBody{
		{InstanceID: cloudflare.F("b-1")}, {InstanceID: cloudflare.F("b-2"), Params: cloudflare.F(`{"n":5}`)},
	}})
	if err != nil || len(batch.Result) != 2 || batch.Result[1].ID != "b-2" {
		t.Fatalf("batch = %+v, %v", batch, err)
	}

	list, err := inst.List(e.ctx, "orders", cfworkflows.InstanceListParams{AccountID: account})
	ids := map[string]string{}
	for _, i := range list.Result {
		ids[i.ID] = string(i.Status)
	}
	if err != nil || len(ids) != 4 || ids["by-binding"] != "terminated" || ids["order-1"] == "" {
		t.Fatalf("list = %v, %v", ids, err)
	}
	terminated, err := inst.List(e.ctx, "orders", cfworkflows.InstanceListParams{AccountID: account, Status: cloudflare.F(cfworkflows.InstanceListParamsStatus("terminated"))})
	if err != nil || len(terminated.Result) != 1 || terminated.Result[0].ID != "by-binding" {
		t.Fatalf("terminated = %+v, %v", terminated, err)
	}
	_, err = inst.Get(e.ctx, "orders", "nobody", cfworkflows.InstanceGetParams{AccountID: account})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10501)

	// Deleting the Workflow deletes its instances: a new Workflow of that name has none.
	if _, err := e.workflows.Delete(e.ctx, "orders", cfworkflows.WorkflowDeleteParams{AccountID: account}); err != nil {
		t.Fatal(err)
	}
	e.mustPut("orders", "Flow", "flows")
	after, err := inst.List(e.ctx, "orders", cfworkflows.InstanceListParams{AccountID: account})
	if err != nil || len(after.Result) != 0 {
		t.Fatalf("instances after re-creating the Workflow: %+v, %v", after.Result, err)
	}
}

// rawStatus is a status change; the SDK's string type takes every action.
func rawStatus(action string) cfworkflows.InstanceStatusEditParamsBodyUnion {
	return cfworkflows.InstanceStatusEditParamsBodyStatus{Status: cloudflare.F(cfworkflows.InstanceStatusEditParamsBodyStatusStatus(action))}
}

func rawStatusRollback(action string, rollback bool) cfworkflows.InstanceStatusEditParamsBodyUnion {
	return cfworkflows.InstanceStatusEditParamsBodyObject{Status: cloudflare.F(cfworkflows.InstanceStatusEditParamsBodyObjectStatus(action)), Rollback: cloudflare.F(rollback)}
}
