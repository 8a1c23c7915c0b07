package localedge

import (
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// FaultKind is what an injected fault does to a matching request.
type FaultKind int

const (
	// FaultLatency delays the request by Fault.Latency, then serves it normally.
	FaultLatency FaultKind = iota
	// FaultRateLimit answers 429 with Cloudflare's code 971 and a Retry-After header.
	FaultRateLimit
	// FaultServerError answers Fault.Status (default 500) with code 10013.
	FaultServerError
	// FaultDrop closes the connection without writing a response.
	FaultDrop
)

// Fault describes a failure to inject into matching API requests. The zero value of each
// matcher matches everything.
type Fault struct {
	Kind FaultKind
	// Method restricts the fault to one HTTP method.
	Method string
	// PathContains restricts the fault to requests whose escaped path contains it.
	PathContains string
	// Rate is the probability (0, 1] that a matching request is hit; 0 means always.
	Rate float64
	// Times limits the fault to the first Times hits; 0 means no limit.
	Times int
	// Every hits only every Every-th matching request to the same method and path (2 = every
	// other one); 0 or 1 means every one. Counting per method and path makes the pattern
	// deterministic even under concurrent clients, so a retrying client provably converges.
	Every int
	// Latency is the delay of a FaultLatency.
	Latency time.Duration
	// RetryAfter is the Retry-After header of a FaultRateLimit (seconds); "" sends none.
	RetryAfter string
	// Status is the HTTP status of a FaultServerError; 0 means 500.
	Status int
}

type faultState struct {
	Fault
	seen map[string]int // matching requests per method and path
	hits int            // requests the fault was applied to
}

// faults is the injector: the active faults and a seeded random source, so a test that uses
// rates is repeatable.
type faults struct {
	mu     sync.Mutex
	active []*faultState
	rng    *rand.Rand
	hits   int
}

func newFaults(seed uint64) *faults {
	return &faults{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (f *faults) add(fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.active = append(f.active, &faultState{Fault: fault, seen: map[string]int{}})
}

func (f *faults) hitCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits
}

func (f *faults) clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.active = nil
}

// pick returns the first fault that hits r, consuming one of its Times.
func (f *faults) pick(r *http.Request) *Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fs := range f.active {
		if fs.Method != "" && fs.Method != r.Method {
			continue
		}
		if fs.PathContains != "" && !strings.Contains(r.URL.EscapedPath(), fs.PathContains) {
			continue
		}
		if fs.Times > 0 && fs.hits >= fs.Times {
			continue
		}
		target := r.Method + " " + r.URL.Path
		fs.seen[target]++
		if fs.Every > 1 && fs.seen[target]%fs.Every != 0 {
			continue
		}
		if fs.Rate > 0 && fs.Rate < 1 && f.rng.Float64() >= fs.Rate {
			continue
		}
		fs.hits++
		f.hits++
		fault := fs.Fault
		return &fault
	}
	return nil
}

// apply performs the fault. It returns true when the request was answered (or dropped) and
// must not reach the handler.
func (fault *Fault) apply(w http.ResponseWriter, r *http.Request) bool {
	switch fault.Kind {
	case FaultLatency:
		select {
		case <-time.After(fault.Latency):
		case <-r.Context().Done():
		}
		return false
	case FaultRateLimit:
		if fault.RetryAfter != "" {
			w.Header().Set("Retry-After", fault.RetryAfter)
		}
		writeError(w, errorf(http.StatusTooManyRequests, 971, "Please wait and consider throttling your request speed"))
	case FaultServerError:
		status := fault.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		writeError(w, errorf(status, 10013, "An unknown error has occurred"))
	case FaultDrop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler)
	}
	return true
}
