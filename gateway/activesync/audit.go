package activesync

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"

	"github.com/gatehouse-lab/gatehouse/gateway/audit"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync"
	"github.com/gatehouse-lab/gatehouse/gateway/upstream"
)

// beginAudit records the start of x's request and returns what records
// its end, with the status rec saw.
func (h *Handler) beginAudit(r *http.Request, x *exchange, svc *upstream.Service, rec *statusRecorder) (end func()) {
	// The audit names the service's first server; the Router may fail
	// over to another, which its own status report shows.
	up := h.upstream.Load()
	if first := svc.FirstServer(); first != nil {
		up = &url.URL{Scheme: "https", Host: first.Addr()}
	}
	uc := h.cfg.Audit.Begin(audit.Request{
		User: x.key.User, DeviceID: x.key.DeviceID, DeviceType: x.info.Query.DeviceType,
		ServiceType: audit.ServiceActiveSync, ServiceName: "ActiveSync", Client: remoteAddr(r),
		ServerHost: up.Hostname(), ServerPort: port(up),
		URL: r.URL.Path, Method: r.Method, ForwardedFor: r.Header.Get("X-Forwarded-For"), Action: action(x.outcome),
	})
	// The gateway's side of the device's connection: sentryHost and
	// sentryPort, and its IP as sentryAddress (AUD-05).
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	sentry := addrPort(local)
	sentryAddr := ""
	if sentry.IsValid() {
		sentryAddr = sentry.Addr().Unmap().String()
	}
	return func() {
		uc.End(audit.Response{Server: up.Hostname(), ServerPort: port(up), Sentry: sentry, SentryAddress: sentryAddr, HTTPStatus: rec.status()})
	}
}

// addrPort is a listener-side address as an AddrPort (zero if unknown).
func addrPort(a net.Addr) netip.AddrPort {
	if a == nil {
		return netip.AddrPort{}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func action(o uemsync.Outcome) string {
	if o.Blocked {
		return audit.ActionBlock
	}
	return audit.ActionAllow
}

func remoteAddr(r *http.Request) netip.AddrPort {
	ap, _ := netip.ParseAddrPort(r.RemoteAddr)
	return ap
}

func port(u *url.URL) int {
	if p := u.Port(); p != "" {
		n, _ := strconv.Atoi(p)
		return n
	}
	if u.Scheme == "http" {
		return 80
	}
	return 443
}

// statusRecorder remembers the status written, for the audit log.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) status() int {
	if s.code == 0 {
		return http.StatusOK
	}
	return s.code
}

// Flush lets long-polled Ping responses through as soon as they arrive.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
