package edge

import (
	"net/http"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/runtime"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/tails"
)

// tailRequest describes a request for the script's tail sessions before it is proxied, or
// nil when no tail listens (the common case costs one lookup).
func (e *Edge) tailRequest(script string, r *http.Request) *tails.Request {
	if !e.cfg.API.Tails().Listening(script) {
		return nil
	}
	req := tails.RequestFrom(r, func(h string) bool { return h == scriptHeader || h == runtime.TriggerHeader })
	return &req
}

// publishFetch sends a served request to the script's tail sessions.
func (e *Edge) publishFetch(script string, req *tails.Request, at time.Time, sw *statusWriter) {
	if req == nil {
		return
	}
	ev := tails.Event{
		Outcome: "ok", ScriptName: script, Exceptions: []tails.Exception{}, Logs: []tails.Log{},
		EventTimestamp: tails.Millis(at), Event: tails.RequestEvent{Request: *req, Response: &tails.Response{Status: sw.status}},
	}
	switch sw.outcome {
	case runtime.OutcomeException:
		ev.Outcome = "exception"
		ev.Exceptions = append(ev.Exceptions, tails.Exception{Name: "Error", Message: "the Worker threw an uncaught exception", Timestamp: tails.Millis(at)})
	case runtime.OutcomeInternal:
		ev.Outcome = "exception"
	}
	if sw.version != "" {
		ev.ScriptVersion = &tails.ScriptVersion{ID: sw.version}
	}
	e.cfg.API.Tails().Publish(ev)
}

// publishScheduled sends a cron trigger the edge ran to the script's tail sessions.
func (e *Edge) publishScheduled(run ScheduledRun) {
	if !e.cfg.API.Tails().Listening(run.Script) {
		return
	}
	outcome := run.Outcome
	if outcome == "" {
		outcome = "exception"
	}
	ev := tails.Event{
		Outcome: outcome, ScriptName: run.Script, Exceptions: []tails.Exception{}, Logs: []tails.Log{},
		EventTimestamp: tails.Millis(run.At), Event: tails.ScheduledEvent{Cron: run.Cron, ScheduledTime: tails.Millis(run.At)},
	}
	if run.Version != "" {
		ev.ScriptVersion = &tails.ScriptVersion{ID: run.Version}
	}
	e.cfg.API.Tails().Publish(ev)
}
