package apptunnel

// Benchmarks beside same-run baselines (docs/apptunnel.md §8). Off by
// default (they take a minute and want an idle machine):
//
//	GATEHOUSE_BENCH=1 go test -run 'TestBench' -v ./gateway/apptunnel/
//
// GATEHOUSE_BENCH_TUNNELS sets the idle-tunnel count (default 9,500: the
// gateway holds two descriptors per tunnel and this machine's hard
// RLIMIT_NOFILE is 20,000).

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func benchOnly(t *testing.T) {
	if os.Getenv("GATEHOUSE_BENCH") == "" {
		t.Skip("benchmark: set GATEHOUSE_BENCH=1")
	}
}

// httpLoad runs c clients for d against url through proxy (nil: direct)
// and returns requests per second and the median latency.
func httpLoad(t *testing.T, client *http.Client, target string, c int, d time.Duration) (float64, time.Duration) {
	var (
		mu   sync.Mutex
		lats []time.Duration
		wg   sync.WaitGroup
		n    atomic.Int64
		errs atomic.Int64
	)
	stop := time.Now().Add(d)
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(stop) {
				t0 := time.Now()
				resp, err := client.Get(target)
				if err != nil {
					errs.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs.Add(1)
					continue
				}
				mine = append(mine, time.Since(t0))
				n.Add(1)
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if errs.Load() > 0 {
		t.Errorf("%d failed requests to %s", errs.Load(), target)
	}
	slices.Sort(lats)
	if len(lats) == 0 {
		return 0, 0
	}
	return float64(n.Load()) / d.Seconds(), lats[len(lats)/2]
}

func (w *world) tunnelClient() *http.Client {
	pu := &url.URL{Scheme: "https", Host: w.addr}
	tr := &http.Transport{Proxy: http.ProxyURL(pu), MaxIdleConnsPerHost: 64,
		TLSClientConfig: &tls.Config{Certificates: []tls.Certificate{w.appCert}, InsecureSkipVerify: true}} //nolint:gosec // test listener
	return &http.Client{Transport: &headerRT{tr}, Timeout: 30 * time.Second}
}

// headerRT adds the app id to every request (absolute-form carries the
// tunnel protocol's headers in the request itself).
type headerRT struct{ rt http.RoundTripper }

func (h *headerRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(HeaderAppID, "com.bench")
	return h.rt.RoundTrip(r)
}

func TestBenchHTTPTunnel(t *testing.T) {
	benchOnly(t)
	w := newWorld(t)
	target := w.backend.URL + "/bench"
	direct := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}
	clients := map[string]*http.Client{"direct": direct, "tunnel": w.tunnelClient()}
	order := []string{"direct", "tunnel"}
	if _, err := os.Stat("/usr/sbin/squid"); err == nil {
		port, _ := startSquid(t)
		clients["squid"] = &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(port)}), MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}
		order = append(order, "squid")
	}
	const conc, d, rounds = 4, 2 * time.Second, 3
	sum := map[string][]float64{}
	p50 := map[string][]time.Duration{}
	for _, name := range order { // warm up connections
		httpLoad(t, clients[name], target, conc, 200*time.Millisecond)
	}
	for r := range rounds {
		for _, name := range order { // interleaved: the machine's noise hits each alike
			rps, med := httpLoad(t, clients[name], target, conc, d)
			sum[name] = append(sum[name], rps)
			p50[name] = append(p50[name], med)
			t.Logf("round %d %-6s %8.0f req/s  p50 %v", r+1, name, rps, med)
		}
	}
	for _, name := range order {
		slices.Sort(sum[name])
		slices.Sort(p50[name])
		t.Logf("BENCH http %-6s median of %d rounds: %8.0f req/s  p50 %v (concurrency %d)", name, rounds, sum[name][rounds/2], p50[name][rounds/2], conc)
	}
}

// sink reads each connection to EOF, then answers the byte count.
func sink(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				n, _ := io.Copy(io.Discard, c)
				fmt.Fprintf(c, "%d\n", n)
			}()
		}
	}()
	return ln.Addr().String()
}

// push sends size bytes on c, half-closes it and waits for the count.
func push(t *testing.T, c net.Conn, size int) time.Duration {
	buf := make([]byte, 64<<10)
	t0 := time.Now()
	for sent := 0; sent < size; sent += len(buf) {
		if _, err := c.Write(buf); err != nil {
			t.Fatal(err)
		}
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		must(t, cw.CloseWrite())
	}
	got, err := io.ReadAll(c)
	if err != nil || string(got) != strconv.Itoa(size)+"\n" {
		t.Fatalf("sink answered %q %v", got, err)
	}
	return time.Since(t0)
}

func TestBenchTCPTunnelThroughput(t *testing.T) {
	benchOnly(t)
	w := newWorld(t)
	dst := sink(t)
	const size, rounds = 128 << 20, 3
	mbps := map[string][]float64{}
	for range rounds {
		c, err := net.Dial("tcp", dst)
		must(t, err)
		mbps["direct"] = append(mbps["direct"], float64(size)/(1<<20)/push(t, c, size).Seconds())
		c.Close()
		tc := w.dial(false)
		resp, br := w.send(tc, "CONNECT "+dst+" HTTP/1.1\r\nHost: "+dst+"\r\n"+HeaderAppID+": com.bench\r\n\r\n")
		if resp.StatusCode != http.StatusOK || br.Buffered() != 0 {
			t.Fatal(resp.StatusCode)
		}
		mbps["tunnel"] = append(mbps["tunnel"], float64(size)/(1<<20)/push(t, tc, size).Seconds())
		tc.Close()
	}
	for _, name := range []string{"direct", "tunnel"} {
		slices.Sort(mbps[name])
		t.Logf("BENCH tcp %-6s median of %d x %d MiB: %.0f MiB/s %v", name, rounds, size>>20, mbps[name][rounds/2], mbps[name])
	}
}
