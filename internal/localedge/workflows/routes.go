// Package workflows emulates the Workflows API: Workflows (PUT creates or updates one, with its
// class and script, and records a version), their versions, and their instances (create,
// batch create, list, get, pause / resume / terminate / restart, send event). Workflows
// themselves are stored here; instances live in the Workers runtime, whose engines (Miniflare's)
// run them and keep them persisted: instance endpoints are served through the Engine the edge
// attaches, and fail with a clear error without one.
package workflows

import (
	"context"
	"sync"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

// Engine serves a request of the Workflows instances API from the Workers runtime: method, the
// path under /accounts/{account_id} ("/workflows/w/instances/i") and a JSON body (nil for
// none). It answers the runtime's status and body, Miniflare's local explorer API, which has
// Cloudflare's envelope but not all of Cloudflare's fields: this package reshapes it.
type Engine func(ctx context.Context, method, path string, body []byte) (status int, answer []byte, err error)

// Config configures the workflows product.
type Config struct {
	Store *api.Store
	// Now is the clock of timestamps.
	Now func() time.Time
	// ScriptExists reports whether a Worker script exists (a Workflow's script_name must).
	ScriptExists func(name string) bool
}

// Workflows is the Workflows product of the local edge.
type Workflows struct {
	cfg Config

	engineMu  sync.Mutex
	engine    Engine
	engineGen int
}

// New returns the workflows product.
func New(cfg Config) *Workflows { return &Workflows{cfg: cfg} }

func (s *Workflows) now() time.Time { return s.cfg.Now().UTC() }

// SetEngine attaches the runtime that runs instances; the returned function detaches it (and
// only it: a later SetEngine stays attached).
func (s *Workflows) SetEngine(e Engine) (detach func()) {
	s.engineMu.Lock()
	defer s.engineMu.Unlock()
	s.engineGen++
	gen := s.engineGen
	s.engine = e
	return func() {
		s.engineMu.Lock()
		defer s.engineMu.Unlock()
		if s.engineGen == gen {
			s.engine = nil
		}
	}
}

// Routes is the Workflows API. Writes to Workflows change what the edge runs (an engine per
// Workflow); instance operations act on the running engines.
func (s *Workflows) Routes() []api.Route {
	const wf = "/accounts/{account_id}/workflows"
	const one = wf + "/{workflow_name}"
	const inst = one + "/instances/{instance_id}"
	return []api.Route{
		{Pattern: "GET " + wf, Handle: s.listWorkflows},
		{Pattern: "PUT " + one, Handle: s.putWorkflow, Deploys: true},
		{Pattern: "GET " + one, Handle: s.getWorkflow},
		{Pattern: "DELETE " + one, Handle: s.deleteWorkflow, Deploys: true},
		{Pattern: "GET " + one + "/versions", Handle: s.listVersions},
		{Pattern: "GET " + one + "/versions/{version_id}", Handle: s.getVersion},
		{Pattern: "POST " + one + "/instances", Handle: s.createInstance},
		{Pattern: "POST " + one + "/instances/batch", Handle: s.createBatch},
		{Pattern: "GET " + one + "/instances", Handle: s.listInstances},
		{Pattern: "GET " + inst, Handle: s.getInstance},
		{Pattern: "PATCH " + inst + "/status", Handle: s.changeStatus},
		{Pattern: "POST " + inst + "/events/{event_type}", Handle: s.sendEvent},
	}
}
