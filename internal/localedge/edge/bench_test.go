package edge_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/runtime"
)

// benchLoad sends n GET requests from `clients` goroutines to url with the given headers and
// returns the latencies; any failure fails the benchmark.
func benchLoad(b *testing.B, url string, header http.Header, host string, n, clients int) []time.Duration {
	b.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	latencies := make([]time.Duration, n)
	var wg sync.WaitGroup
	var failed sync.Once
	var failure error
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	for range clients {
		wg.Go(func() {
			for i := range next {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				req.Header = header.Clone()
				req.Host = host
				start := time.Now()
				res, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, res.Body)
					_ = res.Body.Close()
					if err == nil && res.StatusCode != http.StatusOK {
						err = fmt.Errorf("HTTP %d", res.StatusCode)
					}
				}
				if err != nil {
					failed.Do(func() { failure = err })
				}
				latencies[i] = time.Since(start)
			}
		})
	}
	wg.Wait()
	if failure != nil {
		b.Fatal(failure)
	}
	return latencies
}

func reportLatencies(b *testing.B, latencies []time.Duration, elapsed time.Duration) {
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkEdgeThroughput compares a trivial Worker through the edge (host matching, proxy,
// analytics) with the same Worker asked from Miniflare directly: the ratio is the edge's cost.
func BenchmarkEdgeThroughput(b *testing.B) {
	e := newEnv(b)
	e.deploy(b, "bench", "ok", true)
	const requests, clients = 2000, 8
	b.Run("through_edge", func(b *testing.B) {
		for b.Loop() {
			start := time.Now()
			reportLatencies(b, benchLoad(b, e.EdgeURL+"/", http.Header{}, "bench.localhost", requests, clients), time.Since(start))
		}
	})
	b.Run("miniflare_direct", func(b *testing.B) {
		for b.Loop() {
			start := time.Now()
			header := http.Header{runtime.ScriptHeader: {"bench"}}
			reportLatencies(b, benchLoad(b, "http://"+e.Edge.RuntimeAddress()+"/", header, "bench.localhost", requests, clients), time.Since(start))
		}
	})
}

// BenchmarkDeployToServe measures a deploy's API call, which returns once the new version
// serves (validation in the runtime, the store write, the runtime's apply), and checks that
// the first request after it is served by the new version.
func BenchmarkDeployToServe(b *testing.B) {
	e := newEnv(b)
	e.deploy(b, "live", "v0", true)
	i := 0
	for b.Loop() {
		i++
		want := fmt.Sprintf("v%d", i)
		e.deploy(b, "live", want, false)
		e.want(b, "live.localhost", "/", http.StatusOK, want)
	}
}

// BenchmarkEdgeColdStart measures starting an edge (Node, Miniflare) over a deployed Worker
// until it serves its first request.
func BenchmarkEdgeColdStart(b *testing.B) {
	e := newEnv(b)
	e.deploy(b, "cold", "warm", true)
	for b.Loop() {
		workers, err := edge.Start(context.Background(), edge.Config{API: e.Server, Runtime: runtime.Options{
			PersistDir: b.TempDir(), APIAddress: strings.TrimPrefix(e.URL, "http://"), APIToken: edgetest.Token, AccountID: edgetest.AccountID,
		}})
		if err != nil {
			b.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodGet, "http://"+workers.RuntimeAddress()+"/", nil)
		req.Header.Set(runtime.ScriptHeader, "cold")
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("first request after a cold start: %v %v", res, err)
		}
		_ = res.Body.Close()
		b.StopTimer()
		_ = workers.Close()
		b.StartTimer()
	}
}
