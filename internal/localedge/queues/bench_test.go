package queues_test

import (
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"
)

// BenchmarkEventFanout measures events through the local edge: a publisher Worker sends to the
// topic queue, the fan-out Worker forwards to two subscriber queues, and each subscriber's
// consumer reports to a sink. latency is publish (the request to the publisher) → the event's
// arrival at the second subscriber, one event at a time; throughput publishes events in
// batches of 100 from 4 clients and counts events per second until both subscribers have all.
func BenchmarkEventFanout(b *testing.B) {
	ts := newTopic(b, []string{"Order.*"}, []string{"Order.*"})
	seq := 0
	next := func() event {
		seq++
		return orderEvent("Order.created", fmt.Sprintf("e%d", seq))
	}
	// arrivedAt waits for id at both subscribers and returns the later arrival.
	arrivedAt := func(id string) time.Time {
		deadline := time.Now().Add(60 * time.Second)
		for {
			ts.sink.mu.Lock()
			a, okA := ts.sink.arrived["orders-billing "+id]
			c, okC := ts.sink.arrived["orders-analytics "+id]
			ts.sink.mu.Unlock()
			if okA && okC {
				if c.After(a) {
					return c
				}
				return a
			}
			if time.Now().After(deadline) {
				b.Fatalf("event %s never reached both subscribers", id)
			}
			time.Sleep(time.Millisecond) // polling interval
		}
	}
	b.Run("latency", func(b *testing.B) {
		for b.Loop() {
			const events = 100
			latencies := make([]time.Duration, 0, events)
			for range events {
				ev := next()
				start := time.Now()
				if err := ts.publish(ev); err != nil {
					b.Fatal(err)
				}
				latencies = append(latencies, arrivedAt(ev.ID).Sub(start))
			}
			sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
			b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
		}
	})
	b.Run("throughput_two_subscribers", func(b *testing.B) {
		for b.Loop() {
			const batches, perBatch, clients = 20, 100, 4
			all := make([][]event, batches)
			for i := range all {
				for range perBatch {
					all[i] = append(all[i], next())
				}
			}
			before := ts.sink.count()
			start := time.Now()
			work := make(chan []event, batches)
			for _, batch := range all {
				work <- batch
			}
			close(work)
			var wg sync.WaitGroup
			for range clients {
				wg.Go(func() {
					for batch := range work {
						if err := ts.publish(batch...); err != nil {
							b.Error(err)
						}
					}
				})
			}
			wg.Wait()
			want := before + 2*batches*perBatch
			deadline := time.Now().Add(120 * time.Second)
			for ts.sink.count() < want {
				if time.Now().After(deadline) {
					b.Fatalf("%d of %d deliveries arrived", ts.sink.count()-before, want-before)
				}
				time.Sleep(time.Millisecond) // polling interval
			}
			b.ReportMetric(float64(batches*perBatch)/time.Since(start).Seconds(), "events/s")
		}
	})
}
