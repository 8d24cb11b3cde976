package apptunnel

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-lab/gatehouse/internal/testca"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// echoServer is a TCP echo server on loopback.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			// A plain copy: io.Copy between TCP connections splices
			// through a pipe, two more descriptors per idle connection.
			go func() {
				defer c.Close()
				_, _ = io.CopyBuffer(struct{ io.Writer }{c}, struct{ io.Reader }{c}, make([]byte, 4096))
			}()
		}
	}()
	return ln.Addr().String()
}

// recordingProxy is a minimal explicit proxy that records the CONNECT
// heads and absolute-form requests it gets, then relays.
type recordingProxy struct {
	mu   sync.Mutex
	seen []*http.Request
	addr string
}

func newRecordingProxy(t *testing.T) *recordingProxy {
	t.Helper()
	p := &recordingProxy{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p.addr = ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *recordingProxy) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	p.mu.Lock()
	p.seen = append(p.seen, req)
	p.mu.Unlock()
	if req.Method != http.MethodConnect {
		resp, err := http.DefaultTransport.RoundTrip(req.WithContext(req.Context()))
		if err != nil {
			return
		}
		defer resp.Body.Close()
		_ = resp.Write(c)
		return
	}
	up, err := net.Dial("tcp", req.Host)
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
		return
	}
	defer up.Close()
	io.WriteString(c, "HTTP/1.1 200 OK\r\n\r\n")
	go func() { _, _ = io.Copy(up, br); up.Close(); c.Close() }()
	_, _ = io.Copy(c, up)
}

func (p *recordingProxy) requests() []*http.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*http.Request(nil), p.seen...)
}

func TestATS04TCPTunnelEchoes(t *testing.T) {
	w := newWorld(t)
	echo := echoServer(t)
	c := w.dial(false)
	resp, br := w.send(c, "CONNECT "+echo+" HTTP/1.1\r\nHost: "+echo+"\r\nX-Gatehouse-App-Id: com.tcp\r\n\r\n")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("CONNECT: %d %s", resp.StatusCode, resp.Header.Get(RefusalHeader))
	}
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		t.Fatal(err)
	}
	line, err := br.ReadString('\n')
	if err != nil || line != "ping\n" {
		t.Fatalf("echo %q %v", line, err)
	}
	key, _ := Key(testUUID, "alice@corp.example", "com.tcp")
	if e, ok := w.cache.Get(key); !ok || e.ProtocolVersion != "V2" {
		t.Fatalf("record %+v", e)
	}
}

func TestATS08RoundRobinPerTunnel(t *testing.T) {
	w := newWorld(t)
	e1, e2 := echoServer(t), echoServer(t)
	w.configure(func(at *uemapi.AppTunnelConfig, _ *uemapi.TrafficControl) {
		at.Services = append(at.Services, uemapi.AppTunnelService{Name: "TCP_Finance", Servers: e1 + ";" + e2, ServerAuth: uemapi.AuthPassThrough})
	})
	svc := w.srv.cur.Load().services.byName["TCP_Finance"]
	var got []string
	for range 4 {
		d, rf := svc.destination("TCP_Finance:0")
		if rf != nil {
			t.Fatal(rf)
		}
		got = append(got, d)
	}
	want := []string{e1, e2, e1, e2}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("round robin %v, want %v", got, want)
		}
	}
	c := w.dial(false)
	if resp, _ := w.send(c, "CONNECT TCP_Finance:0 HTTP/1.1\r\nHost: TCP_Finance:0\r\nX-Gatehouse-App-Id: com.fin\r\n\r\n"); resp.StatusCode != http.StatusOK {
		t.Fatalf("CONNECT by service name: %d", resp.StatusCode)
	}
}

func TestCTX02ContextHeadersOnHTTPTunnels(t *testing.T) {
	w := newWorld(t)
	_, _, echo := w.get("http://"+w.backendHostPort()+"/", map[string]string{HeaderAppID: "com.a", CtxUserUPN: "forged@x"})
	if _, ok := echo[http.CanonicalHeaderKey(CtxUserUPN)]; ok {
		t.Fatal("context headers off, yet an app-sent one reached the server")
	}
	if _, ok := echo[http.CanonicalHeaderKey(HeaderAppID)]; ok {
		t.Fatal("tunnel protocol header reached the server")
	}
	w.configure(func(at *uemapi.AppTunnelConfig, _ *uemapi.TrafficControl) { at.ContextHeaders = true })
	_, _, echo = w.get("http://"+w.backendHostPort()+"/", map[string]string{HeaderAppID: "com.a", CtxUserUPN: "forged@x"})
	if echo[http.CanonicalHeaderKey(CtxDeviceUUID)] != testUUID || echo[http.CanonicalHeaderKey(CtxUserUPN)] != "alice@corp.example" {
		t.Fatalf("context headers %v", echo)
	}
	if echo[http.CanonicalHeaderKey(CtxUserCert)] != base64.StdEncoding.EncodeToString(w.appCert.Leaf.Raw) || strings.Contains(echo[http.CanonicalHeaderKey(CtxUserCert)], "BEGIN") {
		t.Fatalf("certificate header %q", echo[http.CanonicalHeaderKey(CtxUserCert)])
	}
}

func TestCTX04ContextHeadersOnConnectToProxy(t *testing.T) {
	w := newWorld(t)
	proxy := newRecordingProxy(t)
	echo := echoServer(t)
	host, port, _ := net.SplitHostPort(proxy.addr)
	w.configure(func(at *uemapi.AppTunnelConfig, tc *uemapi.TrafficControl) {
		at.ContextHeaders = true
		at.Services[2].ProxyATC = true
		*tc = uemapi.TrafficControl{Mode: uemapi.TrafficProxy, Proxy: &uemapi.ProxyServer{Host: host, Port: atoi(port)}}
	})
	c := w.dial(false)
	resp, br := w.send(c, "CONNECT "+echo+" HTTP/1.1\r\nHost: "+echo+"\r\nX-Gatehouse-App-Id: com.tcp\r\n\r\n")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("CONNECT %d", resp.StatusCode)
	}
	io.WriteString(c, "x\n")
	if l, _ := br.ReadString('\n'); l != "x\n" {
		t.Fatalf("echo through proxy %q", l)
	}
	reqs := proxy.requests()
	if len(reqs) != 1 || reqs[0].Method != http.MethodConnect || reqs[0].Header.Get(CtxDeviceUUID) != testUUID {
		t.Fatalf("proxy saw %v", reqs)
	}
	// INC-06: a CONNECT tunnel not through a proxy carries no headers.
	w.configure(func(at *uemapi.AppTunnelConfig, _ *uemapi.TrafficControl) { at.ContextHeaders = true })
	c = w.dial(false)
	if resp, _ := w.send(c, "CONNECT "+echo+" HTTP/1.1\r\nHost: "+echo+"\r\nX-Gatehouse-App-Id: com.tcp\r\n\r\n"); resp.StatusCode != http.StatusOK {
		t.Fatal("direct CONNECT refused")
	}
	if len(proxy.requests()) != 1 {
		t.Fatal("direct traffic went through the proxy")
	}
}

func TestATC12SNIPeekedAndATC15BlockedCreatesNoRecord(t *testing.T) {
	w := newWorld(t)
	ca := testca.New(t, "tls backend CA", w.appCert.Leaf.NotBefore.Add(time1h), nil)
	tlsLn, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{ca.Server(t, "good.corp.example", "bad.corp.example")}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tlsLn.Close() })
	go func() {
		for {
			c, err := tlsLn.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	w.configure(func(at *uemapi.AppTunnelConfig, tc *uemapi.TrafficControl) {
		at.Services[2].ProxyATC = true
		*tc = uemapi.TrafficControl{Mode: uemapi.TrafficATC, DefaultAction: uemapi.ActionAllow,
			Rules: []uemapi.TrafficRule{{DestinationHost: "bad.corp.example", Action: uemapi.ActionBlock}}}
	})
	try := func(sni string) error {
		c := w.dial(false)
		resp, br := w.send(c, "CONNECT "+tlsLn.Addr().String()+" HTTP/1.1\r\nHost: x\r\nX-Gatehouse-App-Id: com.tls\r\n\r\n")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("CONNECT %d", resp.StatusCode)
		}
		tc := tls.Client(&bufConn{Conn: c, r: br}, &tls.Config{ServerName: sni, RootCAs: ca.Pool()})
		if err := tc.Handshake(); err != nil {
			return err
		}
		io.WriteString(tc, "hi\n")
		l, err := bufio.NewReader(tc).ReadString('\n')
		if l != "hi\n" {
			t.Fatalf("echo %q %v", l, err)
		}
		return nil
	}
	if err := try("good.corp.example"); err != nil {
		t.Fatalf("allowed host: %v", err)
	}
	if err := try("bad.corp.example"); err == nil {
		t.Fatal("ATC Block by SNI let the TLS handshake through")
	}
	if w.srv.Metrics().Refusals(ReasonATCBlocked) != 1 {
		t.Fatal("ATC block not counted")
	}
	if n := w.cache.Len(); n != 1 || w.uem.reportCount() != 1 {
		t.Fatalf("records %d reports %d: ATC-blocked traffic must create no tunnel (ATC-15)", n, w.uem.reportCount())
	}
}

type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufConn) Read(p []byte) (int, error) { return b.r.Read(p) }
