package gateway_test

// The per-device counters (STA-01 to STA-04, issue 22) pinned by real
// device traffic on loopback, with the fake Exchange's faults for the
// server's 503s and resets and raw device sockets for the device's closes,
// resets and stalls.

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/gateway"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/internal/selfsigned"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// counterWorld is a world with one-second device timeouts, so that the
// stalls below end quickly, and one credential check at a time, so that
// a second new device finds the gateway busy (d-http-503-c2s).
func counterWorld(t *testing.T) *world {
	return newWorld(t, func(w *world) {
		w.gwConfig = func(gc *uemapi.GatewayConfig) {
			gc.Timeouts.SocketReadWriteMs, gc.Timeouts.DeviceRequestMs = 1000, 1000
		}
		w.gwBoot = func(c *gateway.Config) { c.MaxCredentialChecks = 1 }
	})
}

// global returns the gateway's sums over devices, by counter name.
func (w *world) global() map[string]uint64 {
	w.t.Helper()
	cs, err := w.adm.StatsGlobalDevice(context.Background(), "")
	if err != nil {
		w.t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, c := range cs {
		out[c.Name] = c.Value
	}
	return out
}

// entry returns one device's counters by name.
func (w *world) entry(dev, user string) map[string]uint64 {
	w.t.Helper()
	cs, err := w.adm.StatsEntry(context.Background(), dev, user, "")
	if err != nil {
		w.t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, c := range cs {
		out[c.Name] = c.Value
	}
	return out
}

// Every counter the code declares (stats.Counters, not a hand list) is
// incremented by real loopback traffic: this test's device traffic, or
// the traffic of the test pinnedBy names for it (a UEM decision, a server
// fault, Kerberos, source limits, attachment control), which checks it in
// turn. A new counter fails here until some traffic reaches it.
func TestSTA01EveryDeclaredCounterCountsOnTraffic(t *testing.T) {
	w := counterWorld(t)
	w.provision("ALICEPHONE", "alice")
	for range 3 {
		if code, _ := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); code != http.StatusOK {
			t.Fatalf("FolderSync: HTTP %d", code)
		}
	}
	for _, cmd := range []eas.Command{eas.CmdPing, eas.CmdGetAttachment, eas.CmdItemOperations, eas.CmdSearch} {
		w.device("ALICEPHONE", "alice", cmd)
	}
	w.options()
	w.serverFaults(t)
	w.serverStatuses(t)
	w.blockDevice("BOBPHONE", "bob") // Status 129 in the body: a status report, not a 449
	if e := w.entry("BOBPHONE", "bob"); e["active-sync-status-reports"] == 0 || e["d-http-449"] != 0 {
		t.Fatalf("blocked 14.1 device: status reports %d, d-http-449 %d; want >0 and 0", e["active-sync-status-reports"], e["d-http-449"])
	}
	if e := w.entry("ALICEPHONE", "alice"); e["d-connection"] == 0 || e["d-connection"] >= e["d-http-requests"] {
		t.Fatalf("d-connection %d for %d requests on keep-alive connections: it counts requests", e["d-connection"], e["d-http-requests"])
	}
	w.deviceSockets(t)
	w.busyAdmission(t)
	w.unparseable()
	w.refusedIdentities(t)
	w.serverRedirect(t)

	var mine []stats.Counter
	for _, c := range stats.Counters() {
		if pinnedBy[c] == "" {
			mine = append(mine, c)
		}
	}
	w.expectCounted(mine)
}

// expectCounted waits until every counter of cs is non-zero in the global sums.
func (w *world) expectCounted(cs []stats.Counter) {
	w.t.Helper()
	gomega.NewWithT(w.t).Eventually(func() []string {
		got := w.global()
		var zero []string
		for _, c := range cs {
			if got[c.String()] == 0 {
				zero = append(zero, c.String())
			}
		}
		return zero
	}).WithTimeout(10*time.Second).Should(gomega.BeEmpty(), "counters never incremented by the traffic")
}

// expectPinned checks the counters pinnedBy gives to the running test.
func (w *world) expectPinned() {
	w.t.Helper()
	var cs []stats.Counter
	for _, c := range stats.Counters() {
		if pinnedBy[c] == w.t.Name() {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		w.t.Fatalf("pinnedBy gives %s no counter", w.t.Name())
	}
	w.expectCounted(cs)
}

// options sends OPTIONS on the devices' keep-alive connection (cmd-options).
func (w *world) options() {
	req, _ := http.NewRequest(http.MethodOptions, w.gw.DeviceURL()+"/Microsoft-Server-ActiveSync", nil)
	req.SetBasicAuth("alice", "alice-pw")
	if resp, err := w.hc.Do(req); err == nil {
		resp.Body.Close()
	}
}

// serverFaults: the fake Exchange answers 503 (d-http-503-s2c, a throttled
// Sync) and resets connections (s-err-reset, and err-conn-pooling on a
// pooled connection).
func (w *world) serverFaults(t *testing.T) {
	if err := w.exch.SetFaults(exchange.Faults{ErrorRate: 1, ErrorStatus: http.StatusServiceUnavailable}); err != nil {
		t.Fatal(err)
	}
	if code, _ := w.device("ALICEPHONE", "alice", eas.CmdSync); code != http.StatusServiceUnavailable {
		t.Fatalf("Sync with Exchange answering 503: HTTP %d", code)
	}
	if err := w.exch.SetFaults(exchange.Faults{ResetRate: 1}); err != nil {
		t.Fatal(err)
	}
	if code, _ := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); code != http.StatusBadGateway {
		t.Fatalf("FolderSync with Exchange resetting: HTTP %d", code)
	}
	if err := w.exch.SetFaults(exchange.Faults{}); err != nil {
		t.Fatal(err)
	}
}

// rawRequest opens a TLS connection to the device listener and sends a
// FolderSync head announcing a body of bodyLen bytes, of which it sends
// sent.
func (w *world) rawRequest(t *testing.T, bodyLen, sent int) (*tls.Conn, *net.TCPConn) {
	u, _ := url.Parse(w.gw.DeviceURL())
	tcp, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	c := tls.Client(tcp, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // test peer
	_ = c.SetDeadline(time.Now().Add(15 * time.Second))         // bounded: a gateway that never closes fails the test
	q := &eas.Query{Cmd: eas.CmdFolderSync, User: "alice", DeviceID: "ALICEPHONE", DeviceType: "iPhone"}
	fmt.Fprintf(c, "POST /Microsoft-Server-ActiveSync?%s HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic YWxpY2U6YWxpY2UtcHc=\r\n"+
		"MS-ASProtocolVersion: 14.1\r\nX-MS-PolicyKey: %s\r\nContent-Type: application/vnd.ms-sync.wbxml\r\nContent-Length: %d\r\n\r\n%s",
		q.Encode(false), u.Host, w.keys["ALICEPHONE"], bodyLen, make([]byte, sent))
	return c, tcp.(*net.TCPConn)
}

// deviceSockets: a device closes after its answer (d-so-close), resets
// (d-err-reset), stalls in a body (d-err-cmd-timeout) and leaves a
// connection idle past the Device request timeout (d-err-conn-timeout).
func (w *world) deviceSockets(t *testing.T) {
	var wg sync.WaitGroup
	for _, end := range []string{"close", "reset", "idle"} {
		c, tcp := w.rawRequest(t, 0, 0)
		if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil {
			t.Fatalf("%s: %v", end, err)
		} else {
			resp.Body.Close()
		}
		switch end {
		case "close":
			_ = tcp.CloseWrite()
		case "reset":
			_ = tcp.SetLinger(0)
		}
		wg.Add(1)
		go func() { // the idle one waits for the gateway to close it
			defer wg.Done()
			if end == "idle" {
				_, _ = c.Read(make([]byte, 1))
			}
			c.Close()
		}()
	}
	stall, _ := w.rawRequest(t, 100, 10)
	_, _ = stall.Read(make([]byte, 1)) // the gateway gives up on the body
	stall.Close()
	wg.Wait()
}

// busyAdmission: three new devices at once, Exchange slowed so that their
// credential checks overlap; with one check allowed in flight the others
// get the gateway's own 503 (d-http-503-c2s).
func (w *world) busyAdmission(t *testing.T) {
	if err := w.exch.SetFaults(exchange.Faults{LatencyMs: 2000}); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.exch.SetFaults(exchange.Faults{}) }()
	var busy atomic.Int32
	for round := 0; round < 3 && busy.Load() == 0; round++ {
		var wg sync.WaitGroup
		for i := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, _ := w.device(fmt.Sprintf("BUSYPHONE%d%d", round, i), "bob", eas.CmdFolderSync)
				if code == http.StatusServiceUnavailable {
					busy.Add(1)
				}
			}()
		}
		wg.Wait()
	}
	if busy.Load() == 0 {
		t.Fatal("no new device was refused while a credential check was in flight")
	}
}

// unparseable: a request that is no ActiveSync command (d-unclassified)
// and requests that name no command (cmd-none).
func (w *world) unparseable() {
	for _, q := range []string{"?Cmd=%zz", "", "?User=alice&DeviceId=ALICEPHONE&DeviceType=iPhone"} {
		req, _ := http.NewRequest(http.MethodPost, w.gw.DeviceURL()+"/Microsoft-Server-ActiveSync"+q, nil)
		if resp, err := w.hc.Do(req); err == nil {
			resp.Body.Close()
		}
	}
}

// serverRedirect points the service at a server answering 302
// (s-http-3xx-redirects).
func (w *world) serverRedirect(t *testing.T) {
	srv := newRedirectServer(t)
	gc := uemapi.DefaultGatewayConfig()
	gc.ActiveSync.Services = []uemapi.ActiveSyncService{uemapi.DefaultActiveSyncService(srv)}
	gc.ActiveSync.Services[0].ServerTLS = true
	w.uemAdmin(http.MethodPut, "/gateways/gw1/config", gc, nil)
	w.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	gomega.NewWithT(t).Eventually(func() int {
		code, _ := w.device("ALICEPHONE", "alice", eas.CmdFolderSync)
		return code
	}).WithTimeout(20*time.Second).Should(gomega.Equal(http.StatusFound), "the redirecting server in use")
}

// newRedirectServer starts a TLS server answering every request with 302
// and returns its host:port.
func newRedirectServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://elsewhere.example/owa", http.StatusFound)
	}), ReadHeaderTimeout: 5 * time.Second}
	cert, err := selfsigned.Generate("127.0.0.1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}
