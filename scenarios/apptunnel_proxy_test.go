package scenarios_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// recordingProxy is a minimal explicit HTTP proxy (absolute-form and
// CONNECT) that records what it was asked, the server-side proxy of the
// traffic-control specs. The real-peer test uses squid
// (gateway/apptunnel's peers test).
type recordingProxy struct {
	ln   net.Listener
	mu   sync.Mutex
	reqs []*http.Request
}

func newRecordingProxy() *recordingProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	p := &recordingProxy{ln: ln}
	DeferCleanup(ln.Close)
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

func (p *recordingProxy) server(name string) uemapi.ProxyServer {
	host, port, _ := net.SplitHostPort(p.ln.Addr().String())
	n, _ := strconv.Atoi(port)
	return uemapi.ProxyServer{Name: name, Host: host, Port: n}
}

func (p *recordingProxy) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	p.mu.Lock()
	p.reqs = append(p.reqs, req)
	p.mu.Unlock()
	if req.Method != http.MethodConnect {
		req.RequestURI = ""
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			return
		}
		defer resp.Body.Close()
		_ = resp.Write(c)
		return
	}
	up, err := net.Dial("tcp", req.Host)
	if err != nil {
		_, _ = io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
		return
	}
	defer up.Close()
	_, _ = io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	go func() { _, _ = io.Copy(up, br); up.Close(); c.Close() }()
	_, _ = io.Copy(c, up)
}

// saw reports whether an absolute-form request for path went through.
func (p *recordingProxy) saw(path string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.reqs {
		if r.Method != http.MethodConnect && strings.HasSuffix(r.URL.Path, path) {
			return true
		}
	}
	return false
}

// connectHeader is a header of the CONNECT for hostport ("" if none came).
func (p *recordingProxy) connectHeader(hostport, name string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.reqs {
		if r.Method == http.MethodConnect && r.Host == hostport {
			return r.Header.Get(name)
		}
	}
	return ""
}
