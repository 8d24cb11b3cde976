package rawrelay

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
)

// BenchmarkHeldConnMemory measures the floor of a held Ping in Go on the
// device side alone (issue 26): TLS connections whose server goroutine
// waits in Read after one request-sized exchange, as a device's
// connection does while its Ping hangs, and nothing else (no HTTP, no
// upstream, no request state). The devices are a child process (this
// test binary again), so the figures are the server's only: the heap
// (HeapInuse, after a forced collection) and goroutine stacks a held
// connection adds.
//
//	GATEHOUSE_HELD_CONNS=5000 go test -run '^$' -bench HeldConnMemory -benchtime 1x ./internal/rawrelay/
func BenchmarkHeldConnMemory(b *testing.B) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("GATEHOUSE_HELD_CONNS")); err == nil && v > 0 {
		n = v
	}
	for _, size := range []int{300, 4096} {
		b.Run("request-"+strconv.Itoa(size), func(b *testing.B) {
			for range b.N {
				heap, stack := heldConnMemory(b, n, size)
				b.ReportMetric(heap, "heap-B/conn")
				b.ReportMetric(stack, "stack-B/conn")
			}
		})
	}
}

// TestMain runs the devices of BenchmarkHeldConnMemory when the test
// binary is started as its child.
func TestMain(m *testing.M) {
	if addr := os.Getenv("GATEHOUSE_HELD_DEVICES"); addr != "" {
		if err := devices(addr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// devices dials the connections, sends each one request, reads its
// answer, says "ready" and holds them until stdin closes.
func devices(addr string) error {
	n, _ := strconv.Atoi(os.Getenv("GATEHOUSE_HELD_N"))
	size, _ := strconv.Atoi(os.Getenv("GATEHOUSE_HELD_SIZE"))
	msg, ok := make([]byte, size), make([]byte, 2)
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // the benchmark's own server
		if err != nil {
			return err
		}
		if _, err := c.Write(msg); err != nil {
			return err
		}
		if _, err := io.ReadFull(c, ok); err != nil {
			return err
		}
		conns = append(conns, c)
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
	return nil
}

func heldConnMemory(b *testing.B, n, size int) (heap, stack float64) {
	srv := httptest.NewUnstartedServer(nil)
	srv.StartTLS() // for its certificate
	defer srv.Close()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", srv.TLS.Clone())
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go serveHeld(ln, size)
	before := inUse()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GATEHOUSE_HELD_DEVICES="+ln.Addr().String(),
		"GATEHOUSE_HELD_N="+strconv.Itoa(n), "GATEHOUSE_HELD_SIZE="+strconv.Itoa(size))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { stdin.Close(); _ = cmd.Wait() }()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "ready\n" {
		b.Fatalf("devices: %q, %v", line, err)
	}
	after := inUse()
	return float64(after.heap-before.heap) / float64(n), float64(after.stack-before.stack) / float64(n)
}

// serveHeld serves each connection as a device's while its Ping hangs:
// one request in, a short answer out, then a read that waits.
func serveHeld(ln net.Listener, size int) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			if _, err := io.ReadFull(c, make([]byte, size)); err != nil {
				return
			}
			if _, err := c.Write([]byte("ok")); err != nil {
				return
			}
			_, _ = c.Read(make([]byte, 1))
		}()
	}
}

type memUse struct{ heap, stack uint64 }

func inUse() memUse {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memUse{heap: m.HeapInuse, stack: m.StackInuse}
}
