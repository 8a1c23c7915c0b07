package api

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
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
	// FaultDrop closes the connection without writing a response; the request never reaches
	// the handler.
	FaultDrop
	// FaultDropAfterCommit serves the request (a write is committed), then closes the
	// connection without writing the response: the client cannot know the outcome.
	FaultDropAfterCommit
	// FaultTruncate serves the request (a write is committed), then sends the status, headers
	// and a Content-Length for the whole body but only half of it before closing the
	// connection: the client reads an unexpected EOF.
	FaultTruncate
)

// afterCommit reports whether the fault lets the handler run first.
func (k FaultKind) afterCommit() bool { return k == FaultDropAfterCommit || k == FaultTruncate }

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

// pick returns the total delay of the latency faults that hit r and the first other fault
// that hits it (nil when none), consuming their Times. Latency combines with the others, so
// a slow API can also fail.
func (f *faults) pick(r *http.Request) (time.Duration, *Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var delay time.Duration
	var picked *Fault
	for _, fs := range f.active {
		if picked != nil && fs.Kind != FaultLatency {
			continue
		}
		if !fs.matches(r, f.rng) {
			continue
		}
		fs.hits++
		f.hits++
		if fs.Kind == FaultLatency {
			delay += fs.Latency
			continue
		}
		fault := fs.Fault
		picked = &fault
	}
	return delay, picked
}

// hits_ reports whether the fault applies to r (before counting the hit).
func (fs *faultState) matches(r *http.Request, rng *rand.Rand) bool {
	if fs.Method != "" && fs.Method != r.Method {
		return false
	}
	if fs.PathContains != "" && !strings.Contains(r.URL.EscapedPath(), fs.PathContains) {
		return false
	}
	if fs.Times > 0 && fs.hits >= fs.Times {
		return false
	}
	target := r.Method + " " + r.URL.Path
	fs.seen[target]++
	if fs.Every > 1 && fs.seen[target]%fs.Every != 0 {
		return false
	}
	return fs.Rate <= 0 || fs.Rate >= 1 || rng.Float64() < fs.Rate
}

// delay waits d or until the request is cancelled.
func delay(r *http.Request, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

// apply performs the fault. It returns true when the request was answered (or dropped) and
// must not reach the handler.
func (fault *Fault) apply(w http.ResponseWriter) bool {
	switch fault.Kind {
	case FaultLatency:
		return false
	case FaultRateLimit:
		if fault.RetryAfter != "" {
			w.Header().Set("Retry-After", fault.RetryAfter)
		}
		WriteError(w, Errorf(http.StatusTooManyRequests, 971, "Please wait and consider throttling your request speed"))
	case FaultServerError:
		status := fault.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		WriteError(w, Errorf(status, 10013, "An unknown error has occurred"))
	case FaultDrop:
		dropConnection(w)
	}
	return true
}

// dropConnection closes the client's connection without a (further) response.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// bufferedResponse captures a handler's response so that an after-commit fault can decide
// what of it reaches the client.
type bufferedResponse struct {
	header http.Header
	status int
	body   []byte
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	b.body = append(b.body, p...)
	return len(p), nil
}

// serveThenFail runs serve into a buffer (so the API commits what it commits), then fails the
// delivery of the response as the fault says.
func (fault *Fault) serveThenFail(w http.ResponseWriter, serve func(http.ResponseWriter)) {
	buf := &bufferedResponse{header: http.Header{}}
	serve(buf)
	if fault.Kind == FaultDropAfterCommit {
		dropConnection(w)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	defer func() { _ = conn.Close() }()
	status := buf.status
	if status == 0 {
		status = http.StatusOK
	}
	buf.header.Set("Content-Length", strconv.Itoa(len(buf.body)))
	buf.header.Del("Transfer-Encoding")
	fmt.Fprintf(rw, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	_ = buf.header.Write(rw)
	_, _ = rw.WriteString("\r\n")
	_, _ = rw.Write(buf.body[:len(buf.body)/2])
	_ = rw.Flush()
}

// copyTo sends the captured response to w.
func (b *bufferedResponse) copyTo(w http.ResponseWriter) {
	for k, vs := range b.header {
		w.Header()[k] = vs
	}
	status := b.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(b.body)
}

// FaultSpecHelp documents ParseFaults' syntax (the `local --faults` flag).
const FaultSpecHelp = `comma-separated KIND=VALUE: 429=RATE (rate limited, Retry-After: 1), 5xx=RATE (500),
drop=RATE (connection closed before the API acts), drop-after-commit=RATE (the write is
made, then the connection closes without an answer), truncate=RATE (the write is made, then
half the answer arrives), latency=DURATION (every request is delayed); RATE is the share of
requests hit, from 0 to 1. Example: 429=0.1,5xx=0.1,drop=0.05,truncate=0.05,latency=50ms`

// ParseFaults reads a fault specification such as
// "429=0.1,5xx=0.1,drop=0.05,truncate=0.05,latency=50ms" (see FaultSpecHelp) into faults
// that InjectFault takes. An empty spec is no faults.
func ParseFaults(spec string) ([]Fault, error) {
	var out []Fault
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		kind, value, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("fault %q: want KIND=VALUE (%s)", item, FaultSpecHelp)
		}
		kind, value = strings.TrimSpace(kind), strings.TrimSpace(value)
		if kind == "latency" {
			d, err := time.ParseDuration(value)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("fault %q: latency takes a positive duration such as 50ms", item)
			}
			out = append(out, Fault{Kind: FaultLatency, Latency: d})
			continue
		}
		rate, err := strconv.ParseFloat(value, 64)
		if err != nil || rate <= 0 || rate > 1 {
			return nil, fmt.Errorf("fault %q: the rate must be a number greater than 0 and at most 1", item)
		}
		f := Fault{Rate: rate}
		switch kind {
		case "429":
			f.Kind, f.RetryAfter = FaultRateLimit, "1"
		case "5xx":
			f.Kind = FaultServerError
		case "drop":
			f.Kind = FaultDrop
		case "drop-after-commit":
			f.Kind = FaultDropAfterCommit
		case "truncate":
			f.Kind = FaultTruncate
		default:
			return nil, fmt.Errorf("fault %q: unknown kind %q (use 429, 5xx, drop, drop-after-commit, truncate or latency)", item, kind)
		}
		out = append(out, f)
	}
	return out, nil
}
