package apptunnel

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestBenchIdleTunnels holds many idle CONNECT tunnels and measures the
// gateway's memory per tunnel. The apps and the echo server run in a
// child process (this test binary again), so that the gateway's process
// holds only its two descriptors per tunnel and its heap is its own.
func TestBenchIdleTunnels(t *testing.T) {
	benchOnly(t)
	n := 9500
	if v, err := strconv.Atoi(os.Getenv("GATEHOUSE_BENCH_TUNNELS")); err == nil && v > 0 {
		n = v
	}
	w := newWorld(t)
	dir := t.TempDir()
	keyDER, err := x509.MarshalPKCS8PrivateKey(w.appCert.PrivateKey)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "app.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: w.appCert.Leaf.Raw}), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "app.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	before := liveBytes()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchIdleTunnelsHelper$", "-test.v")
	cmd.Env = append(os.Environ(), "GATEHOUSE_BENCH_HELPER="+w.addr, "GATEHOUSE_BENCH_HELPER_DIR="+dir, "GATEHOUSE_BENCH_TUNNELS="+strconv.Itoa(n))
	stdin, err := cmd.StdinPipe()
	must(t, err)
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	cmd.Stderr = os.Stderr
	t0 := time.Now()
	must(t, cmd.Start())
	defer func() { stdin.Close(); _ = cmd.Wait() }()
	sc := bufio.NewScanner(stdout)
	opened := -1
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "READY "); ok {
			opened, _ = strconv.Atoi(v)
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	took := time.Since(t0)
	for i := 0; w.srv.Metrics().Open.Load() < int64(opened) && i < 600; i++ {
		time.Sleep(100 * time.Millisecond) // the last splices start just after their 200
	}
	open := w.srv.Metrics().Open.Load()
	after := liveBytes()
	t.Logf("BENCH idle tunnels: %d opened by the apps in %v, %d held open by the gateway", opened, took.Round(time.Millisecond), open)
	if open > 0 {
		t.Logf("BENCH memory per idle tunnel (gateway heap+stacks after GC): %.1f KiB (%.1f MiB for %d)", float64(after-before)/float64(open)/1024, float64(after-before)/(1<<20), open)
	}
	if open < int64(n) {
		t.Errorf("held %d tunnels, want %d", open, n)
	}
}

// liveBytes is the heap in use and the goroutine stacks after a GC.
func liveBytes() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse + m.StackInuse)
}

// TestBenchIdleTunnelsHelper is the child of TestBenchIdleTunnels (and
// the client process of .ci/tunnel-scale.sh): it opens the tunnels to its
// own echo server, says READY and holds them until its stdin closes. Each
// "STAT" line on stdin is answered "STAT live reconnects failed". With
// GATEHOUSE_BENCH_RECONNECT=1 a tunnel that the gateway closes (a gateway
// process killed) is opened again, through the same shared port.
func TestBenchIdleTunnelsHelper(t *testing.T) {
	addr := os.Getenv("GATEHOUSE_BENCH_HELPER")
	if addr == "" {
		t.Skip("the child process of TestBenchIdleTunnels")
	}
	dir := os.Getenv("GATEHOUSE_BENCH_HELPER_DIR")
	n, _ := strconv.Atoi(os.Getenv("GATEHOUSE_BENCH_TUNNELS"))
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "app.pem"), filepath.Join(dir, "app.key"))
	must(t, err)
	h := &idleApps{addr: addr, echo: echoServer(t), reconnect: os.Getenv("GATEHOUSE_BENCH_RECONNECT") == "1",
		cfg:   &tls.Config{Certificates: []tls.Certificate{cert}, InsecureSkipVerify: true, ClientSessionCache: tls.NewLRUClientSessionCache(64)}, //nolint:gosec // test listener
		conns: make([]net.Conn, n), stop: make(chan struct{})}
	var wg sync.WaitGroup
	next := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				h.open(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	fmt.Printf("READY %d\n", h.live.Load())
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if sc.Text() == "STAT" {
			fmt.Printf("STAT %d %d %d\n", h.live.Load(), h.reconnects.Load(), h.failed.Load())
		}
	}
	close(h.stop)
	h.mu.Lock()
	for _, c := range h.conns {
		if c != nil {
			c.Close()
		}
	}
	h.mu.Unlock()
}

// idleApps are the helper's tunnels, each watched by a goroutine when
// they reconnect.
type idleApps struct {
	addr, echo string
	reconnect  bool
	cfg        *tls.Config
	mu         sync.Mutex
	conns      []net.Conn
	stop       chan struct{}

	live, reconnects, failed atomic.Int64
}

// dial opens one CONNECT tunnel to the echo server.
func (h *idleApps) dial() (net.Conn, error) {
	c, err := tls.Dial("tcp", h.addr, h.cfg)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s: com.idle\r\n\r\n", h.echo, h.echo, HeaderAppID)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %d", resp.StatusCode)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// open opens tunnel i; with reconnect it then waits for the tunnel to
// end and opens it again (at most 100 tries, 100 ms apart, per loss).
func (h *idleApps) open(i int) {
	c, err := h.dial()
	if err != nil {
		if h.failed.Add(1) == 1 {
			var lim syscall.Rlimit
			_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
			fmt.Fprintln(os.Stderr, "tunnel failed:", err, "RLIMIT_NOFILE", lim.Cur, lim.Max)
		}
		return
	}
	h.hold(i, c)
	if h.reconnect {
		go h.watch(i, c)
	}
}

func (h *idleApps) hold(i int, c net.Conn) {
	h.mu.Lock()
	h.conns[i] = c
	h.mu.Unlock()
	h.live.Add(1)
}

func (h *idleApps) watch(i int, c net.Conn) {
	for {
		_, _ = c.Read(make([]byte, 1)) // idle: returns when the tunnel ends
		h.live.Add(-1)
		c = nil
		for try := 0; try < 100 && c == nil; try++ {
			select {
			case <-h.stop:
				return
			default:
			}
			if nc, err := h.dial(); err == nil {
				c = nc
			} else {
				time.Sleep(100 * time.Millisecond)
			}
		}
		if c == nil {
			h.failed.Add(1)
			return
		}
		h.reconnects.Add(1)
		h.hold(i, c)
	}
}
