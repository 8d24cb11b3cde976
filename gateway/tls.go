package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"slices"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// incomingTLS is the device listener's TLS, with and without a request
// for a client certificate.
type incomingTLS struct{ plain, cert *tls.Config }

// buildIncoming makes the device-facing TLS configuration from the UEM's
// settings (TLS-01, TLS-02); they were validated with the configuration.
func (s *Server) buildIncoming(t uemapi.TLSSettings) *incomingTLS {
	minV, _ := uemapi.TLSVersion(t.IncomingMinVersion)
	suites, _ := uemapi.CipherSuiteIDs(t.IncomingCipherSuites)
	if len(suites) == 0 {
		suites = nil // Use Default Cipher Suites
	}
	plain := &tls.Config{MinVersion: minV, CipherSuites: suites, Certificates: []tls.Certificate{s.cert}, NextProtos: []string{"http/1.1"}}
	cert := plain.Clone()
	cert.ClientAuth = tls.RequestClientCert
	return &incomingTLS{plain: plain, cert: cert}
}

// sameOutgoing reports whether two settings give the same TLS towards
// ActiveSync servers (a change replaces the server pool, TLS-08).
func sameOutgoing(a, b uemapi.TLSSettings) bool {
	return a.StrictOutgoing == b.StrictOutgoing && a.CustomTrustPEM == b.CustomTrustPEM && a.OutgoingSNI == b.OutgoingSNI &&
		a.OutgoingMinVersion == b.OutgoingMinVersion && slices.Equal(a.OutgoingCipherSuites, b.OutgoingCipherSuites)
}

// outgoingTLS is the TLS towards ActiveSync servers: the Outgoing SSL
// Configuration's protocols and cipher suites; certificates verified only
// with Strict TLS (TLS-04, off by default) or a bootstrap trust file,
// against the system store plus the UEM's custom CAs. SNI is the
// router's (upstream.ServerTLS).
func (s *Server) outgoingTLS(t uemapi.TLSSettings) (*tls.Config, error) {
	c := s.upTLS.Clone()
	c.MinVersion, _ = uemapi.TLSVersion(t.OutgoingMinVersion) // validated with the configuration
	if suites, _ := uemapi.CipherSuiteIDs(t.OutgoingCipherSuites); len(suites) > 0 {
		c.CipherSuites = suites
	}
	if s.cfg.UpstreamCAFile != "" && !s.cfg.UpstreamInsecure {
		return c, nil // the bootstrap trust file decides
	}
	if !t.StrictOutgoing {
		c.InsecureSkipVerify = true //nolint:gosec // the seeds' default: Strict TLS off
		return c, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if t.CustomTrustPEM != "" && !pool.AppendCertsFromPEM([]byte(t.CustomTrustPEM)) {
		return nil, errors.New("tls.custom_trust_pem holds no certificate")
	}
	c.RootCAs, c.InsecureSkipVerify = pool, false
	return c, nil
}

// listenerTLS is the TLS of the listeners: control for the notification
// and admin listeners, device for the device listener. The device
// listener's TLS follows the UEM's settings of the moment (versions,
// cipher suites), and asks for a client certificate only while device
// authentication needs one; the handler verifies it against the roots of
// the moment, so a new trust file needs no restart.
//
// Every listener speaks HTTP/1.1 only: on a graceful stop net/http's
// HTTP/2 server holds each open connection for its GOAWAY timeout (a
// second) after the last stream, so a UEM's kept-alive notification
// connection delayed every stop by a second.
func (s *Server) listenerTLS() (control, device *tls.Config) {
	control = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{s.cert}, NextProtos: []string{"http/1.1"}}
	if s.incoming.Load() == nil {
		s.incoming.Store(s.buildIncoming(uemapi.TLSSettings{}))
	}
	device = control.Clone()
	device.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		in := s.incoming.Load()
		if s.wantCert.Load() {
			return in.cert, nil
		}
		return in.plain, nil
	}
	return control, device
}

// hstsHeader is the Strict-Transport-Security value the UEM's settings
// ask for (TLS-13), "" for none.
func hstsHeader(t uemapi.TLSSettings) string {
	if !t.HSTS {
		return ""
	}
	if t.HSTSPreload {
		return "max-age=31536000; includeSubDomains; preload"
	}
	return "max-age=31536000; includeSubDomains"
}

// withHSTS sets the Strict-Transport-Security header of the moment on
// every device response (TLS-13).
func (s *Server) withHSTS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := s.hsts.Load(); v != nil && *v != "" {
			w.Header().Set("Strict-Transport-Security", *v)
		}
		next.ServeHTTP(w, r)
	})
}
