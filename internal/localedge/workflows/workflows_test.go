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

func TestWorkflowLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.put("orders", "Flow", "missing"); err == nil || !strings.Contains(err.Error(), "Worker 'missing' not found") {
		t.Fatalf("PUT with an unknown script: %v", err)
	}
	edgetest.WantAPIError(t, must(e.put("orders", "", "flows")), http.StatusBadRequest, 10001)
	edgetest.WantAPIError(t, must(e.put("-bad", "Flow", "flows")), http.StatusBadRequest, 10001)
	e.uploadFlow("flows", "orders")

	created := e.mustPut("orders", "Flow", "flows")
	if created.Name != "orders" || created.ClassName != "Flow" || created.ScriptName != "flows" || created.ID == "" || created.VersionID == "" {
		t.Fatalf("PUT = %+v", created)
	}
	// The same configuration again keeps the version; another class makes a new one.
	if again := e.mustPut("orders", "Flow", "flows"); again.ID != created.ID || again.VersionID != created.VersionID {
		t.Fatalf("repeated PUT changed id or version: %+v", again)
	}
	changed := e.mustPut("orders", "Flow2", "flows")
	if changed.VersionID == created.VersionID || !changed.CreatedOn.Equal(created.CreatedOn) {
		t.Fatalf("PUT with a new class: %+v", changed)
	}
	versions, err := e.workflows.Versions.List(e.ctx, "orders", cfworkflows.VersionListParams{AccountID: account})
	if err != nil || len(versions.Result) != 2 || versions.Result[0].ID != changed.VersionID || versions.Result[0].ClassName != "Flow2" {
		t.Fatalf("versions = %+v, %v", versions, err)
	}
	v, err := e.workflows.Versions.Get(e.ctx, "orders", created.VersionID, cfworkflows.VersionGetParams{AccountID: account})
	if err != nil || v.ClassName != "Flow" || v.WorkflowID != created.ID {
		t.Fatalf("version = %+v, %v", v, err)
	}

	e.mustPut("billing", "Flow", "flows")
	got, err := e.workflows.Get(e.ctx, "orders", cfworkflows.WorkflowGetParams{AccountID: account})
	if err != nil || got.ClassName != "Flow2" || got.ScriptName != "flows" || got.Instances.Running != 0 {
		t.Fatalf("GET = %+v, %v", got, err)
	}
	list, err := e.workflows.List(e.ctx, cfworkflows.WorkflowListParams{AccountID: account, Search: cloudflare.F("bill")})
	if err != nil || len(list.Result) != 1 || list.Result[0].Name != "billing" {
		t.Fatalf("search = %+v, %v", list, err)
	}
	all, err := e.workflows.List(e.ctx, cfworkflows.WorkflowListParams{AccountID: account, PerPage: cloudflare.F(1.0)})
	if err != nil || len(all.Result) != 1 || all.ResultInfo.Page != 1 {
		t.Fatalf("first page = %+v, %v", all, err)
	}

	// Without the Workers runtime there is nothing to run instances.
	_, err = e.workflows.Instances.New(e.ctx, "orders", cfworkflows.InstanceNewParams{AccountID: account})
	edgetest.WantAPIError(t, err, http.StatusServiceUnavailable, 10503)

	if res, err := e.workflows.Delete(e.ctx, "orders", cfworkflows.WorkflowDeleteParams{AccountID: account}); err != nil || !res.Success {
		t.Fatalf("DELETE = %+v, %v", res, err)
	}
	_, err = e.workflows.Get(e.ctx, "orders", cfworkflows.WorkflowGetParams{AccountID: account})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10501)
	_, err = e.workflows.Delete(e.ctx, "orders", cfworkflows.WorkflowDeleteParams{AccountID: account})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10501)
}

func must[T any](_ T, err error) error { return err }

// A workflow binding names a Workflow that exists (class and script must then match it) or
// the class that implements it.
func TestWorkflowBindingTargets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.uploadFlow("flows", "orders") // names its class: accepted before the Workflow exists
	e.mustPut("orders", "Flow", "flows")
	upload := func(b cfworkers.ScriptUpdateParamsMetadataBindingsWorkersBindingKindWorkflow) error {
		b.Name, b.Type = cloudflare.F("FLOW"), cloudflare.F(cfworkers.ScriptUpdateParamsMetadataBindingsWorkersBindingKindWorkflowTypeWorkflow)
		_, err := e.workers.Scripts.Update(e.ctx, "caller", cfworkers.ScriptUpdateParams{
			AccountID: account,
			Metadata:  cloudflare.F(cfworkers.ScriptUpdateParamsMetadata{MainModule: cloudflare.F("index.js"), Bindings: cloudflare.F([]cfworkers.ScriptUpdateParamsMetadataBindingUnion{b})}),
			Files:     cloudflare.F(filesOf("export default { fetch() { return new Response('x') } }")),
		})
		return err
	}
	if err := upload(cfworkers.ScriptUpdateParamsMetadataBindingsWorkersBindingKindWorkflow{WorkflowName: cloudflare.F("orders")}); err != nil {
		t.Fatalf("binding an existing Workflow: %v", err)
	}
	err := upload(cfworkers.ScriptUpdateParamsMetadataBindingsWorkersBindingKindWorkflow{WorkflowName: cloudflare.F("nope")})
	if ae := edgetest.WantAPIError(t, err, http.StatusBadRequest, 10056); !strings.Contains(ae.Error(), "Workflow 'nope' not found (binding 'FLOW')") {
		t.Fatalf("error = %v", ae.Error())
	}
	err = upload(cfworkers.ScriptUpdateParamsMetadataBindingsWorkersBindingKindWorkflow{WorkflowName: cloudflare.F("orders"), ClassName: cloudflare.F("Other"), ScriptName: cloudflare.F("flows")})
	if ae := edgetest.WantAPIError(t, err, http.StatusBadRequest, 10021); !strings.Contains(ae.Error(), "Binding 'FLOW' names class_name 'Other', but Workflow 'orders' runs class_name 'Flow'") {
		t.Fatalf("error = %v", ae.Error())
	}
}
