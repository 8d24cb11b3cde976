package upstream

import (
	"io"
	"net/http"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// BenchmarkH1Pool sends FolderSync requests through a Router to a TLS
// server in the same process, on the lean HTTP/1.1 path and on
// http.Transport (-count interleaves them). cpu-µs/op is the process's
// CPU a request (Router and server; the server's share is the same in
// both), the figure to compare on a shared machine:
//
//	go test -run '^$' -bench H1Pool -benchtime 5000x -count 4 ./gateway/upstream/
func BenchmarkH1Pool(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts Options
	}{{"lean", Options{}}, {"transport", Options{NoH1Pool: true}}} {
		b.Run(bc.name, func(b *testing.B) {
			x := newExchange(b, "x", true)
			answer := []byte("\x03\x01j\x00\x00\x07VLR\x031\x00\x01\x01")
			x.setHandler(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/vnd.ms-sync.wbxml")
				w.Write(answer)
			})
			r := newRouter(b, asConfig(service("default", x)), defaultMgmt(), defaultTimeouts(), bc.opts, x)
			b.ReportAllocs()
			b.SetParallelism(4) // 8 devices at once on 2 cores
			cpu0 := rusageCPU()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := r.RoundTrip(easRequest("gw", "FolderSync", ""))
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(rusageCPU()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
		})
	}
}

func rusageCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkH1PoolHeldPings holds 400 Pings at once through a Router (the
// server answers none until the end) and reports the process's heap and
// goroutine stacks a held Ping, and the goroutines a held Ping, on each
// path; the server's share is the same in both:
//
//	go test -run '^$' -bench H1PoolHeldPings -benchtime 1x -count 3 ./gateway/upstream/
func BenchmarkH1PoolHeldPings(b *testing.B) {
	const n = 400
	for _, bc := range []struct {
		name string
		opts Options
	}{{"lean", Options{}}, {"transport", Options{NoH1Pool: true}}} {
		b.Run(bc.name, func(b *testing.B) {
			for range b.N {
				x := newExchange(b, "x", true)
				release := make(chan struct{})
				arrived := make(chan struct{}, n)
				x.setHandler(func(w http.ResponseWriter, r *http.Request) {
					arrived <- struct{}{}
					<-release
					w.Write([]byte("ping"))
				})
				r := newRouter(b, asConfig(service("default", x)), defaultMgmt(), defaultTimeouts(), bc.opts, x)
				before, g0 := memInUse(), runtime.NumGoroutine()
				done := make(chan error, n)
				for range n {
					go func() {
						resp, err := r.RoundTrip(easRequest("gw", "Ping", ""))
						if err == nil {
							_, err = io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
						}
						done <- err
					}()
				}
				for range n {
					<-arrived
				}
				held, g1 := memInUse(), runtime.NumGoroutine()
				close(release)
				for range n {
					if err := <-done; err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(held-before)/n, "B/held-ping")
				b.ReportMetric(float64(g1-g0)/n, "goroutines/held-ping")
				r.CloseIdleConnections()
				x.kill()
			}
		})
	}
}

// memInUse is the heap in use and the goroutine stacks, after a GC.
func memInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse + m.StackInuse)
}
