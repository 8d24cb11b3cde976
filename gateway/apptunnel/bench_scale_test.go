//go:build linux

package apptunnel

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestBenchIdleTunnelsScaleOut holds idle CONNECT tunnels across several
// tunnel listeners sharing one port with SO_REUSEPORT, each in a process
// of its own (as gateways started with reuse_port), with the apps and
// their echo servers in other processes: a tunnel costs a gateway two
// files, so one process stops below RLIMIT_NOFILE/2 (issue 21).
//
//	GATEHOUSE_BENCH=1 go test -count=1 -timeout 20m -run 'TestBenchIdleTunnelsScaleOut$' -v ./gateway/apptunnel/
func TestBenchIdleTunnelsScaleOut(t *testing.T) {
	benchOnly(t)
	n, gws, clients := envInt("GATEHOUSE_BENCH_TUNNELS", 11000), envInt("GATEHOUSE_BENCH_GATEWAYS", 2), 2
	w := newWorld(t)
	dir := t.TempDir()
	keyDER, err := x509.MarshalPKCS8PrivateKey(w.appCert.PrivateKey)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "app.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: w.appCert.Leaf.Raw}), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "app.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "ca.pem"), []byte(w.ca.PEM()), 0o600))
	free, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := free.Addr().String()
	free.Close()

	gateways := make([]*benchChild, gws)
	base := make([][]int64, gws)
	for i := range gateways {
		gateways[i] = startChild(t, "TestBenchIdleTunnelsGatewayHelper", "GATEHOUSE_BENCH_GATEWAY="+addr, "GATEHOUSE_BENCH_HELPER_DIR="+dir)
		base[i] = gateways[i].await(t, "LISTENING ")
	}
	t0 := time.Now()
	opened := int64(0)
	for i := range clients {
		c := startChild(t, "TestBenchIdleTunnelsHelper", "GATEHOUSE_BENCH_HELPER="+addr, "GATEHOUSE_BENCH_HELPER_DIR="+dir,
			"GATEHOUSE_BENCH_TUNNELS="+strconv.Itoa(n/clients+min(i, 1)*(n%clients)))
		defer c.close()
		opened += c.await(t, "READY ")[0]
	}
	took := time.Since(t0)
	var open, live, rss int64
	each := make([]int64, gws)
	for i := 0; i < 600; i++ { // the last splices start just after their 200
		open, live, rss = 0, 0, 0
		for g, c := range gateways {
			c.send(t, "STAT")
			st := c.await(t, "STAT ")
			each[g], open, live, rss = st[0], open+st[0], live+st[1]-base[g][0], rss+st[2]-base[g][1]
		}
		if open >= opened {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("BENCH scale-out: %d gateway processes on %s, %d tunnels opened by %d app processes in %v, %d held open by the gateways %v", gws, addr, opened, clients, took.Round(time.Millisecond), open, each)
	if open > 0 {
		t.Logf("BENCH memory per idle tunnel: %.1f KiB gateway heap+stacks after GC, %.1f KiB gateway RSS", float64(live)/float64(open)/1024, float64(rss)/float64(open))
	}
	for _, c := range gateways {
		c.close()
	}
	if open < int64(n) {
		t.Errorf("held %d tunnels, want %d", open, n)
	}
}

// TestBenchIdleTunnelsGatewayHelper is a gateway child of
// TestBenchIdleTunnelsScaleOut: a tunnel listener bound with SO_REUSEPORT,
// trusting the parent's device CA. It prints "LISTENING heap rss", answers
// each "STAT" line on stdin with "STAT open heap rss" and stops at EOF.
func TestBenchIdleTunnelsGatewayHelper(t *testing.T) {
	addr := os.Getenv("GATEHOUSE_BENCH_GATEWAY")
	if addr == "" {
		t.Skip("a gateway child process of TestBenchIdleTunnelsScaleOut")
	}
	ca, err := os.ReadFile(filepath.Join(os.Getenv("GATEHOUSE_BENCH_HELPER_DIR"), "ca.pem"))
	must(t, err)
	w := newWorld(t, func(w *world) {
		w.trust = string(ca)
		w.listen = func() (net.Listener, error) {
			lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
				var serr error
				if err := c.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1) }); err != nil {
					return err
				}
				return serr
			}}
			return lc.Listen(context.Background(), "tcp", addr)
		}
	})
	fmt.Printf("LISTENING %d %d\n", liveBytes(), vmRSS())
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if sc.Text() == "STAT" {
			fmt.Printf("STAT %d %d %d\n", w.srv.Metrics().Open.Load(), liveBytes(), vmRSS())
		}
	}
}

// vmRSS is this process's resident set in KiB.
func vmRSS() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// benchChild is this test binary run again as one helper test.
type benchChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
}

func startChild(t *testing.T, test string, env ...string) *benchChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.v", "-test.timeout=30m")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	must(t, err)
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	c := &benchChild{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
	t.Cleanup(c.close)
	return c
}

func (c *benchChild) send(t *testing.T, line string) {
	t.Helper()
	_, err := io.WriteString(c.stdin, line+"\n")
	must(t, err)
}

// await reads up to the line with prefix and returns its numbers.
func (c *benchChild) await(t *testing.T, prefix string) []int64 {
	t.Helper()
	for c.out.Scan() {
		if v, ok := strings.CutPrefix(c.out.Text(), prefix); ok {
			var nums []int64
			for _, f := range strings.Fields(v) {
				n, _ := strconv.ParseInt(f, 10, 64)
				nums = append(nums, n)
			}
			return nums
		}
	}
	t.Fatalf("child %v ended before %q", c.cmd.Args, prefix)
	return nil
}

func (c *benchChild) close() {
	if c.stdin != nil {
		c.stdin.Close()
		c.stdin = nil
		for c.out.Scan() { // the child ends at stdin's EOF
		}
		_ = c.cmd.Wait()
	}
}
