// Package analytics records the Workers invocations the local edge serves and answers the
// subset of Cloudflare's GraphQL Analytics API (dataset workersInvocationsAdaptive) that a
// deployment analysis uses to read per-version request counts, error counts and latency.
//
// # Aggregation
//
// Invocations are aggregated into one bucket per minute per (script, version, HTTP status,
// outcome). A bucket keeps the request count, the error count, the client-disconnect count and,
// for wall time and CPU time, a log-linear histogram (see hist) with exact counts, sum, minimum
// and maximum. Nothing is sampled: the local edge reports every invocation, so the GraphQL
// `avg { sampleInterval }` is always 1.
//
// Record is on the request path of every proxied request. It takes one of numShards mutexes
// picked at random (so even a single hot script/version does not serialise on one lock) and
// updates the bucket of its minute in that shard. When the first invocation of a new minute
// arrives, the goroutine that records it folds the finished minutes of every shard into one
// compact "sealed" map and drops buckets older than the retention (7 days by default), so the
// memory of a minute is paid once, not once per shard.
//
// # Quantiles
//
// Wall and CPU times are kept in microseconds (Cloudflare's unit for these fields) in a
// log-linear histogram: values below 256 µs are exact; above, each power of two is split into
// 128 equal bins, so a bin is at most 1/128 of its lower bound wide and the bin midpoint that
// a quantile reports is within 1/256 (≈0.4%) of every value in the bin. Quantiles are
// nearest-rank (the smallest recorded value whose cumulative count reaches ceil(q·n)), clamped
// to the exact minimum and maximum, and they merge exactly across buckets, so the P99 of a
// week is as accurate as the P99 of a minute. A histogram costs 8 bytes per occupied bin; the
// latencies of one busy script usually occupy a few hundred bins per minute.
package analytics

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultRetention is how long minute buckets are kept when Options.Retention is zero.
const DefaultRetention = 7 * 24 * time.Hour

// Invocation is one Worker invocation as the edge saw it.
type Invocation struct {
	// Script is the Worker script name; Version is the id of the version that served it.
	Script, Version string
	// Status is the HTTP status of the response; 0 means no response reached the client
	// (the client disconnected), which Cloudflare reports as status "clientDisconnected".
	Status int
	// Thrown is true when the script threw an uncaught exception (the client got Cloudflare's
	// 500 "error code: 1101").
	Thrown bool
	// Internal is true when the Workers runtime itself failed to process the request (no
	// answer from it), which Cloudflare reports as status "internalError".
	Internal bool
	// WallTime is the invocation's wall-clock time.
	WallTime time.Duration
	// CPUTime is the invocation's CPU time; zero means unknown and is left out of the CPU
	// time quantiles (but counts as zero in sums).
	CPUTime time.Duration
	// At is when the invocation happened; zero means the recorder's clock.
	At time.Time
}

// Invocation statuses, the values of the `status` dimension in Cloudflare's schema.
const (
	StatusSuccess              = "success"
	StatusClientDisconnected   = "clientDisconnected"
	StatusScriptThrewException = "scriptThrewException"
	StatusExceededResources    = "exceededResources"
	StatusInternalError        = "internalError"
)

// InvocationStatus is Cloudflare's invocation status of inv. Cloudflare's status says whether
// the Worker ran to a response, not what the response says: an uncaught exception is
// scriptThrewException, a failure of the runtime itself internalError, a client gone before the
// response (status 0) clientDisconnected, and every response the Worker returned is success,
// a 500 included. (exceededResources, a CPU or memory limit, is never reported locally.)
func InvocationStatus(inv Invocation) string {
	switch {
	case inv.Thrown:
		return StatusScriptThrewException
	case inv.Internal:
		return StatusInternalError
	case inv.Status == 0:
		return StatusClientDisconnected
	default:
		return StatusSuccess
	}
}

// IsError reports whether an invocation counts in `errors`: as on Cloudflare, those whose
// status is scriptThrewException, exceededResources or internalError, whatever the HTTP status.
func IsError(inv Invocation) bool {
	switch InvocationStatus(inv) {
	case StatusScriptThrewException, StatusExceededResources, StatusInternalError:
		return true
	}
	return false
}

// Options configures a Recorder.
type Options struct {
	// Now is the clock (retention, invocations without At, query time); nil means time.Now.
	Now func() time.Time
	// Retention is how long minute buckets are kept; zero means DefaultRetention.
	Retention time.Duration
}

const numShards = 32 // a power of two

// Recorder aggregates invocations and serves them over GraphQL. Create it with NewRecorder;
// the zero value also works (time.Now, default retention). It is safe for concurrent use.
type Recorder struct {
	now       func() time.Time
	retention time.Duration

	// lastMinute is the latest minute any invocation was recorded in; horizon is the oldest
	// minute kept (both in Unix minutes), updated when a new minute starts.
	lastMinute atomic.Int64
	horizon    atomic.Int64

	shards [numShards]shard

	sealedMu sync.RWMutex
	sealed   map[bucketKey]*agg
}

type shard struct {
	mu sync.Mutex
	m  map[bucketKey]*agg
	_  [40]byte // keep shards on separate cache lines
}

// bucketKey identifies one minute bucket.
type bucketKey struct {
	minute   int64 // Unix minutes
	script   string
	version  string
	status   int
	thrown   bool
	internal bool
}

// NewRecorder returns an empty recorder.
func NewRecorder(opts Options) *Recorder {
	return &Recorder{now: opts.Now, retention: opts.Retention}
}

func (r *Recorder) clock() time.Time {
	if r.now != nil {
		return r.now()
	}
	return time.Now()
}

func (r *Recorder) keep() time.Duration {
	if r.retention > 0 {
		return r.retention
	}
	return DefaultRetention
}

// cutoffMinute is the oldest minute (Unix minutes) still within the retention at now.
func (r *Recorder) cutoffMinute(now time.Time) int64 {
	return floorDiv(now.Add(-r.keep()).Unix(), 60)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Record adds one invocation. It is cheap and safe to call from many goroutines.
func (r *Recorder) Record(inv Invocation) {
	at := inv.At
	if at.IsZero() {
		at = r.clock()
	}
	minute := floorDiv(at.Unix(), 60)
	if last := r.lastMinute.Load(); minute > last && r.lastMinute.CompareAndSwap(last, minute) {
		r.seal(minute)
	}
	if minute < r.horizon.Load() {
		return // already older than the retention
	}
	k := bucketKey{minute: minute, script: inv.Script, version: inv.Version, status: inv.Status, thrown: inv.Thrown, internal: inv.Internal}
	sh := &r.shards[rand.Uint32()&(numShards-1)]
	sh.mu.Lock()
	a := sh.m[k]
	if a == nil {
		if sh.m == nil {
			sh.m = make(map[bucketKey]*agg)
		}
		a = &agg{}
		sh.m[k] = a
	}
	a.add(inv)
	sh.mu.Unlock()
}

// seal moves the buckets of minutes before current from the shards into the sealed map and
// drops buckets older than the retention.
func (r *Recorder) seal(current int64) {
	horizon := r.cutoffMinute(r.clock())
	r.horizon.Store(horizon)
	var moved []bucketKey
	var aggs []*agg
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		for k, a := range sh.m {
			if k.minute < current {
				moved = append(moved, k)
				aggs = append(aggs, a)
				delete(sh.m, k)
			}
		}
		sh.mu.Unlock()
	}
	r.sealedMu.Lock()
	defer r.sealedMu.Unlock()
	if r.sealed == nil {
		r.sealed = make(map[bucketKey]*agg)
	}
	for i, k := range moved {
		if k.minute < horizon {
			continue
		}
		if s := r.sealed[k]; s != nil {
			s.merge(aggs[i])
		} else {
			aggs[i].compact()
			r.sealed[k] = aggs[i]
		}
	}
	for k := range r.sealed {
		if k.minute < horizon {
			delete(r.sealed, k)
		}
	}
}

// visit calls fn for every bucket within the retention at now, sealed and live (a key may
// be visited more than once: its sealed part and its parts in several shards). fn runs
// under a lock and must not retain a.
func (r *Recorder) visit(now time.Time, fn func(k bucketKey, a *agg)) {
	cutoff := r.cutoffMinute(now)
	r.sealedMu.RLock()
	for k, a := range r.sealed {
		if k.minute >= cutoff {
			fn(k, a)
		}
	}
	r.sealedMu.RUnlock()
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		for k, a := range sh.m {
			if k.minute >= cutoff {
				fn(k, a)
			}
		}
		sh.mu.Unlock()
	}
}

// agg is the aggregate of one bucket (or of a group of buckets in a query).
type agg struct {
	requests    uint64
	errors      uint64
	disconnects uint64
	wall        hist // microseconds
	cpu         hist // microseconds; only invocations with a known CPU time
}

func (a *agg) add(inv Invocation) {
	a.requests++
	if IsError(inv) {
		a.errors++
	}
	if InvocationStatus(inv) == StatusClientDisconnected {
		a.disconnects++
	}
	a.wall.add(micros(inv.WallTime))
	if inv.CPUTime > 0 {
		a.cpu.add(micros(inv.CPUTime))
	}
}

func (a *agg) merge(o *agg) {
	a.requests += o.requests
	a.errors += o.errors
	a.disconnects += o.disconnects
	a.wall.merge(&o.wall)
	a.cpu.merge(&o.cpu)
}

func (a *agg) compact() {
	a.wall.compact()
	a.cpu.compact()
}

func micros(d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	return uint64(d / time.Microsecond)
}

// hist is a log-linear histogram of non-negative integers (microseconds): exact below 256,
// then 128 bins per power of two. bins is sorted by index.
type hist struct {
	bins []bin
	n    uint64 // samples
	sum  uint64
	min  uint64
	max  uint64
}

type bin struct {
	idx uint16
	n   uint32
}

const (
	subBits  = 7
	subCount = 1 << subBits // bins per power of two
	// maxBinIndex is the index of the largest uint64.
	maxBinIndex = subCount*(64-subBits) + subCount - 1
)

// binIndex returns the histogram bin of v.
func binIndex(v uint64) uint16 {
	if v < 2*subCount {
		return uint16(v)
	}
	shift := bits.Len64(v) - (subBits + 1)
	m := v >> uint(shift) // in [128, 256)
	return uint16(subCount*(shift+1) + int(m-subCount))
}

// binLow and binWidth describe the values of bin idx: [low, low+width).
func binLow(idx uint16) (low, width uint64) {
	if idx < 2*subCount {
		return uint64(idx), 1
	}
	shift := uint(idx/subCount) - 1
	m := uint64(subCount + idx%subCount)
	return m << shift, 1 << shift
}

// binValue is the value a quantile in bin idx reports: the bin's midpoint.
func binValue(idx uint16) float64 {
	low, width := binLow(idx)
	return float64(low) + float64(width-1)/2
}

func (h *hist) add(v uint64) {
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += v
	idx := binIndex(v)
	// Most samples land in an existing bin; search from the sorted slice.
	i := sort.Search(len(h.bins), func(i int) bool { return h.bins[i].idx >= idx })
	if i < len(h.bins) && h.bins[i].idx == idx {
		h.bins[i].n++
		return
	}
	h.bins = append(h.bins, bin{})
	copy(h.bins[i+1:], h.bins[i:])
	h.bins[i] = bin{idx: idx, n: 1}
}

func (h *hist) merge(o *hist) {
	if o.n == 0 {
		return
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
	if len(h.bins) == 0 {
		h.bins = append([]bin(nil), o.bins...)
		return
	}
	out := make([]bin, 0, len(h.bins)+len(o.bins))
	i, j := 0, 0
	for i < len(h.bins) && j < len(o.bins) {
		switch a, b := h.bins[i], o.bins[j]; {
		case a.idx < b.idx:
			out = append(out, a)
			i++
		case a.idx > b.idx:
			out = append(out, b)
			j++
		default:
			out = append(out, bin{idx: a.idx, n: a.n + b.n})
			i++
			j++
		}
	}
	out = append(out, h.bins[i:]...)
	out = append(out, o.bins[j:]...)
	h.bins = out
}

// compact trims spare capacity (sealed buckets live for days).
func (h *hist) compact() {
	if cap(h.bins) > len(h.bins) {
		h.bins = append([]bin(nil), h.bins...)
	}
}

// quantile returns the nearest-rank q-quantile (0 when empty), within 0.4% of the exact one.
func (h *hist) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	if rank < 1 {
		rank = 1
	}
	if rank > h.n {
		rank = h.n
	}
	var c uint64
	for _, b := range h.bins {
		c += uint64(b.n)
		if c >= rank {
			v := binValue(b.idx)
			return math.Min(math.Max(v, float64(h.min)), float64(h.max))
		}
	}
	return float64(h.max)
}

// Snapshot format, version 1: JSON, one entry per bucket, histograms as [index, count] pairs.
const snapshotVersion = 1

type snapshot struct {
	Version int              `json:"version"`
	Buckets []snapshotBucket `json:"buckets"`
}

type snapshotBucket struct {
	Minute      int64        `json:"minute"` // Unix minutes
	Script      string       `json:"script"`
	Version     string       `json:"scriptVersion"`
	Status      int          `json:"status"`
	Thrown      bool         `json:"thrown,omitempty"`
	Internal    bool         `json:"internal,omitempty"`
	Requests    uint64       `json:"requests"`
	Errors      uint64       `json:"errors"`
	Disconnects uint64       `json:"clientDisconnects,omitempty"`
	Wall        snapshotHist `json:"wallTimeUs"`
	CPU         snapshotHist `json:"cpuTimeUs"`
}

type snapshotHist struct {
	N    uint64      `json:"n"`
	Sum  uint64      `json:"sum"`
	Min  uint64      `json:"min"`
	Max  uint64      `json:"max"`
	Bins [][2]uint64 `json:"bins,omitempty"`
}

func toSnapshotHist(h *hist) snapshotHist {
	s := snapshotHist{N: h.n, Sum: h.sum, Min: h.min, Max: h.max}
	for _, b := range h.bins {
		s.Bins = append(s.Bins, [2]uint64{uint64(b.idx), uint64(b.n)})
	}
	return s
}

func fromSnapshotHist(s snapshotHist) (hist, error) {
	h := hist{n: s.N, sum: s.Sum, min: s.Min, max: s.Max}
	var total uint64
	for i, p := range s.Bins {
		if p[0] > maxBinIndex || p[1] == 0 || p[1] > math.MaxUint32 {
			return hist{}, fmt.Errorf("invalid histogram bin %v", p)
		}
		if i > 0 && p[0] <= s.Bins[i-1][0] {
			return hist{}, errors.New("histogram bins are not sorted")
		}
		total += p[1]
		h.bins = append(h.bins, bin{idx: uint16(p[0]), n: uint32(p[1])})
	}
	if total != s.N || (s.N > 0 && s.Min > s.Max) {
		return hist{}, errors.New("histogram counts do not add up")
	}
	return h, nil
}

// Snapshot serialises every bucket within the retention, for persistence across restarts.
func (r *Recorder) Snapshot() ([]byte, error) {
	merged := map[bucketKey]*agg{}
	r.visit(r.clock(), func(k bucketKey, a *agg) {
		m := merged[k]
		if m == nil {
			m = &agg{}
			merged[k] = m
		}
		m.merge(a)
	})
	keys := make([]bucketKey, 0, len(merged))
	for k := range merged {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return lessKey(keys[i], keys[j]) })
	s := snapshot{Version: snapshotVersion, Buckets: make([]snapshotBucket, 0, len(keys))}
	for _, k := range keys {
		a := merged[k]
		s.Buckets = append(s.Buckets, snapshotBucket{
			Minute: k.minute, Script: k.script, Version: k.version, Status: k.status, Thrown: k.thrown, Internal: k.internal,
			Requests: a.requests, Errors: a.errors, Disconnects: a.disconnects,
			Wall: toSnapshotHist(&a.wall), CPU: toSnapshotHist(&a.cpu),
		})
	}
	return json.Marshal(s)
}

func lessKey(a, b bucketKey) bool {
	if a.minute != b.minute {
		return a.minute < b.minute
	}
	if a.script != b.script {
		return a.script < b.script
	}
	if a.version != b.version {
		return a.version < b.version
	}
	if a.status != b.status {
		return a.status < b.status
	}
	if a.thrown != b.thrown {
		return !a.thrown
	}
	return !a.internal && b.internal
}

// Restore merges a Snapshot into the recorder (adding to what it already holds, so it can be
// called after traffic has started). Buckets older than the retention are dropped. On error
// nothing is merged.
func (r *Recorder) Restore(data []byte) error {
	var s snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("analytics snapshot: %w", err)
	}
	if s.Version != snapshotVersion {
		return fmt.Errorf("analytics snapshot: unsupported version %d", s.Version)
	}
	restored := make(map[bucketKey]*agg, len(s.Buckets))
	for i, b := range s.Buckets {
		wall, err := fromSnapshotHist(b.Wall)
		if err != nil {
			return fmt.Errorf("analytics snapshot: bucket %d wall time: %w", i, err)
		}
		cpu, err := fromSnapshotHist(b.CPU)
		if err != nil {
			return fmt.Errorf("analytics snapshot: bucket %d cpu time: %w", i, err)
		}
		if b.Errors > b.Requests || b.Disconnects > b.Requests || wall.n != b.Requests || cpu.n > b.Requests {
			return fmt.Errorf("analytics snapshot: bucket %d counts are inconsistent", i)
		}
		k := bucketKey{minute: b.Minute, script: b.Script, version: b.Version, status: b.Status, thrown: b.Thrown, internal: b.Internal}
		a := &agg{requests: b.Requests, errors: b.Errors, disconnects: b.Disconnects, wall: wall, cpu: cpu}
		if m := restored[k]; m != nil {
			m.merge(a)
		} else {
			restored[k] = a
		}
	}
	cutoff := r.cutoffMinute(r.clock())
	r.sealedMu.Lock()
	defer r.sealedMu.Unlock()
	if r.sealed == nil {
		r.sealed = make(map[bucketKey]*agg)
	}
	for k, a := range restored {
		if k.minute < cutoff {
			continue
		}
		if m := r.sealed[k]; m != nil {
			m.merge(a)
		} else {
			r.sealed[k] = a
		}
	}
	return nil
}
