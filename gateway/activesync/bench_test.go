package activesync

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync/uemsynctest"
	"github.com/gatehouse-lab/gatehouse/gateway/upstream"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// BenchmarkProxy compares a Sync round trip through the gateway with the
// same request sent straight to the server, in the same run:
//
//	go test -run '^$' -bench Proxy -benchtime 5s ./gateway/activesync/
//
// ns/op and the p50/p99 metrics are per request; the ratio of the
// sub-benchmarks' ns/op is the throughput cost of the gateway, and of a
// bare httputil.ReverseProxy and of a relay without net/http (raw-relay)
// for comparison. cpu-µs/op is the process's CPU a request: on a shared
// machine X's minus direct's is the proxy's own CPU, where ns/op mostly
// measures the other sessions. The -foldersync pair sends FolderSync,
// whose small answer the gateway reads for its Status:
//
//	go test -run '^$' -bench 'Proxy/(direct|gateway-router)(-foldersync)?$' -benchtime 3000x ./gateway/activesync/
var mu sync.Mutex

// processCPU is the user and system CPU time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkProxy(b *testing.B) {
	body := bytes.Repeat([]byte{0x03, 'x', 0x00}, 1400) // ~4 KiB response
	// FolderSync gets the fake Exchange's answer (290 bytes), which the
	// gateway reads for its Status (serverStatus) where it relays Sync's
	// 4 KiB unread.
	folderSync := fuzzSeed(b, "exchange-foldersync-full")
	up := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		answer := body
		if r.URL.Query().Get("Cmd") == string(eas.CmdFolderSync) {
			answer = folderSync
		}
		w.Header().Set("Content-Type", eas.ContentTypeWBXML)
		w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
		w.Write(answer)
	}))
	defer up.Close()
	upURL, _ := url.Parse(up.URL)

	cache := devicecache.New(nil)
	link, _ := uemsync.New(uemsync.Config{UEM: uemsynctest.New(), Cache: cache, FailOpen: true, Log: slog.New(slog.DiscardHandler)})
	upTransport := DefaultTransport(up.Client().Transport.(*http.Transport).TLSClientConfig)
	h, _ := New(Config{Upstream: upURL, Transport: upTransport, Link: link, Cache: cache, Stats: stats.NewRegistry(), Log: slog.New(slog.DiscardHandler)})
	gw := httptest.NewTLSServer(h)
	defer gw.Close()

	// The gateway as deployed: the UEM's ActiveSync configuration through
	// the upstream Router (timeouts, failover, statistics per attempt).
	hr, _ := New(Config{Upstream: upURL, Link: link, Cache: cache, Stats: stats.NewRegistry(), Log: slog.New(slog.DiscardHandler)})
	asCfg := uemapi.DefaultGatewayConfig()
	svc := uemapi.DefaultActiveSyncService("")
	svc.Name, svc.Servers, svc.ServerTLS = "default", upURL.Host, true
	asCfg.ActiveSync.Services = []uemapi.ActiveSyncService{svc}
	rt, err := upstream.New(asCfg.ActiveSync, asCfg.Servers, asCfg.Timeouts, upstream.Options{
		TLSConfig: up.Client().Transport.(*http.Transport).TLSClientConfig, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	hr.SetRouter(rt)
	routed := httptest.NewTLSServer(hr)
	defer routed.Close()

	// A bare Go reverse proxy on the same transport: what net/http itself
	// costs as a proxy, so the gateway's own share is the difference.
	bare := httputil.NewSingleHostReverseProxy(upURL)
	bare.Transport = DefaultTransport(up.Client().Transport.(*http.Transport).TLSClientConfig)
	bare.BufferPool = &copyBuffers{}
	plain := httptest.NewTLSServer(bare)
	defer plain.Close()

	// The least a relay without net/http costs (relay_bench_test.go).
	relay, relayClient, stopRelay := relayURL(b, up)
	defer stopRelay()

	for _, tc := range []struct {
		name   string
		url    string
		client *http.Client
		cmd    eas.Command
	}{{"direct", up.URL, up.Client(), eas.CmdSync}, {"bare-go-proxy", plain.URL, plain.Client(), eas.CmdSync},
		{"raw-relay", relay, relayClient, eas.CmdSync}, {"gateway", gw.URL, gw.Client(), eas.CmdSync},
		{"gateway-router", routed.URL, routed.Client(), eas.CmdSync},
		{"direct-foldersync", up.URL, up.Client(), eas.CmdFolderSync},
		{"gateway-router-foldersync", routed.URL, routed.Client(), eas.CmdFolderSync}} {
		want := len(body)
		if tc.cmd == eas.CmdFolderSync {
			want = len(folderSync)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			client := tc.client
			client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
			reqBody := []byte{0x03, 0x01, 0x6A, 0x00, 0x45, 0x01}
			var lat []time.Duration
			cpu0 := processCPU()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				i := 0
				for pb.Next() {
					i++
					q := &eas.Query{Cmd: tc.cmd, User: "bench", DeviceID: "DEV" + strconv.Itoa(i%512), DeviceType: "iPhone"}
					req, _ := http.NewRequest(http.MethodPost, tc.url+"/Microsoft-Server-ActiveSync?"+q.Encode(false), bytes.NewReader(reqBody))
					req.Header.Set(eas.HeaderProtocolVersion, "16.1")
					req.SetBasicAuth("bench", "pw")
					start := time.Now()
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					n, _ := io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if n != int64(want) {
						b.Errorf("read %d bytes", n)
						return
					}
					mine = append(mine, time.Since(start))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			b.StopTimer()
			// The process's CPU time a request (client, proxy and server
			// together): unlike ns/op it does not grow with the time the
			// other sessions take, so X - direct is the proxy's CPU.
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			}
		})
	}
}

// fuzzSeed reads a []byte seed of testdata/fuzz/FuzzBodyStatuses: answers
// of the fake Exchange, among others.
func fuzzSeed(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/fuzz/FuzzBodyStatuses/" + name)
	if err != nil {
		t.Fatal(err)
	}
	const head = "go test fuzz v1\n[]byte("
	s, err := strconv.Unquote(string(b[len(head) : len(b)-2]))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(s)
}
