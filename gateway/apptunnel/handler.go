package apptunnel

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gatehouse-lab/gatehouse/gateway/deviceauth"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Request headers of the tunnel protocol (docs/apptunnel.md §2).
const (
	HeaderAppID      = "X-Gatehouse-App-Id"
	HeaderService    = "X-Gatehouse-Tunnel-Service"
	HeaderVersion    = "X-Gatehouse-Tunnel-Version"
	HeaderPlatform   = "X-Gatehouse-Platform"
	HeaderDeviceUUID = "X-Gatehouse-Device-UUID"
)

// call is one tunnel request as the handler works it out.
type call struct {
	id       *deviceauth.Identity
	uuid     string
	app      string
	platform string
	version  uemapi.TunnelVersion
	svc      *service
	hostport string // as the app asked
	dest     string // where to connect
	route    Route
	client   netip.AddrPort
}

// ServeHTTP is the tunnel listener's handler: CONNECT or absolute-form.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.metrics.seen(r)
	st := s.cur.Load()
	connect := r.Method == http.MethodConnect
	if connect {
		s.metrics.Connect.Add(1)
	} else {
		s.metrics.HTTP.Add(1)
	}
	c, rf := s.admit(st, r, connect)
	if rf != nil {
		s.refuse(w, r, c, rf)
		return
	}
	if connect {
		s.serveConnect(w, r, st, c)
		return
	}
	s.serveHTTP(w, r, st, c)
}

// admit runs the checks that need no server (docs/apptunnel.md §3, 1-3).
func (s *Server) admit(st *settings, r *http.Request, connect bool) (*call, *refusal) {
	c := &call{}
	c.client, _ = netip.ParseAddrPort(r.RemoteAddr)
	if headerBytes(r) > MaxHeaderBytes {
		return c, refuse(ReasonOversized, "request head over the limit")
	}
	id, rf := s.deviceIdentity(st, r)
	if rf != nil {
		return c, rf
	}
	c.id = id
	if c.app = r.Header.Get(HeaderAppID); c.app == "" {
		return c, refuse(ReasonAppIDMissing, "no app id")
	}
	if c.uuid = certUUID(id); c.uuid == "" {
		c.uuid = r.Header.Get(HeaderDeviceUUID)
	}
	if c.uuid == "" {
		return c, refuse(ReasonDeviceUUIDMissing, "no device uuid")
	}
	if rf := c.parseHeaders(r, connect); rf != nil {
		return c, rf
	}
	if !st.enabled {
		return c, refuse(ReasonDisabled, "apptunnel is off")
	}
	hostport, rf := target(r, connect)
	if rf != nil {
		return c, rf
	}
	c.hostport = hostport
	if c.svc, rf = st.services.pick(r.Header.Get(HeaderService), hostport, connect); rf != nil {
		return c, rf
	}
	if c.dest, rf = c.svc.destination(hostport); rf != nil {
		return c, rf
	}
	return c, nil
}

func (c *call) parseHeaders(r *http.Request, connect bool) *refusal {
	c.version = uemapi.TunnelV1
	if connect {
		c.version = uemapi.TunnelV2
	}
	switch v := r.Header.Get(HeaderVersion); v {
	case "":
	case string(uemapi.TunnelV1), string(uemapi.TunnelV2):
		c.version = uemapi.TunnelVersion(v)
	default:
		return refuse(ReasonMalformed, "tunnel version "+strconv.Quote(v))
	}
	switch p := strings.ToLower(r.Header.Get(HeaderPlatform)); p {
	case "", "ios", "macos", "android", "windows":
		c.platform = p
	default:
		return refuse(ReasonMalformed, "platform "+strconv.Quote(p))
	}
	for _, f := range []string{c.app, c.uuid} {
		if len(f) > 255 || strings.ContainsFunc(f, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
			return refuse(ReasonMalformed, "app id or device uuid")
		}
	}
	return nil
}

// target is the destination host:port the request names.
func target(r *http.Request, connect bool) (string, *refusal) {
	if connect {
		h, p, err := net.SplitHostPort(r.Host)
		if n, perr := strconv.Atoi(p); err != nil || h == "" || perr != nil || n < 0 || n > 65535 {
			return "", refuse(ReasonMalformed, "CONNECT authority "+strconv.Quote(r.Host))
		}
		return r.Host, nil
	}
	if !r.URL.IsAbs() || r.URL.Scheme != "http" || r.URL.Hostname() == "" {
		return "", refuse(ReasonMalformed, "not an absolute http URL")
	}
	if te := r.TransferEncoding; len(te) > 0 && (len(te) > 1 || te[0] != "chunked") {
		return "", refuse(ReasonMalformed, "transfer encoding")
	}
	port := r.URL.Port()
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(r.URL.Hostname(), port), nil
}

// certUUID is the device UUID of the certificate's urn:uuid URI SAN.
func certUUID(id *deviceauth.Identity) string {
	if id == nil || id.Cert == nil {
		return ""
	}
	for _, u := range id.Cert.URIs {
		if u.Scheme == "urn" && strings.HasPrefix(strings.ToLower(u.Opaque), "uuid:") {
			return u.Opaque[len("uuid:"):]
		}
	}
	return ""
}

// headerBytes is the size of the request head as sent, near enough.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + 12
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// refuse answers and counts a refusal, and audits it when the request got
// as far as naming a service.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, c *call, rf *refusal) {
	s.refused(c, rf.reason)
	s.cfg.Log.Info("apptunnel request refused", "reason", string(rf.reason), "detail", rf.detail, "client", r.RemoteAddr)
	if c != nil && c.svc != nil {
		s.auditBlock(r, c)
	}
	writeRefusal(w, rf.reason)
}

// deviceIdentity is device authentication (ATS-17): the identity
// certificate, or a Kerberos ticket for the gateway (kerberosauth.go).
// Pass Through (and any other mode) does not apply to AppTunnel.
func (s *Server) deviceIdentity(st *settings, r *http.Request) (*deviceauth.Identity, *refusal) {
	if st.auth == nil || st.auth.Mode() == uemapi.DeviceAuthPassThrough {
		return nil, refuse(ReasonAuthUnsupported, "pass through device authentication is ActiveSync-only")
	}
	if st.kerberos {
		return s.kerberosIdentity(r)
	}
	if st.auth.Mode() != uemapi.DeviceAuthIdentity {
		return nil, refuse(ReasonAuthUnsupported, "device authentication is not identity certificate")
	}
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, refuse(ReasonNoCertificate, "no client certificate")
	}
	id, err := authenticate(st.auth, r)
	if err != nil {
		if errors.Is(err, deviceauth.ErrNoCertificate) {
			return nil, refuse(ReasonNoCertificate, err.Error())
		}
		return nil, refuse(ReasonUntrusted, err.Error())
	}
	return id, nil
}

// authenticate checks the request's certificate once per connection and
// device-authentication setting (see connInfo.auth).
func authenticate(a *deviceauth.Authenticator, r *http.Request) (*deviceauth.Identity, error) {
	ci, _ := r.Context().Value(connKey{}).(*connInfo)
	if ci != nil {
		if c := ci.auth.Load(); c != nil && c.by == a {
			return c.id, nil
		}
	}
	id, err := a.Authenticate(r)
	if err == nil && ci != nil {
		ci.auth.Store(&checkedIdentity{by: a, id: id})
	}
	return id, err
}
