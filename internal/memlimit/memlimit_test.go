package memlimit

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestLimit(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int64
	}{
		{0, Floor},
		{10 << 20, Floor},
		{12 << 20, Floor},                 // 2.5 × 12 MiB = 30 MiB, the floor itself
		{16 << 20, 40 << 20},              // above Floor/Headroom the limit follows the heap
		{400 << 20, 1000 << 20},           // a large configuration is never squeezed
		{1 << 62, 1<<63 - 1 /* capped */}, // no overflow
	} {
		if got := Limit(c.live); got != c.want {
			t.Errorf("Limit(%d MiB) = %d MiB, want %d MiB", c.live>>20, got>>20, c.want>>20)
		}
	}
}

// keepLimit restores the process's memory limit after a test.
func keepLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
}

func TestStartFollowsTheLiveHeap(t *testing.T) {
	keepLimit(t)
	t.Setenv("GOMEMLIMIT", "")
	t.Setenv("GOGC", "")
	stop := Start()
	t.Cleanup(stop)
	if got := debug.SetMemoryLimit(-1); got < Floor {
		t.Fatalf("limit after Start = %d, want at least the floor %d", got, Floor)
	}

	// A live heap well above the floor raises the limit after the next collection.
	ballast := make([][]byte, 64)
	for i := range ballast {
		ballast[i] = make([]byte, 1<<20)
	}
	want := int64(Headroom * float64(64<<20))
	deadline := time.Now().Add(30 * time.Second)
	for debug.SetMemoryLimit(-1) < want {
		if time.Now().After(deadline) {
			t.Fatalf("limit %d MiB, want at least %d MiB once 64 MiB are live", debug.SetMemoryLimit(-1)>>20, want>>20)
		}
		runtime.GC()
		runtime.Gosched() // the finalizer runs on its own goroutine after the collection
	}
	runtime.KeepAlive(ballast)
}

func TestStartLeavesTheUsersSettings(t *testing.T) {
	for _, env := range []string{"GOMEMLIMIT", "GOGC"} {
		t.Run(env, func(t *testing.T) {
			keepLimit(t)
			t.Setenv("GOMEMLIMIT", "")
			t.Setenv("GOGC", "")
			t.Setenv(env, "100")
			const mine = 1 << 40
			debug.SetMemoryLimit(mine)
			stop := Start()
			defer stop()
			if got := debug.SetMemoryLimit(-1); got != mine {
				t.Fatalf("with %s set, Start changed the limit to %d", env, got)
			}
		})
	}
}
