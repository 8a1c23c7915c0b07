package edge

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/analytics"
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
	// Log receives sync diagnostics (Workers that fail to start).
	Log io.Writer
}

// Edge serves the deployed Workers.
type Edge struct {
	cfg     Config
	rt      *runtime.Runtime
	state   atomic.Pointer[served]
	changed chan struct{}
	done    chan struct{}
	wg      sync.WaitGroup

	syncMu sync.Mutex
}

// served is what the edge serves since the last sync, swapped as one so that a request sees
// a routing table and the startup failures of the same deployment.
type served struct {
	table    *Table
	failures map[string]string
}

// Start starts the runtime, serves the current deployments, and follows every later change
// made through the API.
func Start(ctx context.Context, cfg Config) (*Edge, error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	rt, err := runtime.Start(ctx, cfg.Runtime)
	if err != nil {
		return nil, err
	}
	e := &Edge{cfg: cfg, rt: rt, changed: make(chan struct{}, 1), done: make(chan struct{})}
	e.state.Store(&served{table: NewTable(nil, localedge.Routing{})})
	if err := e.Sync(ctx); err != nil {
		_ = rt.Close()
		return nil, err
	}
	cfg.API.OnChange(func() {
		select {
		case e.changed <- struct{}{}:
		default:
		}
	})
	e.wg.Add(1)
	go e.follow()
	return e, nil
}

// follow re-syncs after API changes; bursts of changes collapse into one sync.
func (e *Edge) follow() {
	defer e.wg.Done()
	for {
		select {
		case <-e.done:
			return
		case <-e.changed:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		if err := e.Sync(ctx); err != nil {
			fmt.Fprintf(e.cfg.Log, "servicesdo local edge: cannot apply the latest deployments: %v\n", err)
		}
		cancel()
	}
}

// Sync makes the runtime and the routing table match the API's deployments now.
func (e *Edge) Sync(ctx context.Context) error {
	e.syncMu.Lock()
	defer e.syncMu.Unlock()
	scripts, routing, err := e.cfg.API.Deployed()
	if err != nil {
		return err
	}
	result, err := e.rt.Apply(ctx, toSnapshot(scripts))
	if err != nil {
		return err
	}
	for script, msg := range result.Failed {
		fmt.Fprintf(e.cfg.Log, "servicesdo local edge: Worker %q failed to start and is not served: %s\n", script, msg)
	}
	e.state.Store(&served{table: NewTable(scripts, routing), failures: result.Failed})
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

// Close stops following changes and stops the runtime.
func (e *Edge) Close() error {
	close(e.done)
	e.wg.Wait()
	return e.rt.Close()
}

// statusWriter remembers the status and the serving version of a proxied response.
type statusWriter struct {
	http.ResponseWriter
	status  int
	version string
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
		w.version = w.Header().Get(versionHeader)
		w.Header().Del(versionHeader)
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
	r.Header.Set(scriptHeader, script)
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	e.rt.ServeHTTP(sw, r)
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	inv := analytics.Invocation{Script: script, Version: sw.version, Status: sw.status, WallTime: time.Since(start), At: start}
	e.cfg.API.Analytics().Record(inv)
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

// toSnapshot turns the API's deployments into the runtime's snapshot.
func toSnapshot(scripts []localedge.DeployedScript) runtime.Snapshot {
	snap := runtime.Snapshot{Scripts: []runtime.Script{}}
	for _, s := range scripts {
		if len(s.Versions) == 0 {
			continue
		}
		rs := runtime.Script{Name: s.Name}
		for _, v := range s.Versions {
			rv := runtime.Version{ID: v.ID, MainModule: v.MainModule, ServiceWorker: v.ServiceWorker, CompatibilityDate: v.CompatibilityDate, CompatibilityFlags: v.CompatibilityFlags}
			for _, m := range v.Modules {
				rv.Modules = append(rv.Modules, runtime.Module{Name: m.Name, ContentType: m.ContentType, Content: m.Content})
			}
			for _, b := range v.Bindings {
				if rb, ok := toBinding(b); ok {
					rv.Bindings = append(rv.Bindings, rb)
				}
			}
			rs.Versions = append(rs.Versions, rv)
		}
		for _, sp := range s.Splits {
			rs.Deployment = append(rs.Deployment, runtime.Split{VersionID: sp.VersionID, Percentage: sp.Percentage})
		}
		for _, c := range s.Classes {
			rs.DOClasses = append(rs.DOClasses, runtime.DOClass{Class: c.Class, SQLite: c.SQLite, NamespaceID: c.NamespaceID})
		}
		snap.Scripts = append(snap.Scripts, rs)
	}
	sort.Slice(snap.Scripts, func(i, j int) bool { return snap.Scripts[i].Name < snap.Scripts[j].Name })
	return snap
}

func toBinding(b map[string]any) (runtime.Binding, bool) {
	str := func(k string) string { s, _ := b[k].(string); return s }
	rb := runtime.Binding{Type: str("type"), Name: str("name")}
	switch rb.Type {
	case runtime.BindingPlainText, runtime.BindingSecretText:
		rb.Text = str("text")
	case runtime.BindingJSON:
		raw, err := json.Marshal(b["json"])
		if err != nil {
			return rb, false
		}
		rb.JSON = raw
	case runtime.BindingKVNamespace:
		rb.NamespaceID = str("namespace_id")
	case runtime.BindingR2Bucket:
		rb.BucketName, rb.Jurisdiction = str("bucket_name"), str("jurisdiction")
	case runtime.BindingDurableObject:
		rb.ClassName, rb.ScriptName = str("class_name"), str("script_name")
	case runtime.BindingService:
		rb.Service, rb.Entrypoint = str("service"), str("entrypoint")
	case runtime.BindingRateLimit:
		rb.NamespaceID = str("namespace_id")
		if simple, ok := b["simple"].(map[string]any); ok {
			limit, _ := simple["limit"].(float64)
			period, _ := simple["period"].(float64)
			rb.Limit, rb.Period = int64(limit), int64(period)
		}
	default:
		return rb, false
	}
	return rb, true
}
