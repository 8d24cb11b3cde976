package gateway_test

// The server-side counters of STA-03 and the redirects of RDR-06 through
// real faults: the fake Exchange's latency and 451s, and a
// scripted TLS server (front) that hangs, stalls or talks nonsense where
// the fake Exchange cannot.

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
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
	"github.com/gatehouse-lab/gatehouse/internal/selfsigned"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// front is a TLS server whose next connections behave as mode says:
// "hang" never finishes the TLS handshake, "close" closes the connection
// (TLS close_notify) once it has read a request, "garbage" answers with
// no HTTP at all, "stall" sends a response head and 10 of the
// 1,000 bytes it announced, "mib" answers 1.1 MiB, "huge" streams a
// 256 MiB body.
type front struct {
	ln   net.Listener
	cfg  *tls.Config
	mode atomic.Value // string
	done chan struct{}
	wg   sync.WaitGroup
}

func newFront(t *testing.T) *front {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := selfsigned.Generate("127.0.0.1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	f := &front{ln: ln, cfg: &tls.Config{Certificates: []tls.Certificate{cert}}, done: make(chan struct{})}
	f.mode.Store("hang")
	f.wg.Add(1)
	go f.serve()
	t.Cleanup(func() { close(f.done); ln.Close(); f.wg.Wait() })
	return f
}

func (f *front) serve() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer c.Close()
			go func() { <-f.done; c.Close() }()
			f.conn(c, f.mode.Load().(string))
		}()
	}
}

func (f *front) conn(c net.Conn, mode string) {
	if mode == "hang" {
		<-f.done
		return
	}
	tc := tls.Server(c, f.cfg)
	req, err := http.ReadRequest(bufio.NewReader(tc))
	if err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, req.Body)
	switch mode {
	case "close":
		_ = tc.Close()
	case "garbage":
		_, _ = tc.Write([]byte("this is no HTTP\r\n\r\n"))
	case "stall":
		fmt.Fprintf(tc, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: 1000\r\n\r\n%s", eas.ContentTypeWBXML, make([]byte, 10))
		<-f.done
	case "mib":
		fmt.Fprintf(tc, "HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", 1100<<10)
		_, _ = tc.Write(make([]byte, 1100<<10))
	case "huge":
		fmt.Fprintf(tc, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", 256<<20)
		chunk := make([]byte, 64<<10)
		for range 256 << 4 {
			if _, err := tc.Write(chunk); err != nil {
				return
			}
		}
	}
}

// faultWorld has one-second socket and response timeouts, a 300 ms
// connect timeout, a 100 ms Ping margin and servers that are never
// declared dead, plus two services by Host: "front.corp.example" (the
// front) and "limited.corp.example" (the fake Exchange, limited to 12.1).
func faultWorld(t *testing.T, f *front) *world {
	return newWorld(t, func(w *world) {
		w.gwBoot = func(c *gateway.Config) { c.PingMargin = 100 * time.Millisecond }
		w.gwConfig = func(gc *uemapi.GatewayConfig) {
			gc.Timeouts.SocketReadWriteMs, gc.Timeouts.ServerResponseMs, gc.Timeouts.ServerConnectMs = 1000, 1000, 300
			gc.Servers.DeadThreshold = 1000
			fr := uemapi.DefaultActiveSyncService(f.ln.Addr().String())
			fr.Name, fr.ServerTLS = "front.corp.example", true
			lim := uemapi.DefaultActiveSyncService(w.exch.Addr())
			lim.Name, lim.ServerTLS, lim.LimitProtocolVersion = "limited.corp.example", true, "12.1"
			gc.ActiveSync.Services = append(gc.ActiveSync.Services, fr, lim)
		}
	})
}

// Server faults: response timeouts for Ping, Sync and others (the fake
// Exchange's latency), 451s followed, dropped and refused, a version over
// the service's limit, and through the front a connect timeout, a stalled
// body, a close without an answer, a response that is no HTTP, and a device that never reads a huge
// response (d-err-so-timeout).
func TestSTA01CountersOnServerFaults(t *testing.T) {
	f := newFront(t)
	w := faultWorld(t, f)
	w.provisionPatiently(t, "ALICEPHONE", "alice")
	w.responseTimeouts(t)
	w.host = "limited.corp.example"
	if code, _ := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); code != http.StatusBadRequest {
		t.Fatalf("14.1 on a service limited to 12.1: HTTP %d, want 400", code)
	}
	w.host = "front.corp.example"
	// Each fault until its own counter moved: on a loaded machine the
	// 300 ms connect timeout (TLS handshake included) or the 1 s ones can
	// end an attempt before the front's answer and count a timeout
	// instead ("garbage" never counted s-unclassified at load 25).
	for _, c := range []struct{ mode, counter string }{
		{"hang", "s-err-conn-timeout"}, {"close", "s-so-close"}, {"garbage", "s-unclassified"}, {"stall", "s-err-so-timeout"},
	} {
		f.mode.Store(c.mode)
		before := w.global()[c.counter]
		gomega.NewWithT(t).Eventually(func() uint64 {
			if code := w.try("ALICEPHONE", "alice", eas.CmdFolderSync); code < 500 && c.mode != "stall" {
				t.Fatalf("front %s: HTTP %d, want a 5xx", c.mode, code)
			}
			return w.global()[c.counter]
		}).WithTimeout(30*time.Second).Should(gomega.BeNumerically(">", before), "%s after the front's %s", c.counter, c.mode)
	}
	f.mode.Store("huge")
	w.neverReads(t)
	w.host = ""
	w.redirects451(t) // last: the gateway remembers where it was redirected
	w.expectPinned()
}

// provisionPatiently provisions dev as provision does, sending each step
// until the gateway relays Exchange's answer (at most 30 s): the fault
// world's 300 ms connect and 1 s response timeouts turned the first
// Provision into a 502 on a loaded machine (1 run in 10 at load 30).
func (w *world) provisionPatiently(t *testing.T, dev, user string) {
	g := gomega.NewWithT(t)
	step := func(req []byte) eas.ProvisionResponse {
		var pr eas.ProvisionResponse
		g.Eventually(func() bool {
			pr = eas.ProvisionResponse{}
			_, root := w.post(dev, user, eas.CmdProvision, req)
			return root != nil && wbxml.NodeToStruct(root, &pr) == nil && len(pr.Policies) > 0 && pr.Policies[0].PolicyKey != ""
		}).WithTimeout(30*time.Second).Should(gomega.BeTrue(), "Provision of %s relayed", dev)
		return pr
	}
	first, _ := wbxml.MarshalStruct(&eas.ProvisionRequest{Policies: []eas.PolicyRequest{{PolicyType: eas.PolicyTypeWBXML}}})
	temp := step(first).Policies[0].PolicyKey
	ack, _ := wbxml.MarshalStruct(&eas.ProvisionRequest{Policies: []eas.PolicyRequest{{PolicyType: eas.PolicyTypeWBXML, PolicyKey: temp, Status: 1}}})
	w.keys[dev] = step(ack).Policies[0].PolicyKey
}

// responseTimeouts: Exchange takes 2.5 s; Ping (heartbeat 1 s), Sync and
// FolderSync time out at 1.1 s, 1 s and 1 s, at once.
func (w *world) responseTimeouts(t *testing.T) {
	if err := w.exch.SetFaults(exchange.Faults{LatencyMs: 2500}); err != nil {
		t.Fatal(err)
	}
	ping, _ := eas.EncodeMessage(&eas.PingRequest{HeartbeatInterval: 1, Folders: []eas.PingFolder{{Id: "1", Class: "Email"}}})
	var wg sync.WaitGroup
	for _, cmd := range []eas.Command{eas.CmdPing, eas.CmdSync, eas.CmdFolderSync} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var body []byte
			if cmd == eas.CmdPing {
				body = ping
			}
			w.send("ALICEPHONE", "alice", "alice-pw", "14.1", cmd, w.keys["ALICEPHONE"], body)
		}()
	}
	wg.Wait()
	if err := w.exch.SetFaults(exchange.Faults{}); err != nil {
		t.Fatal(err)
	}
}

// redirects451: alice's mailbox moves to an http:// location (refused) and
// then to the fake Exchange itself, which the gateway follows until its
// limit of hops, withholding each 451 from the device.
func (w *world) redirects451(t *testing.T) {
	for _, loc := range []string{"http://127.0.0.1:9" + exchange.EASPath, w.exch.EASURL()} {
		if err := w.exch.SetRedirect("alice", loc); err != nil {
			t.Fatal(err)
		}
		w.device("ALICEPHONE", "alice", eas.CmdFolderSync)
	}
	if err := w.exch.SetRedirect("alice", ""); err != nil {
		t.Fatal(err)
	}
}

// neverReads sends a FolderSync on a socket with a 4 KiB receive buffer
// and never reads the front's huge answer: the gateway's writes to it
// time out.
func (w *world) neverReads(t *testing.T) {
	u, _ := url.Parse(w.gw.DeviceURL())
	tcp, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	_ = tcp.(*net.TCPConn).SetReadBuffer(4096)
	c := tls.Client(tcp, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // test peer
	_ = c.SetDeadline(time.Now().Add(15 * time.Second))
	q := &eas.Query{Cmd: eas.CmdFolderSync, User: "alice", DeviceID: "ALICEPHONE", DeviceType: "iPhone"}
	fmt.Fprintf(c, "POST /Microsoft-Server-ActiveSync?%s HTTP/1.1\r\nHost: front.corp.example\r\nAuthorization: Basic YWxpY2U6YWxpY2UtcHc=\r\n"+
		"MS-ASProtocolVersion: 14.1\r\nX-MS-PolicyKey: %s\r\nContent-Length: 0\r\n\r\n", q.Encode(false), w.keys["ALICEPHONE"])
	w.waitFor(t, "d-err-so-timeout")
}

// try sends a bodiless command as w.device does and returns the HTTP
// status, or 0 when the connection broke (a stalled body cut short).
func (w *world) try(dev, user string, cmd eas.Command) int {
	q := &eas.Query{Cmd: cmd, User: user, DeviceID: dev, DeviceType: "iPhone"}
	req, _ := http.NewRequest(http.MethodPost, w.gw.DeviceURL()+"/Microsoft-Server-ActiveSync?"+q.Encode(false), nil)
	req.SetBasicAuth(user, user+"-pw")
	req.Header.Set(eas.HeaderProtocolVersion, "14.1")
	req.Header.Set(eas.HeaderPolicyKey, w.keys[dev])
	req.Host = w.host
	resp, err := w.hc.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0
	}
	return resp.StatusCode
}
