package uem

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Config configures a fake UEM. It is validated once, by New.
type Config struct {
	// GatewayAddr is where the gateway-facing API (/api/v1) listens, e.g.
	// "127.0.0.1:0" in tests.
	GatewayAddr string
	// AdminAddr is where the admin API (/admin/v1) listens; it may equal
	// neither GatewayAddr nor be public unless chosen.
	AdminAddr string
	// AllowNonLoopback must be set to listen (GatewayAddr, AdminAddr,
	// CRLAddr) on anything but a loopback address: the fake UEM decides
	// who may sync and holds gateway tokens, so it is not exposed by
	// accident.
	AllowNonLoopback bool

	// CRLAddr is where the device CA publishes its CRL over plain HTTP
	// (CRLPath); "127.0.0.1:0" when empty.
	CRLAddr string
	// CRLValidity is how long a published CRL is current (its
	// NextUpdate); 1 h when zero. Scenarios shorten it to see a
	// revocation take effect without purging the gateway's CRL cache.
	CRLValidity time.Duration

	// TLS: a certificate from files, or Certificate, or a self-signed one
	// generated at start for 127.0.0.1, ::1 and localhost. TLS 1.2 minimum.
	TLSCertFile string
	TLSKeyFile  string
	Certificate *tls.Certificate
	// PlainHTTP serves both APIs without TLS (debugging only).
	PlainHTTP bool

	// AdminToken authenticates the admin API; generated when empty (read
	// it back with Server.AdminToken).
	AdminToken string

	// Seed is loaded into the store at New.
	Seed *Seed

	Notify NotifyConfig

	// FaultSeed seeds the error-rate fault's random numbers.
	FaultSeed uint64

	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// NotifyConfig configures UEM → gateway notification pushes.
type NotifyConfig struct {
	// Attempts per notification, 1-100 (default 6).
	Attempts int
	// BaseDelay is the first retry delay, doubled up to MaxDelay
	// (defaults 500 ms and 30 s).
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// Timeout bounds one push (default 10 s).
	Timeout time.Duration
	// HTTPClient pushes notifications; when nil one is built from RootCAs
	// and InsecureSkipVerify.
	HTTPClient         *http.Client
	RootCAs            *x509.CertPool
	InsecureSkipVerify bool
}

func (c *Config) setDefaults() {
	if c.CRLAddr == "" {
		c.CRLAddr = "127.0.0.1:0"
	}
	if c.CRLValidity <= 0 {
		c.CRLValidity = time.Hour
	}
	if c.Notify.Attempts == 0 {
		c.Notify.Attempts = 6
	}
	if c.Notify.BaseDelay == 0 {
		c.Notify.BaseDelay = 500 * time.Millisecond
	}
	if c.Notify.MaxDelay == 0 {
		c.Notify.MaxDelay = 30 * time.Second
	}
	if c.Notify.Timeout == 0 {
		c.Notify.Timeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// validate checks the configuration; errors name the field.
func (c *Config) validate() error {
	for _, a := range []struct{ name, addr string }{{"GatewayAddr", c.GatewayAddr}, {"AdminAddr", c.AdminAddr}, {"CRLAddr", c.CRLAddr}} {
		if a.addr == "" {
			return fmt.Errorf("uem config: %s is required", a.name)
		}
		host, _, err := net.SplitHostPort(a.addr)
		if err != nil {
			return fmt.Errorf("uem config: %s: %w", a.name, err)
		}
		if !c.AllowNonLoopback && !isLoopback(host) {
			return fmt.Errorf("uem config: %s %q is not a loopback address (set AllowNonLoopback)", a.name, a.addr)
		}
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return errors.New("uem config: TLSCertFile and TLSKeyFile go together")
	}
	if c.PlainHTTP && (c.TLSCertFile != "" || c.Certificate != nil) {
		return errors.New("uem config: PlainHTTP excludes a TLS certificate")
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		return errors.New("uem config: AdminToken must be at least 16 characters")
	}
	n := c.Notify
	switch {
	case n.Attempts < 1 || n.Attempts > 100:
		return errors.New("uem config: Notify.Attempts must be 1-100")
	case n.BaseDelay <= 0 || n.MaxDelay < n.BaseDelay:
		return errors.New("uem config: Notify.BaseDelay must be > 0 and ≤ Notify.MaxDelay")
	case n.Timeout <= 0:
		return errors.New("uem config: Notify.Timeout must be > 0")
	}
	return nil
}

// isLoopback reports whether host (from a listen address) is a loopback
// IP or "localhost"; "" and "0.0.0.0" (every interface) are not.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
