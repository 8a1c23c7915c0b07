// Package tails emulates Workers Tail: live sessions that stream a Worker's invocations
// (POST/GET/DELETE /workers/scripts/{name}/tails, cloudflare-go's workers.ScriptTail*) over a
// WebSocket speaking the trace-v1 protocol `wrangler tail` uses, and the tail consumers of a
// Worker (GET /workers/tails/by-consumer/{name}). The edge publishes every invocation the
// runtime serves (Publish); a session's URL is its capability, as on Cloudflare, so the
// WebSocket needs no API token.
package tails

import (
	"net/http"
	"sync"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

// Protocol is the WebSocket subprotocol of tail sessions.
const Protocol = "trace-v1"

// PathPrefix is where the tail WebSockets are served on the API's host (outside the API
// prefix, like Cloudflare's tail.developers.workers.dev).
const PathPrefix = "/tail/"

// sessionLifetime is how long a tail session lasts (Cloudflare's expire after some hours).
const sessionLifetime = 6 * time.Hour

// Config configures the tails product.
type Config struct {
	Now func() time.Time
	// ScriptExists reports whether a Worker script exists (tails of others are 10007).
	ScriptExists func(name string) bool
	// Producers returns the scripts whose tail_consumers name the script.
	Producers func(consumer string) ([]string, error)
}

// Tails is the Tail product of the local edge.
type Tails struct {
	cfg      Config
	mu       sync.Mutex
	sessions map[string]*session // id → session
}

// New returns the tails product.
func New(cfg Config) *Tails {
	return &Tails{cfg: cfg, sessions: map[string]*session{}}
}

// Routes is the Tail API.
func (t *Tails) Routes() []api.Route {
	const tails = "/accounts/{account_id}/workers/scripts/{script_name}/tails"
	return []api.Route{
		{Pattern: "POST " + tails, Handle: t.create},
		{Pattern: "GET " + tails, Handle: t.get},
		{Pattern: "DELETE " + tails + "/{tail_id}", Handle: t.delete},
		{Pattern: "GET /accounts/{account_id}/workers/tails/by-consumer/{script_name}", Handle: t.byConsumer},
	}
}

func errScriptNotFound() *api.Error {
	return api.Errorf(http.StatusNotFound, 10007, "This Worker does not exist on your account.")
}

func errTailNotFound(id string) *api.Error {
	return api.Errorf(http.StatusNotFound, 10007, "Tail '%s' not found.", id)
}
