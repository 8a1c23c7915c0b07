// Package api holds the conventions of Cloudflare's API v4 that every product of the local
// edge shares: the server that routes, authenticates, counts and injects faults; the
// envelope and its errors; paging and cursors; ids; the store; and the binding type.
// Products (kv, r2, workers, …) register their routes on it and never import each other.
package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Prefix is where the API is served, as on api.cloudflare.com.
const Prefix = "/client/v4"

// Config configures a Server.
type Config struct {
	// AccountID is the one account the API knows; other accounts get Cloudflare's auth error.
	AccountID string
	// Token is the one API token the API accepts (Authorization: Bearer <token>).
	Token string
	// Zones maps the zone ids the API knows to their names.
	Zones map[string]string
	// FaultSeed seeds the random source of rate-based fault injection.
	FaultSeed uint64
	// DeployWait bounds how long a Deploys write waits for the edge; 0 means DefaultDeployWait.
	DeployWait time.Duration
	// Log receives the server's diagnostics (a deploy acknowledged before the edge served it).
	Log io.Writer
}

// DeployFollower is called after each successful Deploys write, before it is acknowledged,
// and returns once the edge serves the write (or ctx ends).
type DeployFollower func(ctx context.Context) error

// Server routes API requests to the products' handlers.
type Server struct {
	cfg    Config
	mux    *http.ServeMux
	faults *faults
	deploy map[string]bool // route patterns marked Deploys

	countMu sync.Mutex
	counts  map[string]int

	followMu  sync.Mutex
	followers map[int]DeployFollower
	nextID    int
}

// NewServer returns a server with no routes.
func NewServer(cfg Config) *Server {
	if cfg.DeployWait <= 0 {
		cfg.DeployWait = DefaultDeployWait
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	return &Server{
		cfg: cfg, mux: http.NewServeMux(), faults: newFaults(cfg.FaultSeed), deploy: map[string]bool{},
		counts: map[string]int{}, followers: map[int]DeployFollower{},
	}
}

// Zones maps the zone ids the API knows to their names.
func (s *Server) Zones() map[string]string { return s.cfg.Zones }

// Register adds the routes of one or more products.
func (s *Server) Register(tables ...[]Route) {
	for _, routes := range tables {
		for _, rt := range routes {
			s.handle(rt)
		}
	}
}

func (s *Server) handle(rt Route) {
	method, path, _ := strings.Cut(rt.Pattern, " ")
	pattern := method + " " + Prefix + path
	if rt.Deploys {
		s.deploy[pattern] = true
	}
	checkAccount, checkZone := strings.Contains(path, "{account_id}"), strings.Contains(path, "{zone_id}")
	h := rt.Handle
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if checkAccount && r.PathValue("account_id") != s.cfg.AccountID {
			WriteError(w, Errorf(http.StatusForbidden, 10000, "Authentication error"))
			return
		}
		if checkZone {
			if _, ok := s.cfg.Zones[r.PathValue("zone_id")]; !ok {
				WriteError(w, Errorf(http.StatusBadRequest, 7003, "Could not route to %s, perhaps your object identifier is invalid?", r.URL.Path))
				return
			}
		}
		if err := h(w, r); err != nil {
			WriteError(w, err)
		}
	})
}

// ServeHTTP counts the request under its route, applies injected faults, checks the token,
// then serves it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, pattern := s.mux.Handler(r)
	key := strings.Replace(pattern, Prefix, "", 1)
	if pattern == "" {
		key = r.Method + " (unrouted)"
	}
	s.countMu.Lock()
	s.counts[key]++
	s.countMu.Unlock()

	r, state := withState(r)
	defer func() {
		if state.refusedBody {
			linger(w, r)
		}
	}()
	latency, fault := s.faults.pick(r)
	delay(r, latency)
	if fault != nil && fault.Kind.afterCommit() {
		fault.serveThenFail(w, func(w http.ResponseWriter) { s.serve(w, r, pattern) })
		return
	}
	if fault != nil && fault.apply(w) {
		return
	}
	s.serve(w, r, pattern)
}

// serve authenticates and serves one request whose route pattern is known ("" when none).
func (s *Server) serve(w http.ResponseWriter, r *http.Request, pattern string) {
	if pattern == "" {
		WriteError(w, Errorf(http.StatusBadRequest, 7000, "No route for that URI"))
		return
	}
	if err := s.authenticate(r); err != nil {
		WriteError(w, err)
		return
	}
	if !s.deploy[pattern] {
		s.mux.ServeHTTP(w, r)
		return
	}
	// Hold the answer until the edge serves the change: read-your-writes for deploys.
	buf := &bufferedResponse{header: http.Header{}}
	s.mux.ServeHTTP(buf, r)
	if buf.status < 300 {
		s.followDeploy(r)
	}
	buf.copyTo(w)
}

// DefaultDeployWait is how long a write that changes what runs waits for the edge to serve it
// before it is acknowledged anyway. A runtime reload takes well under a second on an idle
// laptop but several seconds on a loaded CI machine, so the bound is generous; it stays below
// the provider's default request_timeout (60 s) so that a slow reload is never retried as a
// lost request.
const DefaultDeployWait = 45 * time.Second

// followDeploy waits, bounded by DeployWait, for every follower to serve the write just made.
func (s *Server) followDeploy(r *http.Request) {
	s.followMu.Lock()
	followers := make([]DeployFollower, 0, len(s.followers))
	for _, f := range s.followers {
		followers = append(followers, f)
	}
	s.followMu.Unlock()
	if len(followers) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.cfg.DeployWait)
	defer cancel()
	for _, follow := range followers {
		if err := follow(ctx); err != nil {
			fmt.Fprintf(s.cfg.Log, "servicesdo local edge: acknowledging %s %s before the Workers runtime serves it: %v\n", r.Method, r.URL.Path, err)
		}
	}
}

// FollowDeploys registers f to be called after every successful Deploys write, before the
// write is acknowledged; the returned function unregisters it.
func (s *Server) FollowDeploys(f DeployFollower) (stop func()) {
	s.followMu.Lock()
	defer s.followMu.Unlock()
	s.nextID++
	id := s.nextID
	s.followers[id] = f
	return func() {
		s.followMu.Lock()
		defer s.followMu.Unlock()
		delete(s.followers, id)
	}
}

func (s *Server) authenticate(r *http.Request) error {
	header := r.Header.Get("Authorization")
	if header == "" {
		return Errorf(http.StatusForbidden, 10000, "Authentication error")
	}
	token, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || token == "" {
		return &Error{Status: http.StatusBadRequest, Code: 6003, Message: "Invalid request headers"}
	}
	if token != s.cfg.Token {
		if strings.HasSuffix(r.URL.Path, "/tokens/verify") {
			return Errorf(http.StatusUnauthorized, 1000, "Invalid API Token")
		}
		return Errorf(http.StatusForbidden, 10000, "Authentication error")
	}
	return nil
}

// InjectFault adds a fault to every matching request until ClearFaults.
func (s *Server) InjectFault(f Fault) { s.faults.add(f) }

// FaultHits returns how many requests an injected fault has hit so far.
func (s *Server) FaultHits() int { return s.faults.hitCount() }

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() { s.faults.clear() }

// RequestCount returns how many requests hit the route with the given pattern, written as it
// was registered, e.g. "GET /accounts/{account_id}/storage/kv/namespaces/{namespace_id}".
func (s *Server) RequestCount(pattern string) int {
	s.countMu.Lock()
	defer s.countMu.Unlock()
	return s.counts[pattern]
}

// RequestCounts returns a copy of every route's request count.
func (s *Server) RequestCounts() map[string]int {
	s.countMu.Lock()
	defer s.countMu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// TotalRequests returns the number of requests received since the last reset.
func (s *Server) TotalRequests() int {
	s.countMu.Lock()
	defer s.countMu.Unlock()
	n := 0
	for _, v := range s.counts {
		n += v
	}
	return n
}

// ResetRequestCounts zeroes the counters.
func (s *Server) ResetRequestCounts() {
	s.countMu.Lock()
	defer s.countMu.Unlock()
	s.counts = map[string]int{}
}

// FormatRequestCounts renders the counters as sorted "count pattern" lines, for test failures.
func (s *Server) FormatRequestCounts() string {
	counts := s.RequestCounts()
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%5d %s\n", counts[k], k)
	}
	return b.String()
}
