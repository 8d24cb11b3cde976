package apptunnel

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/audit"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// serveConnect runs one CONNECT tunnel (V2). When traffic control needs
// the destination host it answers 200 first and reads the app's first
// bytes (ATC-12); a refusal after that closes the connection.
func (s *Server) serveConnect(w http.ResponseWriter, r *http.Request, st *settings, c *call) {
	peek := c.svc.proxyATC && st.traffic.Active() && st.traffic.NeedsHost()
	if !peek {
		c.route = decide(st, c, "")
		if c.route.Action == uemapi.ActionBlock {
			s.refuse(w, r, c, refuse(ReasonATCBlocked, "traffic control"))
			return
		}
		if rf := s.admitTunnel(r.Context(), c); rf != nil {
			s.refuse(w, r, c, rf)
			return
		}
		if _, rf := s.kerberosHeader(r, c); rf != nil {
			s.refuse(w, r, c, rf) // Kerberos server auth on a CONNECT tunnel (ATS-14)
			return
		}
	} else if rf := s.knownBlocked(c); rf != nil {
		s.refuse(w, r, c, rf) // a known block needs no peek, and gets its status
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		s.refuse(w, r, c, refuse(ReasonMalformed, "connection cannot be hijacked"))
		return
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return
	}
	s.track(conn)
	s.wg.Add(1)
	defer func() {
		conn.Close()
		s.untrack(conn)
		s.wg.Done()
	}()
	var early []byte // bytes the app sent after the CONNECT head
	if n := brw.Reader.Buffered(); n > 0 {
		early, _ = brw.Reader.Peek(n)
		early = append([]byte(nil), early...)
	}
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	if peek {
		host, consumed := s.peekHost(conn, early)
		early = consumed
		c.route = decide(st, c, host)
		if c.route.Action == uemapi.ActionBlock {
			s.refused(c, ReasonATCBlocked)
			s.auditBlock(r, c)
			return
		}
		rf := s.admitTunnel(context.Background(), c)
		if rf == nil {
			_, rf = s.kerberosHeader(r, c)
		}
		if rf != nil {
			s.refused(c, rf.reason)
			s.auditBlock(r, c)
			return
		}
	}
	uc := s.auditRequest(r, c, audit.ActionAllow)
	up, err := s.dialTunnel(r.Context(), st, c)
	if err != nil {
		reason := ReasonUpstream
		if errors.Is(err, errProxyRefused) {
			reason = ReasonProxyRefused
		}
		s.refused(c, reason)
		s.cfg.Log.Info("apptunnel server unreachable", "service", c.svc.name, "error", err)
		uc.End(audit.Response{HTTPStatus: http.StatusBadGateway})
		return
	}
	s.track(up)
	defer func() { up.Close(); s.untrack(up) }()
	host, port := splitPort(c.dest)
	uc.End(audit.Response{Server: host, ServerPort: port, HTTPStatus: http.StatusOK})
	if len(early) > 0 {
		if _, err := up.Write(early); err != nil {
			return
		}
		s.metrics.BytesUp.Add(uint64(len(early)))
		if d := s.statDevice(c); d != nil {
			d.Add(stats.TunnelBytesUp, uint64(len(early)))
		}
	}
	s.statsOpened(c)
	s.splice(conn, up, s.statDevice(c))
}

// knownBlocked refuses a tunnel the cache already knows as blocked.
func (s *Server) knownBlocked(c *call) *refusal {
	key, err := Key(c.uuid, c.id.UPN, c.app)
	if err != nil {
		return refuse(ReasonMalformed, err.Error())
	}
	if e, ok := s.cfg.Tunnels.Cache.Get(key); ok {
		if rf := refusalOf(e); rf != "" {
			return refuse(rf, "tunnel state")
		}
	}
	return nil
}

// peekHost reads the app's first bytes within the peek timeout and
// returns the destination host they name and every byte read.
func (s *Server) peekHost(conn net.Conn, early []byte) (string, []byte) {
	_ = conn.SetReadDeadline(time.Now().Add(s.cfg.PeekTimeout))
	defer func() { _ = conn.SetReadDeadline(time.Time{}) }()
	host, consumed := sniffHost(io.MultiReader(strings.NewReader(string(early)), conn))
	return host, consumed
}

// dialTunnel connects to the destination, directly or through the
// proxy with CONNECT carrying the context headers (ATC-03, CTX-04).
func (s *Server) dialTunnel(ctx context.Context, st *settings, c *call) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.DialTimeout)
	defer cancel()
	d := &net.Dialer{}
	if c.route.Action != uemapi.ActionProxy {
		conn, err := d.DialContext(ctx, "tcp", c.dest)
		if err != nil {
			return nil, fmt.Errorf("apptunnel: dial %s: %w", c.dest, err)
		}
		if c.svc.tls && !c.svc.reserved && c.svc.kind != KindTCP {
			host, _ := splitPort(c.dest)
			cfg := s.cfg.UpstreamTLS.Clone()
			if cfg == nil {
				cfg = &tls.Config{}
			}
			cfg.ServerName = host
			return tls.Client(conn, cfg), nil
		}
		return conn, nil
	}
	conn, err := d.DialContext(ctx, "tcp", c.route.Proxy)
	if err != nil {
		return nil, fmt.Errorf("apptunnel: dial proxy %s: %w", c.route.Proxy, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Host: c.dest}, Host: c.dest, Header: http.Header{}}
	if st.ctxHdrs {
		addContextHeaders(req.Header, c)
	}
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, fmt.Errorf("apptunnel: CONNECT to proxy: %w", err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil || resp.StatusCode/100 != 2 {
		conn.Close()
		if err == nil {
			err = fmt.Errorf("%w: %s", errProxyRefused, resp.Status)
		}
		return nil, fmt.Errorf("apptunnel: CONNECT to proxy: %w", err)
	}
	_ = conn.SetDeadline(time.Time{})
	if br.Buffered() > 0 { // the proxy spoke first past its 200: keep it
		return &bufferedConn{Conn: conn, r: br}, nil
	}
	return conn, nil
}

var errProxyRefused = errors.New("proxy refused CONNECT")

// bufferedConn reads what a bufio.Reader kept before the connection.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }
