// Package deviceauth authenticates devices as the UEM configures it
// (DA-01): Pass Through (credentials go to the server untouched), Group
// Certificate (a certificate chaining to the trusted group certificate,
// plus the user's own credentials), Identity Certificate (a certificate
// chaining to a trusted root, mapped to the user's UPN and realm), and
// Trusted Front-End (an Apache or F5 proxy terminated TLS and passes the
// client certificate in a header, accepted only from its addresses).
package deviceauth

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Identity is who a certificate says the device's user is.
type Identity struct {
	UPN   string // for Kerberos constrained delegation and the cache entry's user
	DN    string // the mapped User DN, when a row gave one
	Realm string // from the DN's DC components, else the UPN's domain, upper-cased
	Cert  *x509.Certificate
}

// Options are the settings that come from the gateway, not the UEM.
type Options struct {
	// FrontEnds are the addresses a Trusted Front-End may connect from.
	FrontEnds []netip.Prefix
	// FrontEndHeaders name the headers carrying the client certificate,
	// tried in order; default Apache's SSL_CLIENT_CERT and F5's X-Client-Cert.
	FrontEndHeaders []string
	// CRLs checks revocation when the configuration asks for it; nil
	// with CheckCRL set is an error.
	CRLs *CRLCache
	Now  func() time.Time
}

// Errors callers tell apart: the device must be refused (403) for
// ErrNoCertificate, ErrUntrusted and ErrRevoked alike, but they are
// logged and counted differently.
var (
	ErrNoCertificate = errors.New("deviceauth: no client certificate")
	ErrUntrusted     = errors.New("deviceauth: certificate not issued by a trusted CA")
	ErrRevoked       = errors.New("deviceauth: certificate revoked")
	ErrNoIdentity    = errors.New("deviceauth: no mapping row found a user in the certificate")
	ErrNotFrontEnd   = errors.New("deviceauth: request not from a trusted front end")
)

// Authenticator checks one request's device credentials.
type Authenticator struct {
	mode    uemapi.DeviceAuthMode
	roots   *x509.CertPool
	crl     bool
	mapping []uemapi.FieldMapping
	opts    Options
}

// New builds an authenticator from the UEM's device authentication settings.
func New(cfg uemapi.DeviceAuth, opts Options) (*Authenticator, error) {
	a := &Authenticator{mode: cfg.Mode, crl: cfg.CheckCRL, mapping: cfg.FieldMapping, opts: opts}
	if a.opts.Now == nil {
		a.opts.Now = time.Now
	}
	if len(a.opts.FrontEndHeaders) == 0 {
		a.opts.FrontEndHeaders = []string{"SSL_CLIENT_CERT", "X-Client-Cert"}
	}
	switch cfg.Mode {
	case uemapi.DeviceAuthPassThrough, "":
		a.mode = uemapi.DeviceAuthPassThrough
		return a, nil
	case uemapi.DeviceAuthGroupCert, uemapi.DeviceAuthIdentity, uemapi.DeviceAuthFrontEnd:
	default:
		return nil, fmt.Errorf("deviceauth: unknown mode %q", cfg.Mode)
	}
	// Every certificate mode verifies against the trust file, the front
	// end's header included: an unverified header would let anyone who
	// reaches the gateway from a front-end address claim any user.
	if cfg.TrustedCertsPEM == "" {
		return nil, fmt.Errorf("deviceauth: %s needs a trusted certificate (trusted_certs_pem)", cfg.Mode)
	}
	roots, n, err := ParseRoots(cfg.TrustedCertsPEM)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, errors.New("deviceauth: trusted_certs_pem holds no certificate")
	}
	a.roots = roots
	if cfg.CheckCRL && opts.CRLs == nil {
		return nil, errors.New("deviceauth: CRL checking is on but no CRL cache was given")
	}
	if cfg.Mode == uemapi.DeviceAuthFrontEnd && len(opts.FrontEnds) == 0 {
		return nil, errors.New("deviceauth: trusted_front_end needs the front ends' addresses")
	}
	return a, nil
}

// ParseRoots reads one upload holding several concatenated PEM
// certificates (DA-06) and returns the pool and how many it held.
func ParseRoots(pemText string) (*x509.CertPool, int, error) {
	pool := x509.NewCertPool()
	n := 0
	rest := []byte(pemText)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, 0, fmt.Errorf("deviceauth: trusted certificate %d: %w", n+1, err)
		}
		pool.AddCert(c)
		n++
	}
	return pool, n, nil
}

// Mode is the configured mode.
func (a *Authenticator) Mode() uemapi.DeviceAuthMode { return a.mode }

// WantsClientCert reports whether the listener must ask devices for a
// certificate (Group and Identity Certificate modes).
func (a *Authenticator) WantsClientCert() bool {
	return a.mode == uemapi.DeviceAuthGroupCert || a.mode == uemapi.DeviceAuthIdentity
}

// Authenticate checks r. Pass Through returns a nil identity and no error:
// the server will judge the credentials. Group Certificate returns an
// identity without a user (the user's credentials still go to the server).
func (a *Authenticator) Authenticate(r *http.Request) (*Identity, error) {
	var chain []*x509.Certificate
	switch a.mode {
	case uemapi.DeviceAuthPassThrough:
		return nil, nil
	case uemapi.DeviceAuthFrontEnd:
		peer, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil || !a.fromFrontEnd(peer.Addr()) {
			return nil, ErrNotFrontEnd
		}
		c, err := a.headerCert(r)
		if err != nil {
			return nil, err
		}
		chain = []*x509.Certificate{c}
	default:
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			return nil, ErrNoCertificate
		}
		chain = r.TLS.PeerCertificates
	}
	leaf := chain[0]
	if a.roots == nil { // New refuses this; never accept an unverified certificate
		return nil, ErrUntrusted
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	verified, err := leaf.Verify(x509.VerifyOptions{Roots: a.roots, Intermediates: inter, CurrentTime: a.opts.Now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUntrusted, err)
	}
	if a.crl {
		if err := a.opts.CRLs.Check(r.Context(), verified[0]); err != nil {
			return nil, err
		}
	}
	id := &Identity{Cert: leaf}
	if a.mode == uemapi.DeviceAuthGroupCert {
		return id, nil
	}
	MapIdentity(leaf, a.mapping, id)
	if id.UPN == "" {
		return nil, ErrNoIdentity
	}
	return id, nil
}

func (a *Authenticator) fromFrontEnd(addr netip.Addr) bool {
	for _, p := range a.opts.FrontEnds {
		if p.Contains(addr.Unmap()) {
			return true
		}
	}
	return false
}

// maxHeaderCert bounds a certificate passed in a header.
const maxHeaderCert = 16 << 10

// headerCert reads the client certificate a front end passed: PEM (also
// URL-escaped, as F5 and Apache's mod_headers can send it) or base64 DER.
func (a *Authenticator) headerCert(r *http.Request) (*x509.Certificate, error) {
	for _, h := range a.opts.FrontEndHeaders {
		v := r.Header.Get(h)
		if v == "" {
			continue
		}
		if len(v) > maxHeaderCert {
			return nil, fmt.Errorf("deviceauth: %s header larger than %d bytes", h, maxHeaderCert)
		}
		if strings.Contains(v, "%") {
			if u, err := url.QueryUnescape(v); err == nil {
				v = u
			}
		}
		if b, _ := pem.Decode([]byte(v)); b != nil {
			return x509.ParseCertificate(b.Bytes)
		}
		// Apache can flatten the PEM onto one line; strip its armour.
		v = strings.NewReplacer("-----BEGIN CERTIFICATE-----", "", "-----END CERTIFICATE-----", "", " ", "", "\n", "", "\r", "", "\t", "").Replace(v)
		der, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, fmt.Errorf("deviceauth: %s header is neither PEM nor base64 DER", h)
		}
		return x509.ParseCertificate(der)
	}
	return nil, ErrNoCertificate
}
