package edge

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/analytics"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/deploy"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/runtime"
)

// Header names shared with the runtime's entry and router workers.
const (
	scriptHeader  = runtime.ScriptHeader
	versionHeader = runtime.VersionHeader
)

// Config configures an edge.
type Config struct {
	// API is the local Cloudflare API whose deployments the edge serves.
	API *localedge.Server
	// Runtime options (the API address and token for KV and R2 bindings among them).
	Runtime runtime.Options
	// Record also receives every served request (the API's analytics always do).
	Record func(analytics.Invocation)
	// Log receives sync diagnostics (Workers that fail to start, crons that fail).
	Log io.Writer
	// Clock drives cron triggers; nil means the wall clock.
	Clock Clock
	// OnScheduled, when set, receives every cron trigger the edge ran, after it ran.
	OnScheduled func(ScheduledRun)
}

// Edge serves the deployed Workers.
type Edge struct {
	cfg   Config
	rt    *runtime.Runtime
	clock Clock
	state atomic.Pointer[served]
	done  chan struct{}
	wg    sync.WaitGroup

	syncs          syncs
	applyMu        sync.Mutex // one apply at a time, so generations are served in order
	applies        atomic.Int64
	stopFollow     func()
	stopValidating func()
	stopWorkflows  func()
	stopQueues     func()
	cronsChanged   chan struct{}
}

// served is what the edge serves since the last sync, swapped as one so that a request sees
// a routing table and the startup failures of the same deployment.
type served struct {
	table    *Table
	failures map[string]string
	crons    []cronJob
}

// Start starts the runtime, serves the current deployments, and follows every later change
// made through the API: a write that changes what the edge runs is acknowledged only once the
// runtime serves it (or after the API's DeployWait). It also validates uploads in the runtime
// and runs cron triggers.
func Start(ctx context.Context, cfg Config) (*Edge, error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Clock == nil {
		cfg.Clock = wallClock{}
	}
	rt, err := runtime.Start(ctx, cfg.Runtime)
	if err != nil {
		return nil, err
	}
	e := &Edge{cfg: cfg, rt: rt, clock: cfg.Clock, done: make(chan struct{}), cronsChanged: make(chan struct{}, 1)}
	e.syncs.init()
	e.state.Store(&served{table: NewTable(deploy.Snapshot{})})
	// Follow before the first sync: a write acknowledged from here on is waited for, and one
	// acknowledged before is in the snapshot the first sync reads. Either way it is served.
	e.stopFollow = cfg.API.FollowDeploys(e.follow)
	if err := e.syncNow(ctx); err != nil {
		e.stopFollow()
		_ = rt.Close()
		return nil, err
	}
	e.stopValidating = cfg.API.ValidateUploads(rt.Validate)
	e.stopWorkflows = cfg.API.DriveWorkflows(rt.Workflows)
	e.stopQueues = cfg.API.DeliverQueues(e.deliverQueue)
	e.wg.Add(2)
	go e.syncLoop()
	go e.runCrons()
	return e, nil
}

// Sync makes the runtime and the routing table match the API's deployments now.
func (e *Edge) Sync(ctx context.Context) error { return e.syncNow(ctx) }

// apply reads the API's snapshot and makes the runtime serve it.
func (e *Edge) apply(ctx context.Context) error {
	snap, err := e.cfg.API.Snapshot()
	if err != nil {
		return err
	}
	e.applies.Add(1)
	result, err := e.rt.Apply(ctx, snap)
	if err != nil {
		return err
	}
	for script, msg := range result.Failed {
		fmt.Fprintf(e.cfg.Log, "servicesdo local edge: Worker %q failed to start and is not served: %s\n", script, msg)
	}
	e.state.Store(&served{table: NewTable(snap), failures: result.Failed, crons: e.cronJobs(snap)})
	select {
	case e.cronsChanged <- struct{}{}:
	default:
	}
	return nil
}

// Failures returns the scripts that failed to start at the last sync, with their errors.
func (e *Edge) Failures() map[string]string {
	out := map[string]string{}
	for k, v := range e.state.Load().failures {
		out[k] = v
	}
	return out
}

// Applies counts the snapshots handed to the runtime so far (each builds a Miniflare
// instance): deploys made together share one.
func (e *Edge) Applies() int64 { return e.applies.Load() }

// RuntimeAddress is where the Workers runtime itself serves (requests name their script in
// the x-servicesdo-script header), for diagnostics and benchmarks.
func (e *Edge) RuntimeAddress() string { return e.rt.Address() }

// Close stops following changes, running crons, validating uploads, serving Workflow
// instances and delivering queue messages, and stops the runtime.
func (e *Edge) Close() error {
	e.stopFollow()
	e.stopValidating()
	e.stopWorkflows()
	e.stopQueues()
	close(e.done)
	e.wg.Wait()
	return e.rt.Close()
}

// statusWriter remembers the status, the serving version and the outcome of a proxied
// response (and keeps the runtime's internal headers from the client).
type statusWriter struct {
	http.ResponseWriter
	status  int
	version string
	outcome string
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
		w.version = w.Header().Get(versionHeader)
		w.outcome = w.Header().Get(runtime.OutcomeHeader)
		w.Header().Del(versionHeader)
		w.Header().Del(runtime.OutcomeHeader)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// ServeHTTP routes a request to its script and proxies it to the runtime.
func (e *Edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	current := e.state.Load()
	script, ok := current.table.Match(r.Host, r.URL.Path)
	if !ok {
		e.notFound(w, r, current.table)
		return
	}
	if msg, failed := current.failures[script]; failed {
		http.Error(w, fmt.Sprintf("Worker %q failed to start: %s", script, msg), http.StatusServiceUnavailable)
		return
	}
	if isScheduledPath(r.URL.Path) {
		e.serveScheduled(w, r, script)
		return
	}
	tailed := e.tailRequest(script, r)
	r.Header.Set(scriptHeader, script)
	r.Header.Del(runtime.TriggerHeader)
	start, at := time.Now(), e.clock.Now()
	sw := &statusWriter{ResponseWriter: w}
	e.rt.ServeHTTP(sw, r)
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	inv := analytics.Invocation{
		Script: script, Version: sw.version, Status: sw.status, WallTime: time.Since(start), At: at,
		Thrown: sw.outcome == runtime.OutcomeException, Internal: sw.outcome == runtime.OutcomeInternal,
	}
	e.cfg.API.Analytics().Record(inv)
	e.publishFetch(script, tailed, at, sw)
	if e.cfg.Record != nil {
		e.cfg.Record(inv)
	}
}

// notFound answers like Cloudflare for a host no Worker serves, listing the local scripts.
func (e *Edge) notFound(w http.ResponseWriter, r *http.Request, t *Table) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html><html><head><title>404 Not Found | servicesdo local edge</title></head><body>\n")
	fmt.Fprintf(&b, "<h1>Error 404: no Worker serves %s%s</h1>\n", html.EscapeString(r.Host), html.EscapeString(r.URL.Path))
	scripts := t.Scripts()
	if len(scripts) == 0 {
		fmt.Fprintf(&b, "<p>No Worker is deployed yet: run terraform apply against this local edge.</p>\n")
	} else {
		fmt.Fprintf(&b, "<p>Deployed Workers (reach them by route, custom domain, or http://&lt;name&gt;%s when workers_dev is on):</p><ul>\n", WorkersDevSuffix)
		for _, s := range scripts {
			fmt.Fprintf(&b, "<li>%s</li>\n", html.EscapeString(s))
		}
		fmt.Fprintf(&b, "</ul>\n")
	}
	fmt.Fprintf(&b, "</body></html>\n")
	_, _ = io.WriteString(w, b.String())
}
