package apptunnel

import (
	"context"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"

	"github.com/gatehouse-lab/gatehouse/gateway/audit"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

type callKey struct{}

// transport is the one client towards servers and proxies; the proxy of
// a request (ATC) travels in its context.
func (s *Server) transport() *http.Transport {
	d := &net.Dialer{Timeout: s.cfg.DialTimeout}
	return &http.Transport{
		DialContext:     d.DialContext,
		TLSClientConfig: s.cfg.UpstreamTLS,
		Proxy: func(r *http.Request) (*url.URL, error) {
			if c, ok := r.Context().Value(callKey{}).(*call); ok && c.route.Action == uemapi.ActionProxy {
				return &url.URL{Scheme: "http", Host: c.route.Proxy}, nil
			}
			return nil, nil
		},
		MaxIdleConnsPerHost: 64, IdleConnTimeout: s.cfg.IdleTimeout, ForceAttemptHTTP2: false,
	}
}

// decide applies traffic control to a service with Proxy/ATC ticked
// (ATS-15, ATC-06); other traffic goes direct.
func decide(st *settings, c *call, host string) Route {
	if !c.svc.proxyATC || !st.traffic.Active() {
		return Route{Action: uemapi.ActionAllow, Rule: -1}
	}
	return st.traffic.Decide(host, c.app, c.platform)
}

// admitTunnel is the tunnel-state step (FLOW-06/07); ATC runs before it so
// that blocked traffic creates no tunnel record (ATC-15).
func (s *Server) admitTunnel(ctx context.Context, c *call) *refusal {
	d, err := s.cfg.Tunnels.Access(ctx, Request{User: c.id.UPN, App: c.app, DeviceUUID: c.uuid, Service: c.svc.name, Version: c.version})
	if err != nil {
		return refuse(ReasonMalformed, err.Error())
	}
	if d.FirstAccess {
		s.metrics.FirstAccess.Add(1)
	}
	if d.FailOpen {
		s.metrics.FailOpen.Add(1)
	}
	if d.Refusal != "" {
		return refuse(d.Refusal, "tunnel state")
	}
	return nil
}

// serveHTTP relays one absolute-form request (V1): to the server, or
// through the proxy traffic control chose, with the context headers.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request, st *settings, c *call) {
	c.route = decide(st, c, r.URL.Hostname())
	if c.route.Action == uemapi.ActionBlock {
		s.refuse(w, r, c, refuse(ReasonATCBlocked, "traffic control"))
		return
	}
	if rf := s.admitTunnel(r.Context(), c); rf != nil {
		s.refuse(w, r, c, rf)
		return
	}
	authz, rf := s.kerberosHeader(r, c)
	if rf != nil {
		s.refuse(w, r, c, rf)
		return
	}
	uc := s.auditRequest(r, c, audit.ActionAllow)
	status := 0
	rp := &httputil.ReverseProxy{
		Transport: s.tr,
		Rewrite: func(pr *httputil.ProxyRequest) {
			out := pr.Out
			out.URL.Scheme = "http"
			if c.svc.tls {
				out.URL.Scheme = "https"
			}
			out.URL.Host = c.dest
			out.Host = r.Host
			if !c.svc.reserved {
				out.Host = c.dest
			}
			stripTunnelHeaders(out.Header)
			if authz != "" {
				out.Header.Set("Authorization", authz) // the delegated ticket, never the app's credentials
			}
			if st.ctxHdrs {
				addContextHeaders(out.Header, c)
			}
		},
		ModifyResponse: func(resp *http.Response) error { status = resp.StatusCode; s.statsOpened(c); return nil },
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			status = ReasonUpstream.Status()
			s.refused(c, ReasonUpstream)
			s.cfg.Log.Info("apptunnel server unreachable", "service", c.svc.name, "error", err)
			writeRefusal(w, ReasonUpstream)
		},
	}
	cw, cr := s.countHTTP(w, r, c)
	rp.ServeHTTP(cw, cr.WithContext(context.WithValue(cr.Context(), callKey{}, c)))
	host, port := splitPort(c.dest)
	uc.End(audit.Response{Server: host, ServerPort: port, HTTPStatus: status})
}

// kerberosHeader is the Negotiate header for a service with Kerberos
// server authentication (ATS-11..14), "" for Pass Through. HTTP tunnels
// send it to the server; CONNECT tunnels only check that the KDC
// delegates the user to the server (kerberosConnect).
func (s *Server) kerberosHeader(r *http.Request, c *call) (string, *refusal) {
	if !c.svc.kerberos {
		return "", nil
	}
	var k Negotiator
	if s.cfg.Kerberos != nil {
		k = s.cfg.Kerberos()
	}
	if k == nil {
		return "", refuse(ReasonKerberos, "no Kerberos configuration")
	}
	asked, _ := splitPort(c.hostport)
	spn := c.svc.spnFor(c.dest, asked)
	v, err := k.NegotiateHeader(r.Context(), c.id.UPN, spn)
	if err != nil {
		return "", refuse(ReasonKerberos, spn+": "+err.Error())
	}
	return v, nil
}
