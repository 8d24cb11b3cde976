package lab

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
)

// AppTunnelURL is the gateway's AppTunnel listener (docs/apptunnel.md):
// "https://host:port", or "" when the lab's gateway has none (external
// gateways; the scenarios take theirs from a setting).
func (l *Lab) AppTunnelURL() string {
	if sp, ok := l.gw.(*subprocess); ok {
		return "https://" + sp.tunnel
	}
	g, ok := l.gw.(*inProcess)
	if !ok {
		return ""
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.tunnel == "" {
		return ""
	}
	return "https://" + g.tunnel
}

// HeaderEcho is an intranet web server for AppTunnel: it answers every
// request with the request's headers as JSON (and Host and Path), so that
// a test sees what reached the server (CTX-02).
func HeaderEcho() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := map[string]string{"Host": r.Host, "Path": r.URL.Path}
		for k := range r.Header {
			h[k] = r.Header.Get(k)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(h)
	}))
}

// TCPEcho is a TCP echo server on loopback for TCP tunnels; close the
// listener to stop it.
func TCPEcho() (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	return ln, nil
}
