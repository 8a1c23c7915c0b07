// Package localedge is a local Cloudflare: the subset of the API v4 that the provider and
// its users' tools call, with Cloudflare's envelope, status codes, error codes, pagination and
// limits, persisted in an embedded store. The same server runs in process for tests and
// standalone through the provider binary's `local` subcommand.
//
// New builds the shared API server (package api) and one package per Cloudflare product
// (tokens, zones, kv, r2, workers, workflows, queues), and registers their routes; products never import each other,
// and the cross-product checks of Worker bindings are wired here (workers.Targets). The edge
// (package edge) serves the deployed Workers from workers' deploy.Snapshot.
//
// A new product (queues, workflows) is one more package laid out the same way
// (routes.go, <product>.go, store.go, errors.go, black-box tests through edgetest), one more
// table in Register, and, when Workers bind to it, its CheckBinding in workers.Targets and
// one module in runtime/node/bindings.
package localedge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/accounts"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/analytics"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/deploy"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/kv"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/queues"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/r2"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/tails"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/tokens"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/workers"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/workflows"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/zones"
)

// APIPrefix is where the API is served, as on api.cloudflare.com.
const APIPrefix = api.Prefix

// DefaultWorkersSubdomain is the workers.dev subdomain a fresh local edge starts with, so
// that a Worker with workers.dev on is reachable at http://<script>.localedge.workers.dev
// (send that Host to the edge) as well as at http://<script>.localhost.
const DefaultWorkersSubdomain = "localedge"

// DefaultUserEmail is the email of the user the token belongs to (GET /user), the author of
// every Worker version and deployment.
const DefaultUserEmail = "developer@localedge.localhost"

// Config configures a local edge API.
type Config struct {
	// AccountID is the one account the API knows; other accounts get Cloudflare's auth error.
	AccountID string
	// Token is the one API token the API accepts (Authorization: Bearer <token>).
	Token string
	// UserEmail is the email of the token's user; empty means DefaultUserEmail.
	UserEmail string
	// DataDir holds the store; empty means a temporary directory removed on Close.
	DataDir string
	// Zones maps the zone ids the API knows (for Workers routes) to their names.
	Zones map[string]string
	// Now is the clock (KV expirations, timestamps); nil means time.Now.
	Now func() time.Time
	// FaultSeed seeds the random source of rate-based fault injection.
	FaultSeed uint64
	// WorkersSubdomain is the workers.dev subdomain a fresh store starts with; empty means
	// DefaultWorkersSubdomain.
	WorkersSubdomain string
	// NoWorkersSubdomain starts a fresh store without a workers.dev subdomain, like a
	// Cloudflare account that never registered one.
	NoWorkersSubdomain bool
	// DeployWait bounds how long a write that changes what the edge runs waits for the
	// Workers runtime to serve it before it is acknowledged anyway; 0 means api.DefaultDeployWait (45 s).
	DeployWait time.Duration
	// Log receives diagnostics (a deploy acknowledged before the runtime served it, an upload
	// the runtime could not validate); nil discards them.
	Log io.Writer
}

// Fault injection, re-exported from package api.
type (
	// Fault describes a failure to inject into matching API requests.
	Fault = api.Fault
	// FaultKind is what an injected fault does to a matching request.
	FaultKind = api.FaultKind
	// Store is the local edge's persistence.
	Store = api.Store
	// Tx is one store transaction.
	Tx = api.Tx
)

// Fault kinds.
const (
	FaultLatency         = api.FaultLatency
	FaultRateLimit       = api.FaultRateLimit
	FaultServerError     = api.FaultServerError
	FaultDrop            = api.FaultDrop
	FaultDropAfterCommit = api.FaultDropAfterCommit
	FaultTruncate        = api.FaultTruncate
)

// Server is the local edge API.
type Server struct {
	*api.Server
	cfg       Config
	store     *api.Store
	workers   *workers.Workers
	workflows *workflows.Workflows
	tails     *tails.Tails
	queues    *queues.Queues
	analytics *analytics.Recorder
}

// New opens the store and builds the API.
func New(cfg Config) (*Server, error) {
	if cfg.AccountID == "" || cfg.Token == "" {
		return nil, fmt.Errorf("local edge needs an account id and a token")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.UserEmail == "" {
		cfg.UserEmail = DefaultUserEmail
	}
	store, err := api.OpenStore(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	srv := api.NewServer(api.Config{
		AccountID: cfg.AccountID, Token: cfg.Token, Zones: cfg.Zones, FaultSeed: cfg.FaultSeed,
		DeployWait: cfg.DeployWait, Log: cfg.Log,
	})
	kvs := kv.New(store, cfg.Now)
	r2s := r2.New(store, cfg.Now)
	wk := workers.New(workers.Config{
		Store: store, Now: cfg.Now, Zones: cfg.Zones, AuthorEmail: cfg.UserEmail,
		Targets: workers.Targets{"kv_namespace": kv.CheckBinding, "r2_bucket": r2.CheckBinding, "workflow": workflows.CheckBinding, "queue": queues.CheckBinding},
	})
	wfs := workflows.New(workflows.Config{Store: store, Now: cfg.Now, ScriptExists: wk.ScriptExists})
	qs := queues.New(queues.Config{Store: store, Now: cfg.Now, ScriptExists: wk.ScriptExists})
	tls := tails.New(tails.Config{Now: cfg.Now, ScriptExists: wk.ScriptExists, Producers: wk.TailProducers})
	s := &Server{Server: srv, cfg: cfg, store: store, workers: wk, workflows: wfs, queues: qs, tails: tls, analytics: analytics.NewRecorder(analytics.Options{Now: cfg.Now})}
	srv.Register(tokens.Routes(), accounts.New(cfg.AccountID, cfg.UserEmail).Routes(), zones.New(cfg.AccountID, cfg.Zones).Routes(), kvs.Routes(), r2s.Routes(), wk.Routes(), wfs.Routes(), qs.Routes(), tls.Routes(), []api.Route{
		{Pattern: "POST /graphql", Handle: api.Handler(s.analytics.Handler(cfg.AccountID))},
	})
	subdomain := cfg.WorkersSubdomain
	if subdomain == "" && !cfg.NoWorkersSubdomain {
		subdomain = DefaultWorkersSubdomain
	}
	if cfg.NoWorkersSubdomain {
		subdomain = ""
	}
	if err := errors.Join(wk.SeedSubdomain(subdomain), s.restoreAnalytics()); err != nil {
		_ = store.Close()
		return nil, err
	}
	return s, nil
}

// Analytics is the recorder of edge traffic that the GraphQL Analytics endpoint serves.
func (s *Server) Analytics() *analytics.Recorder { return s.analytics }

const (
	bucketAnalytics = "analytics"
	analyticsKey    = "snapshot"
)

// restoreAnalytics loads the analytics saved by the last Close.
func (s *Server) restoreAnalytics() error {
	var raw []byte
	_ = s.store.View(func(tx *api.Tx) error {
		raw, _ = tx.GetRaw(bucketAnalytics, analyticsKey)
		return nil
	})
	if raw == nil {
		return nil
	}
	if err := s.analytics.Restore(raw); err != nil {
		return fmt.Errorf("restoring analytics from the data directory: %w", err)
	}
	return nil
}

// Close saves the analytics and closes the store.
func (s *Server) Close() error {
	snapshot, err := s.analytics.Snapshot()
	if err == nil {
		err = s.store.Update(func(tx *api.Tx) error { return tx.PutRaw(bucketAnalytics, analyticsKey, snapshot) })
	}
	return errors.Join(err, s.store.Close())
}

// ServeHTTP serves the API, and the tail sessions' WebSockets beside it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, tails.PathPrefix) {
		s.tails.ServeHTTP(w, r)
		return
	}
	s.Server.ServeHTTP(w, r)
}

// Tails receives the invocations the edge serves, for the tail sessions.
func (s *Server) Tails() *tails.Tails { return s.tails }

// Store gives tests direct access to the persisted state.
func (s *Server) Store() *Store { return s.store }

// AccountID is the account the API serves.
func (s *Server) AccountID() string { return s.cfg.AccountID }

// Snapshot is what the edge serves now: every deployed script, route and custom domain, the
// workers.dev subdomain and the Workflows, read in one transaction.
func (s *Server) Snapshot() (deploy.Snapshot, error) {
	var snap deploy.Snapshot
	err := s.store.View(func(tx *api.Tx) (err error) {
		if snap, err = s.workers.SnapshotTx(tx); err != nil {
			return err
		}
		snap.Workflows, err = workflows.Deployed(tx)
		return err
	})
	return snap, err
}

// DriveWorkflows serves the Workflows instances API through e (the Workers runtime, which
// runs the instances) until the returned function is called.
func (s *Server) DriveWorkflows(e workflows.Engine) (stop func()) { return s.workflows.SetEngine(e) }

// DeliverQueues delivers queue messages to their consumers through d (the Workers runtime,
// which runs the queue handlers) until the returned function is called.
func (s *Server) DeliverQueues(d queues.Deliverer) (stop func()) { return s.queues.Deliver(d) }

// QueueBacklog counts the messages of the named queue that are not acknowledged yet.
func (s *Server) QueueBacklog(name string) (int, error) { return s.queues.Backlog(name) }

// ValidateUploads makes every upload load in v (the Workers runtime) before it is
// acknowledged, until the returned function is called.
func (s *Server) ValidateUploads(v workers.Validator) (stop func()) {
	return s.workers.SetValidator(v, s.cfg.Log)
}

// ScriptExists reports whether a Worker script with the name exists.
func (s *Server) ScriptExists(name string) bool { return s.workers.ScriptExists(name) }

// ScriptModules returns the modules (name → content) of the version serving most of a
// script's traffic.
func (s *Server) ScriptModules(name string) (map[string][]byte, error) {
	return s.workers.ScriptModules(name)
}

// ScriptBindings returns the bindings of the version serving most of a script's traffic,
// secret values included, sorted by name.
func (s *Server) ScriptBindings(name string) ([]map[string]any, error) {
	return s.workers.ScriptBindings(name)
}

// FollowDeploys registers f to run after every successful write that changes what the edge
// runs, before that write is acknowledged; the returned function unregisters it.
func (s *Server) FollowDeploys(f func(ctx context.Context) error) (stop func()) {
	return s.Server.FollowDeploys(f)
}
