package exchange

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// Benchmarks. Run them together so each result has its baseline from the
// same run:
//
//	go test -run '^$' -bench . -benchtime 3s ./fakes/exchange/
//
// BenchmarkPingHeld parks GATEHOUSE_PINGS (default 5000) Pings and reports
// heap bytes and goroutines per held Ping for this server and for a
// trivial net/http handler that blocks the same way (in-process, loopback,
// HTTP/1.1 keep-alive, plain HTTP so TLS buffers do not blur the numbers;
// the figures include the client side of each connection, identical in
// both). BenchmarkSync reports Sync requests per second over TLS next to a
// trivial TLS handler.

func pingCount() int {
	if n, err := strconv.Atoi(os.Getenv("GATEHOUSE_PINGS")); err == nil && n > 0 {
		return n
	}
	return 5000
}

var profiled bool

type heldStats struct {
	heapPerPing, goroutinesPerPing float64
}

// holdPings starts n requests built by mk, waits until parked() reports n,
// measures, then calls release and waits for every answer.
func holdPings(b *testing.B, n int, do func(i int) error, parked func() int64, release func()) heldStats {
	runtime.GC()
	runtime.GC() // twice: empty the sync.Pools (and their victim caches) the previous run filled
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := do(i); err != nil {
				if failed.Add(1) == 1 {
					b.Errorf("request %d: %v", i, err)
				}
			}
		}()
	}
	gomega.NewWithT(b).Eventually(func() (int64, error) {
		if failed.Load() > 0 {
			return 0, gomega.StopTrying("a request failed")
		}
		return parked(), nil
	}).WithTimeout(2*time.Minute).WithPolling(20*time.Millisecond).Should(gomega.BeNumerically(">=", n), "requests parked")
	runtime.GC()
	runtime.ReadMemStats(&after)
	g1 := runtime.NumGoroutine()
	if path := os.Getenv("GATEHOUSE_HEAPPROF"); path != "" && !profiled {
		// A heap profile while the requests are held: go tool pprof -sample_index=inuse_space.
		profiled = true
		if f, err := os.Create(path); err == nil {
			_ = pprof.WriteHeapProfile(f)
			_ = f.Close()
		}
	}
	release()
	wg.Wait()
	return heldStats{
		heapPerPing:       float64(int64(after.HeapInuse)-int64(before.HeapInuse)) / float64(n),
		goroutinesPerPing: float64(g1-g0) / float64(n),
	}
}

func plainClient(n int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, DisableCompression: true}}
}

func BenchmarkPingHeld(b *testing.B) {
	n := pingCount()
	for range b.N {
		// This server.
		srv := startServer(b, Config{PlainHTTP: true, AllowUnprovisioned: true, MinHeartbeat: 1, NumUsers: 50, MessagesPerUser: -1})
		users := srv.Users()
		hc := plainClient(n)
		body := mustEncode(b, pingReq(3000, "1"))
		ours := holdPings(b, n, func(i int) error {
			u := users[i%len(users)]
			url := fmt.Sprintf("%s?Cmd=Ping&User=%s&DeviceId=D%d&DeviceType=Bench", srv.EASURL(), u.Name, i)
			req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
			req.SetBasicAuth(u.Name, u.Password)
			req.Header.Set(eas.HeaderProtocolVersion, "16.1")
			resp, err := hc.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			var r eas.PingResponse
			b, _ := io.ReadAll(resp.Body)
			if err := unmarshal(b, &r); err != nil || r.Status != 2 {
				return fmt.Errorf("status %d %v", r.Status, err)
			}
			return nil
		}, srv.WaitingPings, func() {
			for _, u := range users {
				if _, err := srv.Inject(u.Name, InjectRequest{Subject: "wake", Body: "up"}); err != nil {
					b.Error(err)
				}
			}
		})
		hc.CloseIdleConnections()

		// Baseline: a trivial handler that blocks until released.
		var parked atomic.Int64
		gate := make(chan struct{})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			parked.Add(1)
			<-gate
			_, _ = w.Write([]byte("ok"))
		}), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = hs.Serve(ln) }()
		hc2 := plainClient(n)
		base := holdPings(b, n, func(int) error {
			resp, err := hc2.Post("http://"+ln.Addr().String()+"/", "application/octet-stream", bytes.NewReader(body))
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			return resp.Body.Close()
		}, parked.Load, func() { close(gate) })
		hc2.CloseIdleConnections()
		_ = hs.Shutdown(context.Background())

		b.ReportMetric(ours.heapPerPing, "heapB/ping")
		b.ReportMetric(ours.goroutinesPerPing, "goroutines/ping")
		b.ReportMetric(base.heapPerPing, "baseline-heapB/ping")
		b.ReportMetric(base.goroutinesPerPing, "baseline-goroutines/ping")
		b.ReportMetric(ours.heapPerPing/base.heapPerPing, "heap-ratio")
	}
}

func unmarshal(b []byte, v any) error {
	msg, err := eas.DecodeAs(b, wbxml.DefaultLimits, eas.ServerToClient)
	if err != nil {
		return err
	}
	if p, ok := msg.(*eas.PingResponse); ok {
		*(v.(*eas.PingResponse)) = *p
	}
	return nil
}

func BenchmarkSync(b *testing.B) {
	srv := startServer(b, Config{AllowUnprovisioned: true, NumUsers: 16, MessagesPerUser: 12})
	var next atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1))
		c := newClient(b, srv, fmt.Sprintf("user%d", (i-1)%16+1), fmt.Sprintf("SYNC%d", i), eas.V161)
		in := inbox(b, c.folderSync("0"))
		key := c.syncOnce(in, "0", 0).SyncKey
		for pb.Next() {
			r := c.syncOnce(in, key, 100)
			if r.Status != 1 {
				b.Errorf("status %d", r.Status)
				return
			}
			key = r.SyncKey
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

func BenchmarkSyncBaseline(b *testing.B) {
	srv := startServer(b, Config{NumUsers: 1, MessagesPerUser: -1}) // for its certificate only
	cert := srv.tlsConf.Certificates[0]
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}})
	if err != nil {
		b.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", eas.ContentTypeWBXML)
		_, _ = w.Write([]byte{3, 1, 106, 0, 0x45, 0x5c, 0x4f, 0x4b, 3, '1', 0, 1, 1, 1, 1})
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	b.Cleanup(func() { _ = hs.Shutdown(context.Background()) })
	hc := httpClient(srv)
	body := mustEncode(b, &eas.SyncRequest{Collections: []eas.SyncCollection{{SyncKey: "1", CollectionId: "1"}}})
	b.SetParallelism(8)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", "https://"+ln.Addr().String()+EASPath+"?Cmd=Sync&User=u&DeviceId=D&DeviceType=T", bytes.NewReader(body))
			req.SetBasicAuth("u", "p")
			resp, err := hc.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}
