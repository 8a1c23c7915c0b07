package edge

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"
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
		wg.Add(1)
		go func() {
			defer wg.Done()
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
		}()
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
	te := startTestEdge(b)
	te.deploy(b, "bench", "ok", true)
	te.waitFor(b, "bench.localhost", "ok", 10*time.Second)
	const requests, clients = 2000, 8
	b.Run("through_edge", func(b *testing.B) {
		for b.Loop() {
			start := time.Now()
			reportLatencies(b, benchLoad(b, te.url+"/", http.Header{}, "bench.localhost", requests, clients), time.Since(start))
		}
	})
	b.Run("miniflare_direct", func(b *testing.B) {
		for b.Loop() {
			start := time.Now()
			header := http.Header{scriptHeader: {"bench"}}
			reportLatencies(b, benchLoad(b, "http://"+te.edge.rt.Address()+"/", header, "bench.localhost", requests, clients), time.Since(start))
		}
	})
}

// BenchmarkDeployToServe measures the time from a deploy's API call returning to the first
// request served by the new version.
func BenchmarkDeployToServe(b *testing.B) {
	te := startTestEdge(b)
	te.deploy(b, "live", "v0", true)
	te.waitFor(b, "live.localhost", "v0", 10*time.Second)
	i := 0
	for b.Loop() {
		i++
		want := fmt.Sprintf("v%d", i)
		te.deploy(b, "live", want, false)
		te.waitFor(b, "live.localhost", want, 10*time.Second)
	}
}

// BenchmarkEdgeColdStart measures starting the edge (Node, Miniflare) with one deployed
// Worker until it serves its first request.
func BenchmarkEdgeColdStart(b *testing.B) {
	te := startTestEdge(b)
	te.deploy(b, "cold", "warm", true)
	cfg := te.edge.cfg
	for b.Loop() {
		e, err := Start(context.Background(), Config{API: cfg.API, Runtime: cfg.Runtime})
		if err != nil {
			b.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodGet, "http://"+e.rt.Address()+"/", nil)
		req.Header.Set(scriptHeader, "cold")
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("first request after a cold start: %v %v", res, err)
		}
		_ = res.Body.Close()
		b.StopTimer()
		_ = e.Close()
		b.StartTimer()
	}
}
