package runtime

import (
	"context"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"time"
)

// The runtime serves on a stable address of its own and forwards each request to the current
// Miniflare instance. It does so because two instances must not run the same Durable Object at
// the same time: both open the object's SQLite file, and concurrent writes fail with
// SQLITE_BUSY. So when Apply switches instances, new requests wait (at most the drain delay)
// until the requests in flight on the old instance are done, then go to the new one.

// backend is one Miniflare instance and the requests in flight on it.
type backend struct {
	addr     string
	mu       sync.Mutex
	inflight int
}

func (b *backend) add(n int) {
	b.mu.Lock()
	b.inflight += n
	b.mu.Unlock()
}

func (b *backend) idle() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inflight == 0
}

type backendKey struct{}

// front is the stable entry point: a listener, a reverse proxy and the instance switch.
type front struct {
	drain time.Duration
	srv   *http.Server
	ln    net.Listener
	proxy *httputil.ReverseProxy

	mu      sync.Mutex
	current *backend
	gate    chan struct{} // closed once the previous instance is idle; nil when open
	held    chan struct{} // the gate of a hold (see hold), closed by the next switch or release
}

func newFront(drain time.Duration) (*front, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &front{drain: drain, ln: ln}
	f.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			b, _ := pr.In.Context().Value(backendKey{}).(*backend) // always set by ServeHTTP
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = b.addr
			pr.Out.Host = pr.In.Host
		},
		Transport:     &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second},
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.Header().Set(OutcomeHeader, OutcomeInternal)
			http.Error(w, "local edge: the Workers runtime did not answer: "+err.Error(), http.StatusBadGateway)
		},
	}
	f.srv = &http.Server{Handler: f, ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = f.srv.Serve(ln) }()
	return f, nil
}

// hold makes new requests wait (until switchTo or release) and returns once the requests in
// flight on the current instance are done, or after the drain delay: the current instance may
// then be disposed of before the next one starts.
func (f *front) hold() {
	f.mu.Lock()
	if f.held == nil {
		f.held = make(chan struct{})
		f.gate = f.held
	}
	old := f.current
	f.mu.Unlock()
	deadline := time.Now().Add(f.drain)
	for old != nil && !old.idle() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
}

// release ends a hold without a switch.
func (f *front) release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.releaseLocked()
}

func (f *front) releaseLocked() {
	if f.held != nil {
		close(f.held)
		if f.gate == f.held {
			f.gate = nil
		}
		f.held = nil
	}
}

// switchTo makes addr the instance that new requests go to, once the previous one is idle.
func (f *front) switchTo(addr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.held != nil {
		// A hold has waited for the previous instance, which is gone: open at once.
		f.releaseLocked()
		f.current = &backend{addr: addr}
		return
	}
	if f.current != nil && f.current.addr == addr {
		return
	}
	old := f.current
	f.current = &backend{addr: addr}
	if old == nil {
		return
	}
	gate := make(chan struct{})
	f.gate = gate
	go func() {
		deadline := time.Now().Add(f.drain)
		for !old.idle() && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		close(gate)
		f.mu.Lock()
		if f.gate == gate {
			f.gate = nil
		}
		f.mu.Unlock()
	}()
}

// explorerPath is Miniflare's local explorer, which serves the Workflows API to the runtime's
// own Workflows calls only.
const explorerPath = "/cdn-cgi/explorer"

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == explorerPath || strings.HasPrefix(r.URL.Path, explorerPath+"/") {
		http.NotFound(w, r)
		return
	}
	var b *backend
	for b == nil {
		f.mu.Lock()
		gate := f.gate
		if gate == nil {
			b = f.current
			b.add(1)
		}
		f.mu.Unlock()
		if gate != nil {
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
	}
	defer b.add(-1)
	f.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), backendKey{}, b)))
}

func (f *front) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = f.srv.Shutdown(ctx)
}
