package runtime

import (
	"context"
	"net"
	"net/http"
	"net/http/httputil"
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

// switchTo makes addr the instance that new requests go to, once the previous one is idle.
func (f *front) switchTo(addr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
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

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	f.mu.Lock()
	b := f.current
	b.add(1)
	f.mu.Unlock()
	defer b.add(-1)
	f.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), backendKey{}, b)))
}

func (f *front) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = f.srv.Shutdown(ctx)
}
