package upstream

import (
	"io"
	"net"
	"net/http"
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
	gomega.NewWithT(t).Eventually(func() uint64 { return r.Counter(stats.DErrConnTimeout) }).WithTimeout(5*time.Second).
		Should(gomega.BeNumerically(">=", 1), "d-err-conn-timeout counted")
}
