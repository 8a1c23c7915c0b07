package runtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/deploy"
)

// flowJS is a Workflow whose one step calls the test's participant server (env.PARTICIPANT) and
// whose Worker answers the attempts of that step.
const flowJS = `
import { WorkflowEntrypoint } from "cloudflare:workers";
export class Flow extends WorkflowEntrypoint {
  async run(event, step) {
    if (event.payload && event.payload.sleep) await step.sleep("nap", event.payload.sleep);
    const answer = await step.do("call", { retries: { limit: 3, delay: 10, backoff: "constant" }, timeout: "1 minute" }, async () => {
      const res = await fetch(this.env.PARTICIPANT + "/call?instance=" + event.instanceId);
      if (!res.ok) throw new Error("participant answered " + res.status);
      return res.text();
    });
    return { answer, version: this.env.VERSION };
  }
}
export default {
  async fetch(request, env) {
    const instance = await env.FLOW.create({ params: { from: "binding" } });
    return Response.json({ id: instance.id });
  },
};`

// participant counts the calls in flight and the most that ever were at once; a call waits
// until released or until its caller goes away.
type participant struct {
	mu       sync.Mutex
	inflight int
	peak     int
	calls    int
	canceled int
	release  chan struct{}
}

func (p *participant) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.inflight++
	p.calls++
	p.peak = max(p.peak, p.inflight)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.inflight--
		p.mu.Unlock()
	}()
	select {
	case <-p.release:
		_, _ = w.Write([]byte("done"))
	case <-r.Context().Done():
		p.mu.Lock()
		p.canceled++
		p.mu.Unlock()
	}
}

func (p *participant) snapshot() (inflight, peak, calls, canceled int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inflight, p.peak, p.calls, p.canceled
}

func flowSnapshot(version int, participantURL string) deploy.Snapshot {
	v := esVersion(versionID(version), flowJS,
		api.Binding{"type": "workflow", "name": "FLOW", "workflow_name": "flow", "class_name": "Flow"},
		api.Binding{"type": "plain_text", "name": "PARTICIPANT", "text": participantURL},
		api.Binding{"type": "plain_text", "name": "VERSION", "text": fmt.Sprint(version)},
	)
	return deploy.Snapshot{
		Scripts:   []deploy.Script{single("flows", v)},
		Workflows: []deploy.Workflow{{Name: "flow", ClassName: "Flow", ScriptName: "flows"}},
	}
}

// workflowsCall calls the runtime's Workflows API and decodes the envelope's result.
func (e *env) workflowsCall(method, path string, body any, into any) int {
	e.t.Helper()
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	status, out, err := e.rt.Workflows(context.Background(), method, path, raw)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	if into != nil {
		var env struct{ Result json.RawMessage }
		if err := json.Unmarshal(out, &env); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, out)
		}
		if err := json.Unmarshal(env.Result, into); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, out)
		}
	}
	return status
}

func (e *env) instanceStatus(id string) string {
	var inst struct{ Status string }
	if status := e.workflowsCall(http.MethodGet, "/workflows/flow/instances/"+id, nil, &inst); status != http.StatusOK {
		return fmt.Sprintf("HTTP %d", status)
	}
	return inst.Status
}

// A redeploy while a Workflow step is in flight hands the engine over: the old instance is
// disposed of (its call is cut off) before the new one runs anything, so the step never runs
// twice at once; the instance then resumes by itself and finishes on the new instance, with its
// state kept.
func TestWorkflowHandover(t *testing.T) {
	e := newEnv(t)
	p := &participant{release: make(chan struct{})}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)

	e.apply(flowSnapshot(1, srv.URL))
	created := e.getOK("flows", "/")
	var byBinding struct{ ID string }
	if err := json.Unmarshal([]byte(created), &byBinding); err != nil || byBinding.ID == "" {
		t.Fatalf("create through the binding answered %s", created)
	}
	eventually(t, 15*time.Second, "the step's first call", func() bool { inflight, _, _, _ := p.snapshot(); return inflight == 1 })

	e.apply(flowSnapshot(2, srv.URL))
	if inflight, _, _, canceled := p.snapshot(); inflight != 0 || canceled != 1 {
		t.Fatalf("after the handover: %d calls in flight, %d cut off; want the old instance's call cut off", inflight, canceled)
	}
	// The new instance resumes the running Workflow instance by itself.
	eventually(t, 15*time.Second, "the step's retry on the new instance", func() bool { _, _, calls, _ := p.snapshot(); return calls == 2 })
	close(p.release)
	eventually(t, 15*time.Second, "the instance to complete", func() bool { return e.instanceStatus(byBinding.ID) == "complete" })
	var inst struct {
		Output struct{ Answer, Version string }
		Params map[string]string
	}
	e.workflowsCall(http.MethodGet, "/workflows/flow/instances/"+byBinding.ID, nil, &inst)
	if inst.Output.Answer != "done" || inst.Output.Version != "2" || inst.Params["from"] != "binding" {
		t.Fatalf("instance = %+v, want it finished by version 2 with its params", inst)
	}
	if _, peak, _, _ := p.snapshot(); peak != 1 {
		t.Fatalf("%d calls of the step were in flight at once, want 1", peak)
	}
	// The explorer that serves the Workflows API is not reachable through the runtime's address.
	if r := e.get("flows", "/cdn-cgi/explorer/api/workflows"); r.status != http.StatusNotFound {
		t.Fatalf("GET /cdn-cgi/explorer/api/workflows through the edge: %d %s", r.status, r.body)
	}
}

// A Workflow instance whose step was in flight when the runtime stopped resumes when a new
// runtime starts on the same persisted state, without anything calling it (Miniflare's local
// engine sets no alarms, so the runtime wakes the unfinished instances itself); a paused
// instance stays paused.
func TestWorkflowResumesAfterRestart(t *testing.T) {
	e := newEnv(t)
	p := &participant{release: make(chan struct{})}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { // before srv.Close, which waits for the calls it holds
		select {
		case <-p.release:
		default:
			close(p.release)
		}
	})

	e.apply(flowSnapshot(1, srv.URL))
	var running, paused struct{ ID string }
	if err := json.Unmarshal([]byte(e.getOK("flows", "/")), &running); err != nil || running.ID == "" {
		t.Fatalf("create through the binding: %v", err)
	}
	eventually(t, 15*time.Second, "the step's first call", func() bool { inflight, _, _, _ := p.snapshot(); return inflight == 1 })
	if status := e.workflowsCall(http.MethodPost, "/workflows/flow/instances", map[string]any{"id": "paused-one"}, &paused); status != http.StatusOK {
		t.Fatalf("create: HTTP %d", status)
	}
	eventually(t, 15*time.Second, "the second instance's call", func() bool { inflight, _, _, _ := p.snapshot(); return inflight == 2 })
	if status := e.workflowsCall(http.MethodPatch, "/workflows/flow/instances/paused-one/status", map[string]any{"action": "pause"}, nil); status != http.StatusOK {
		t.Fatalf("pause: HTTP %d", status)
	}

	if err := e.rt.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if inflight, _, _, _ := p.snapshot(); inflight != 0 {
		t.Fatalf("%d calls still in flight after the runtime stopped", inflight)
	}
	e.start()
	e.apply(flowSnapshot(1, srv.URL))
	eventually(t, 30*time.Second, "the running instance's step to be retried after the restart", func() bool { _, _, calls, _ := p.snapshot(); return calls == 3 })
	close(p.release)
	eventually(t, 30*time.Second, "the instance to complete", func() bool { return e.instanceStatus(running.ID) == "complete" })
	if got := e.instanceStatus("paused-one"); got != "paused" {
		t.Fatalf("the paused instance is %s after the restart, want paused", got)
	}
	if _, _, calls, _ := p.snapshot(); calls != 3 {
		t.Fatalf("%d calls, want 3: the paused instance must not run", calls)
	}
}

// An instance sleeping when the runtime stopped wakes up after the restart and finishes.
func TestWorkflowSleepingResumesAfterRestart(t *testing.T) {
	e := newEnv(t)
	p := &participant{release: make(chan struct{})}
	close(p.release) // calls answer at once
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)

	e.apply(flowSnapshot(1, srv.URL))
	if status := e.workflowsCall(http.MethodPost, "/workflows/flow/instances", map[string]any{"id": "sleeper", "params": map[string]any{"sleep": "3 seconds"}}, nil); status != http.StatusOK {
		t.Fatalf("create: HTTP %d", status)
	}
	eventually(t, 15*time.Second, "the instance to run", func() bool { return e.instanceStatus("sleeper") == "running" })
	if err := e.rt.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, _, calls, _ := p.snapshot(); calls != 0 {
		t.Fatalf("%d calls before the restart, want the instance still asleep", calls)
	}
	e.start()
	e.apply(flowSnapshot(1, srv.URL))
	eventually(t, 30*time.Second, "the instance to wake and complete", func() bool { return e.instanceStatus("sleeper") == "complete" })
	if _, _, calls, _ := p.snapshot(); calls != 1 {
		t.Fatalf("%d calls, want 1", calls)
	}
}
