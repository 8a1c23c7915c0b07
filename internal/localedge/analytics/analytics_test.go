package analytics

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func newTestRecorder() (*Recorder, *clock) {
	c := &clock{t: t0}
	return NewRecorder(Options{Now: c.Now}), c
}

// total merges every bucket matching keep.
func total(r *Recorder, keep func(bucketKey) bool) *agg {
	out := &agg{}
	r.visit(r.clock(), func(k bucketKey, a *agg) {
		if keep == nil || keep(k) {
			out.merge(a)
		}
	})
	return out
}

func TestBinIndexBounds(t *testing.T) {
	values := []uint64{0, 1, 127, 128, 255, 256, 257, 511, 512, 1000, 12345, 1 << 20, 999_999_999, math.MaxUint32, math.MaxUint64}
	prev := uint16(0)
	for i, v := range values {
		idx := binIndex(v)
		if idx > maxBinIndex {
			t.Fatalf("binIndex(%d) = %d > max %d", v, idx, maxBinIndex)
		}
		if i > 0 && idx < prev {
			t.Fatalf("binIndex not monotonic at %d", v)
		}
		prev = idx
		low, width := binLow(idx)
		if v < low || v-low >= width {
			t.Fatalf("value %d outside its bin [%d, %d+%d)", v, low, low, width)
		}
		if v >= 256 {
			if rel := math.Abs(binValue(idx)-float64(v)) / float64(v); rel > 1.0/256 {
				t.Fatalf("value %d reported as %v: relative error %v", v, binValue(idx), rel)
			}
		} else if binValue(idx) != float64(v) {
			t.Fatalf("small value %d not exact: %v", v, binValue(idx))
		}
	}
}

func TestCountsAndErrors(t *testing.T) {
	r, _ := newTestRecorder()
	// Errors are what Cloudflare counts: exceptions and runtime failures, not the 5xx
	// responses a Worker returns (those are successes).
	cases := []struct {
		inv Invocation
		n   int
	}{
		{Invocation{Status: 200}, 50}, {Invocation{Status: 404}, 7}, {Invocation{Status: 500}, 3}, {Invocation{Status: 503}, 2},
		{Invocation{Status: 500, Thrown: true}, 4}, {Invocation{Status: 502, Internal: true}, 1}, {Invocation{Status: 0}, 5},
	}
	for _, c := range cases {
		for i := 0; i < c.n; i++ {
			inv := c.inv
			inv.Script, inv.Version, inv.WallTime, inv.At = "api", "v1", time.Millisecond, t0
			r.Record(inv)
		}
	}
	a := total(r, nil)
	if a.requests != 72 || a.errors != 4+1 || a.disconnects != 5 {
		t.Fatalf("requests=%d errors=%d disconnects=%d, want 72 5 5", a.requests, a.errors, a.disconnects)
	}
	if a.wall.sum != 72*1000 {
		t.Fatalf("wall sum = %d µs, want %d", a.wall.sum, 72*1000)
	}
	if a.cpu.n != 0 {
		t.Fatalf("cpu samples = %d, want 0 (CPU time unknown)", a.cpu.n)
	}
	for _, c := range []struct {
		inv   Invocation
		want  string
		error bool
	}{
		{Invocation{Status: 200}, "success", false}, {Invocation{Status: 404}, "success", false}, {Invocation{Status: 500}, "success", false},
		{Invocation{Status: 500, Thrown: true}, "scriptThrewException", true}, {Invocation{Status: 502, Internal: true}, "internalError", true},
		{Invocation{Status: 0}, "clientDisconnected", false}, {Invocation{Status: 0, Thrown: true}, "scriptThrewException", true},
	} {
		if got := InvocationStatus(c.inv); got != c.want || IsError(c.inv) != c.error {
			t.Errorf("InvocationStatus(%+v) = %s (error %v), want %s (error %v)", c.inv, got, IsError(c.inv), c.want, c.error)
		}
	}
}

// exactQuantile is the nearest-rank quantile of sorted values.
func exactQuantile(sorted []uint64, q float64) float64 {
	rank := int(math.Ceil(q * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	return float64(sorted[rank-1])
}

func TestQuantilesKnownDistributions(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dists := map[string]func(i int) time.Duration{
		"uniform 0.1ms..1s": func(i int) time.Duration { return time.Duration(100+i*100) * time.Microsecond },
		"exponential mean 20ms": func(int) time.Duration {
			return time.Duration(rng.ExpFloat64() * float64(20*time.Millisecond))
		},
		"bimodal 2ms / 800ms": func(i int) time.Duration {
			if i%10 == 0 {
				return 800*time.Millisecond + time.Duration(rng.IntN(50_000))*time.Microsecond
			}
			return 2*time.Millisecond + time.Duration(rng.IntN(500))*time.Microsecond
		},
	}
	for name, gen := range dists {
		t.Run(name, func(t *testing.T) {
			r, _ := newTestRecorder()
			var values []uint64
			for i := 0; i < 10_000; i++ {
				d := gen(i)
				values = append(values, micros(d))
				// Spread over 10 minutes so quantiles merge across buckets.
				r.Record(Invocation{Script: "s", Version: "v", Status: 200, WallTime: d, CPUTime: d / 2, At: t0.Add(time.Duration(i%10) * time.Minute)})
			}
			sort.Slice(values, func(i, j int) bool { return values[i] < values[j] })
			a := total(r, nil)
			for _, q := range []float64{0.25, 0.5, 0.75, 0.9, 0.99, 0.999} {
				want := exactQuantile(values, q)
				got := a.wall.quantile(q)
				if math.Abs(got-want) > want*0.01+0.5 {
					t.Errorf("P%v = %v, want %v ±1%%", q*100, got, want)
				}
			}
			if a.wall.min != values[0] || a.wall.max != values[len(values)-1] {
				t.Errorf("min/max = %d/%d, want %d/%d", a.wall.min, a.wall.max, values[0], values[len(values)-1])
			}
		})
	}
}

func TestRetention(t *testing.T) {
	r, c := newTestRecorder()
	r.Record(Invocation{Script: "s", Version: "old", Status: 200, At: t0})
	r.Record(Invocation{Script: "s", Version: "mid", Status: 200, At: t0.Add(3 * 24 * time.Hour)})
	c.Set(t0.Add(8 * 24 * time.Hour))
	// The first invocation of a new minute seals and prunes.
	r.Record(Invocation{Script: "s", Version: "new", Status: 200})
	// Older than the retention: dropped on arrival.
	r.Record(Invocation{Script: "s", Version: "ancient", Status: 200, At: t0.Add(-time.Hour)})
	versions := map[string]uint64{}
	r.visit(r.clock(), func(k bucketKey, a *agg) { versions[k.version] += a.requests })
	if len(versions) != 2 || versions["mid"] != 1 || versions["new"] != 1 {
		t.Fatalf("versions kept = %v, want mid and new", versions)
	}
	r.sealedMu.RLock()
	for k := range r.sealed {
		if k.version == "old" {
			t.Errorf("bucket older than retention still in memory")
		}
	}
	r.sealedMu.RUnlock()
}

func TestSealMovesFinishedMinutes(t *testing.T) {
	r, _ := newTestRecorder()
	for i := 0; i < 100; i++ {
		r.Record(Invocation{Script: "s", Version: "v", Status: 200, WallTime: time.Duration(i) * time.Millisecond, At: t0})
	}
	r.Record(Invocation{Script: "s", Version: "v", Status: 200, At: t0.Add(time.Minute)})
	live := 0
	for i := range r.shards {
		for k := range r.shards[i].m {
			if k.minute == t0.Unix()/60 {
				live++
			}
		}
	}
	if live != 0 {
		t.Fatalf("%d live buckets of a finished minute, want 0", live)
	}
	sealed := r.sealed[bucketKey{minute: t0.Unix() / 60, script: "s", version: "v", status: 200}]
	if sealed == nil || sealed.requests != 100 || sealed.wall.n != 100 {
		t.Fatalf("sealed bucket = %+v, want 100 requests", sealed)
	}
}

func TestSnapshotRestoreRoundTrip(t *testing.T) {
	r, c := newTestRecorder()
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 2000; i++ {
		r.Record(Invocation{
			Script: fmt.Sprintf("s%d", i%3), Version: fmt.Sprintf("v%d", i%2),
			Status: []int{200, 200, 200, 500, 0}[i%5], Thrown: i%17 == 0, Internal: i%23 == 0,
			WallTime: time.Duration(rng.IntN(1_000_000)) * time.Microsecond,
			CPUTime:  time.Duration(rng.IntN(10_000)) * time.Microsecond,
			At:       t0.Add(time.Duration(i%30) * time.Minute),
		})
	}
	c.Set(t0.Add(time.Hour))
	snap, err := r.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	r2 := NewRecorder(Options{Now: c.Now})
	if err := r2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	snap2, err := r2.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snap, snap2) {
		t.Fatalf("snapshot changed across restore:\n%s\n%s", snap, snap2)
	}
	a, b := total(r, nil), total(r2, nil)
	if a.requests != b.requests || a.errors != b.errors || a.wall.quantile(0.99) != b.wall.quantile(0.99) || a.cpu.quantile(0.5) != b.cpu.quantile(0.5) {
		t.Fatalf("aggregates differ after restore")
	}
	// Restore merges: restoring twice doubles the counts.
	if err := r2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if got := total(r2, nil).requests; got != 2*a.requests {
		t.Fatalf("after a second restore requests = %d, want %d", got, 2*a.requests)
	}
	// Restoring after the retention keeps nothing.
	c.Set(t0.Add(30 * 24 * time.Hour))
	r3 := NewRecorder(Options{Now: c.Now})
	if err := r3.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if got := total(r3, nil).requests; got != 0 {
		t.Fatalf("expired snapshot restored %d requests", got)
	}
}

func TestRestoreRejectsBadSnapshots(t *testing.T) {
	for name, data := range map[string]string{
		"not json":         `{`,
		"wrong version":    `{"version":2,"buckets":[]}`,
		"counts mismatch":  `{"version":1,"buckets":[{"minute":1,"script":"s","scriptVersion":"v","status":200,"requests":2,"errors":0,"wallTimeUs":{"n":1,"sum":5,"min":5,"max":5,"bins":[[5,1]]},"cpuTimeUs":{"n":0,"sum":0,"min":0,"max":0}}]}`,
		"unsorted bins":    `{"version":1,"buckets":[{"minute":1,"script":"s","scriptVersion":"v","status":200,"requests":2,"errors":0,"wallTimeUs":{"n":2,"sum":10,"min":4,"max":6,"bins":[[6,1],[4,1]]},"cpuTimeUs":{"n":0,"sum":0,"min":0,"max":0}}]}`,
		"bin out of range": `{"version":1,"buckets":[{"minute":1,"script":"s","scriptVersion":"v","status":200,"requests":1,"errors":0,"wallTimeUs":{"n":1,"sum":1,"min":1,"max":1,"bins":[[99999,1]]},"cpuTimeUs":{"n":0,"sum":0,"min":0,"max":0}}]}`,
	} {
		r, _ := newTestRecorder()
		if err := r.Restore([]byte(data)); err == nil {
			t.Errorf("%s: Restore accepted a bad snapshot", name)
		}
	}
}

func TestRecordConcurrent(t *testing.T) {
	r, _ := newTestRecorder()
	const goroutines, each = 16, 2000
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				r.Record(Invocation{Script: "s", Version: fmt.Sprint(g % 2), Status: 200 + 300*(i%2), Thrown: i%2 == 1, WallTime: time.Millisecond, At: t0.Add(time.Duration(i%5) * time.Minute)})
			}
		}(g)
	}
	// Concurrent readers.
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				_ = total(r, nil)
				_, _ = r.Snapshot()
			}
		}()
	}
	wg.Wait()
	a := total(r, nil)
	if a.requests != goroutines*each || a.errors != goroutines*each/2 {
		t.Fatalf("requests=%d errors=%d, want %d %d", a.requests, a.errors, goroutines*each, goroutines*each/2)
	}
}

func TestZeroValueRecorder(t *testing.T) {
	var r Recorder
	r.Record(Invocation{Script: "s", Version: "v", Status: 200, WallTime: time.Millisecond})
	if got := total(&r, nil).requests; got != 1 {
		t.Fatalf("requests = %d, want 1", got)
	}
}

func BenchmarkRecord(b *testing.B) {
	r, _ := newTestRecorder()
	versions := []string{"11111111-aaaa", "22222222-bbbb"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			r.Record(Invocation{
				Script: "api", Version: versions[i&1], Status: 200,
				WallTime: time.Duration(1000+i%50_000) * time.Microsecond,
				CPUTime:  time.Duration(100+i%5000) * time.Microsecond,
				At:       t0.Add(time.Duration(i/100_000) * time.Minute),
			})
			i++
		}
	})
}
