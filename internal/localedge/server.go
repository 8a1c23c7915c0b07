// Package localedge is a local Cloudflare: the subset of the API v4 that the provider uses,
// with Cloudflare's envelope, status codes, error codes and pagination, persisted in an
// embedded store. The same server runs in process for tests and standalone through the
// provider binary's `local` subcommand.
package localedge

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/analytics"
)

// APIPrefix is where the API is served, as on api.cloudflare.com.
const APIPrefix = "/client/v4"

// Config configures a local edge API.
type Config struct {
	// AccountID is the one account the API knows; other accounts get Cloudflare's auth error.
	AccountID string
	// Token is the one API token the API accepts (Authorization: Bearer <token>).
	Token string
	// DataDir holds the store; empty means a temporary directory removed on Close.
	DataDir string
	// Zones maps the zone ids the API knows (for Workers routes) to their names.
	Zones map[string]string
	// Now is the clock (KV expirations, timestamps); nil means time.Now.
	Now func() time.Time
	// FaultSeed seeds the random source of rate-based fault injection.
	FaultSeed uint64
}

// Server is the local edge API.
type Server struct {
	cfg    Config
	store  *Store
	mux    *http.ServeMux
	faults *faults

	countMu sync.Mutex
	counts  map[string]int

	changes   changeNotifier
	analytics *analytics.Recorder
}

// handlerFunc is an API handler; a returned error is written as Cloudflare's error envelope.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// New opens the store and builds the API.
func New(cfg Config) (*Server, error) {
	if cfg.AccountID == "" || cfg.Token == "" {
		return nil, fmt.Errorf("local edge needs an account id and a token")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	store, err := OpenStore(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, store: store, mux: http.NewServeMux(), faults: newFaults(cfg.FaultSeed), counts: map[string]int{}}
	s.registerTokenRoutes()
	s.registerKVRoutes()
	s.registerR2Routes()
	s.registerWorkerRoutes()
	s.registerZoneRoutes()
	s.analytics = analytics.NewRecorder(analytics.Options{Now: cfg.Now})
	if err := s.restoreAnalytics(); err != nil {
		_ = store.Close()
		return nil, err
	}
	s.mux.Handle("POST "+APIPrefix+"/graphql", s.analytics.Handler(cfg.AccountID))
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
	_ = s.store.View(func(tx *Tx) error {
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
		err = s.store.Update(func(tx *Tx) error { return tx.PutRaw(bucketAnalytics, analyticsKey, snapshot) })
	}
	return errors.Join(err, s.store.Close())
}

// Store gives tests direct access to the persisted state.
func (s *Server) Store() *Store { return s.store }

// AccountID is the account the API serves.
func (s *Server) AccountID() string { return s.cfg.AccountID }

// handle registers h for a pattern such as "GET /accounts/{account_id}/storage/kv/namespaces".
// Path parameters named account_id and zone_id are checked before h runs.
func (s *Server) handle(pattern string, h handlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	s.mux.HandleFunc(method+" "+APIPrefix+path, func(w http.ResponseWriter, r *http.Request) {
		if id := r.PathValue("account_id"); strings.Contains(path, "{account_id}") && id != s.cfg.AccountID {
			writeError(w, errorf(http.StatusForbidden, 10000, "Authentication error"))
			return
		}
		if id := r.PathValue("zone_id"); strings.Contains(path, "{zone_id}") {
			if _, ok := s.cfg.Zones[id]; !ok {
				writeError(w, errorf(http.StatusBadRequest, 7003, "Could not route to %s, perhaps your object identifier is invalid?", r.URL.Path))
				return
			}
		}
		if err := h(w, r); err != nil {
			writeError(w, err)
		}
	})
}

// ServeHTTP counts the request under its route, applies injected faults, checks the token,
// then serves it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, pattern := s.mux.Handler(r)
	key := strings.Replace(pattern, APIPrefix, "", 1)
	if pattern == "" {
		key = r.Method + " (unrouted)"
	}
	s.countMu.Lock()
	s.counts[key]++
	s.countMu.Unlock()

	fault := s.faults.pick(r)
	if fault != nil && fault.Kind.afterCommit() {
		fault.serveThenFail(w, func(w http.ResponseWriter) { s.serve(w, r, pattern) })
		return
	}
	if fault != nil && fault.apply(w, r) {
		return
	}
	s.serve(w, r, pattern)
}

// serve authenticates and serves one request whose route pattern is known ("" when none).
func (s *Server) serve(w http.ResponseWriter, r *http.Request, pattern string) {
	if pattern == "" {
		writeError(w, errorf(http.StatusBadRequest, 7000, "No route for that URI"))
		return
	}
	if err := s.authenticate(r); err != nil {
		writeError(w, err)
		return
	}
	if !changesWorkers(r) {
		s.mux.ServeHTTP(w, r)
		return
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.mux.ServeHTTP(rec, r)
	if rec.status < 300 {
		s.notifyChange()
	}
}

func (s *Server) authenticate(r *http.Request) error {
	header := r.Header.Get("Authorization")
	if header == "" {
		return errorf(http.StatusForbidden, 10000, "Authentication error")
	}
	token, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || token == "" {
		return &apiError{Status: http.StatusBadRequest, Code: 6003, Message: "Invalid request headers"}
	}
	if token != s.cfg.Token {
		if strings.HasSuffix(r.URL.Path, "/tokens/verify") {
			return errorf(http.StatusUnauthorized, 1000, "Invalid API Token")
		}
		return errorf(http.StatusForbidden, 10000, "Authentication error")
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

func (s *Server) now() time.Time { return s.cfg.Now().UTC() }
