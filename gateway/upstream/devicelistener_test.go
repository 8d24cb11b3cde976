package upstream

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

func TestASC23_DeviceRequestTimeoutClosesSilentDevicesAndCounts(t *testing.T) {
	a := newExchange(t, "a", false)
	to := defaultTimeouts()
	to.DeviceRequestMs = 60
	r := newRouter(t, asConfig(service("default", a)), defaultMgmt(), to, Options{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		ReadHeaderTimeout: r.DeviceRequestTimeout(),
		IdleTimeout:       r.DeviceRequestTimeout(),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			time.Sleep(150 * time.Millisecond) // longer than the timeout: a slow server, not a silent device
			io.WriteString(w, "ok")
		}),
	}
	go srv.Serve(r.DeviceListener(l))
	t.Cleanup(func() { srv.Close() })

	// A request that takes longer than the device timeout is not cut off.
	resp, err := http.Post("http://"+l.Addr().String()+"/Microsoft-Server-ActiveSync", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	if n := r.Counter(stats.DErrConnTimeout); n != 0 {
		t.Fatalf("d-err-conn-timeout = %d during a slow response", n)
	}
	http.DefaultClient.CloseIdleConnections()

	// A device that connects and sends nothing is dropped at 60 ms.
	start := time.Now() // before the server accepts and starts its clock
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("silent device read: %v, want EOF", err)
	}
	within(t, "device request timeout", time.Since(start), 60*time.Millisecond)
	gomega.NewWithT(t).Eventually(func() uint64 { return r.Counter(stats.DErrConnTimeout) }).WithTimeout(20*time.Second).
		Should(gomega.BeNumerically(">=", 1), "d-err-conn-timeout counted")
}

// ASC-20: net/http clears a connection's write deadline after the TLS
// handshake; the next write to a device that stopped reading must still
// time out (it hung forever: the lazy deadline trusted its own copy).
func TestASC20_DeviceWriteTimeoutSurvivesAClearedDeadline(t *testing.T) {
	a := newExchange(t, "a", false)
	to := defaultTimeouts()
	to.SocketReadWriteMs = 200
	r := newRouter(t, asConfig(service("default", a)), defaultMgmt(), to, Options{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dl := r.DeviceListener(l)
	dev, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	_ = dev.(*net.TCPConn).SetReadBuffer(4096) // a device that never reads
	c, err := dl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("hello")); err != nil { // arms the deadline
		t.Fatal(err)
	}
	_ = c.SetWriteDeadline(time.Time{}) // as net/http does after the handshake
	done := make(chan error, 1)
	go func() {
		chunk := make([]byte, 64<<10)
		for range 1024 { // 64 MiB at most: far past any socket buffer
			if _, err := c.Write(chunk); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("write to a device that never reads: %v, want a deadline error", err)
		}
	case <-time.After(10 * time.Second):
		c.Close()
		t.Fatal("the write to a device that never reads did not time out")
	}
	if r.Counter(stats.DErrSoTimeout) != 1 {
		t.Fatalf("d-err-so-timeout = %d", r.Counter(stats.DErrSoTimeout))
	}
}
