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

// TestBenchIdleTunnelsHelper is the child of TestBenchIdleTunnels: it opens
// the tunnels to its own echo server, says READY and holds them until its
// stdin closes.
func TestBenchIdleTunnelsHelper(t *testing.T) {
	addr := os.Getenv("GATEHOUSE_BENCH_HELPER")
	if addr == "" {
		t.Skip("the child process of TestBenchIdleTunnels")
	}
	dir := os.Getenv("GATEHOUSE_BENCH_HELPER_DIR")
	n, _ := strconv.Atoi(os.Getenv("GATEHOUSE_BENCH_TUNNELS"))
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "app.pem"), filepath.Join(dir, "app.key"))
	must(t, err)
	echo := echoServer(t)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, InsecureSkipVerify: true, ClientSessionCache: tls.NewLRUClientSessionCache(64)} //nolint:gosec // test listener
	conns := make([]net.Conn, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	next := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				c, err := tls.Dial("tcp", addr, cfg)
				if err == nil {
					fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s: com.idle\r\n\r\n", echo, echo, HeaderAppID)
					var resp *http.Response
					if resp, err = http.ReadResponse(bufio.NewReader(c), nil); err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					mu.Lock()
					if failed++; failed == 1 {
						var lim syscall.Rlimit
						_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
						fmt.Fprintln(os.Stderr, "tunnel failed:", err, "RLIMIT_NOFILE", lim.Cur, lim.Max)
					}
					mu.Unlock()
					continue
				}
				conns[i] = c
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	fmt.Printf("READY %d\n", n-failed)
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}
