// Package memlimit gives the provider process a soft memory limit that follows its live heap.
//
// Terraform runs the provider with up to ten requests at once, and with the runtime's defaults
// the memory a plan has freed stays resident until the scavenger returns it in its own time: a
// no-op plan of 100 services peaked about 5 MiB above what a limit just over its working set
// gives, at the same CPU. A fixed limit would be wrong for a large configuration, whose live
// heap can outgrow it and would then make the collector run all the time; so after every
// collection the limit is raised to a multiple of the live heap, which GOGC's own pacing stays
// under, and it only ever trims the memory a small heap leaves lying around.
package memlimit

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

const (
	// Floor is the limit for a small live heap: just above what a no-op plan of 100 services
	// needs with the collector at its default pace (measured: make bench).
	Floor = 30 << 20
	// Headroom is the limit as a multiple of the live heap once that is above Floor/Headroom.
	// GOGC=100 lets the heap grow to twice the live heap; the rest is the runtime's own memory
	// (stacks, metadata, buffers) so that the limit never brings a collection forward.
	Headroom = 2.5
)

// Limit is the soft memory limit for a live heap of live bytes.
func Limit(live uint64) int64 {
	grown := Headroom * float64(live)
	switch {
	case grown >= math.MaxInt64:
		return math.MaxInt64
	case grown > Floor:
		return int64(grown)
	}
	return Floor
}

// Start sets the limit and keeps it following the live heap after every collection. It does
// nothing when GOMEMLIMIT or GOGC is set: the user's choice of how the collector runs stands.
// The returned function stops following (the last limit stays).
func Start() (stop func()) {
	if os.Getenv("GOMEMLIMIT") != "" || os.Getenv("GOGC") != "" {
		return func() {}
	}
	var stopped atomic.Bool
	follow(&stopped)
	return func() { stopped.Store(true) }
}

// follow sets the limit for the live heap now and again after the next collection: a
// finalizer runs once per collection that finds its object unreachable, and re-arms itself.
func follow(stopped *atomic.Bool) {
	if stopped.Load() {
		return
	}
	debug.SetMemoryLimit(Limit(liveHeap()))
	// A pointer keeps the object out of the tiny allocator, whose blocks may never be freed.
	sentinel := &struct{ next *int }{}
	runtime.SetFinalizer(sentinel, func(*struct{ next *int }) { follow(stopped) })
}

// liveHeap is the heap the last collection marked live (0 before the first one).
func liveHeap() uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return sample[0].Value.Uint64()
}
