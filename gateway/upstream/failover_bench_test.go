package upstream

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// BenchmarkFailoverOneOfThreeDies sends b.N Sync requests (1 KiB body)
// from 16 concurrent devices through a Round Robin service of three
// servers and kills one of them half-way, dropping its connections with
// requests in flight. It reports the requests lost (an error reached the
// device; the target is 0), the p99 latency of the requests in the
// failover window (started from 10 ms before the kill until the server
// was declared dead, plus 50 ms) against the p99 before the kill, and the
// server failures counted.
//
//	go test -run '^$' -bench FailoverOneOfThreeDies -benchtime 20000x ./gateway/upstream/
func BenchmarkFailoverOneOfThreeDies(b *testing.B) {
	xs := []*exchange{newExchange(b, "a", false), newExchange(b, "b", false), newExchange(b, "c", false)}
	for _, x := range xs {
		x.setHandler(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			time.Sleep(200 * time.Microsecond) // the server's work: keeps requests in flight
			io.WriteString(w, "ok")
		})
	}
	m := defaultMgmt()
	m.Scheduling = uemapi.ScheduleRoundRobin
	r := newRouter(b, asConfig(service("default", xs...)), m, defaultTimeouts(), Options{})
	victim := xs[2]
	body := strings.Repeat("s", 1024)

	type sample struct {
		start, took time.Duration
		failed      bool
	}
	samples := make([]sample, b.N)
	var next atomic.Int64
	var killAt, deadAt atomic.Int64 // ns since t0
	killAt.Store(-1)
	deadAt.Store(-1)
	var once sync.Once
	var wg sync.WaitGroup
	b.ResetTimer()
	t0 := time.Now()
	for range 16 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				if i == int64(b.N)/2 {
					once.Do(func() {
						killAt.Store(int64(time.Since(t0)))
						go func() {
							victim.kill()
						}()
					})
				}
				start := time.Since(t0)
				resp, err := r.RoundTrip(easRequest("gw", "Sync", body))
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				samples[i] = sample{start: start, took: time.Since(t0) - start, failed: err != nil}
				if killAt.Load() >= 0 && deadAt.Load() < 0 && !serverStatus(b, r, "default", victim.addr()).Reachable {
					deadAt.CompareAndSwap(-1, int64(time.Since(t0)))
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()

	kill, dead := time.Duration(killAt.Load()), time.Duration(deadAt.Load())
	if dead < 0 {
		dead = time.Since(t0)
	}
	var lost int
	var before, during []time.Duration
	for _, s := range samples {
		if s.failed {
			lost++
		}
		switch {
		case s.start < kill-10*time.Millisecond:
			before = append(before, s.took)
		case s.start <= dead+50*time.Millisecond:
			during = append(during, s.took)
		}
	}
	b.ReportMetric(float64(lost), "lost")
	b.ReportMetric(millis(p99(before)), "p99-before-ms")
	b.ReportMetric(millis(p99(during)), "p99-failover-ms")
	b.ReportMetric(float64(len(during)), "failover-reqs")
	b.ReportMetric(float64(serverStatus(b, r, "default", victim.addr()).FailureCount), "failures")
	b.ReportMetric(float64((dead-kill).Microseconds())/1000, "kill-to-dead-ms")
	if lost > 0 {
		b.Errorf("%d requests lost", lost)
	}
}

func p99(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[len(d)*99/100]
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
