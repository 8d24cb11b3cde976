package exchange

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// Config configures a fake Exchange server. New validates it once.
type Config struct {
	// Addr is where the ActiveSync endpoint (/Microsoft-Server-ActiveSync)
	// and /health listen: "127.0.0.1:0" in tests. Default 127.0.0.1:0.
	Addr string
	// AdminAddr is where the admin API (/admin/v1) listens. It is a separate
	// listener so that the "down" fault leaves it reachable. Default 127.0.0.1:0.
	AdminAddr string
	// AllowNonLoopback must be set to listen on anything but a loopback
	// address.
	AllowNonLoopback bool

	// TLS: a certificate from files, or Certificate, or a self-signed one
	// generated at start for 127.0.0.1, ::1 and localhost. TLS 1.2 minimum.
	TLSCertFile string
	TLSKeyFile  string
	Certificate *tls.Certificate
	// PlainHTTP serves without TLS (benchmarks and debugging only).
	PlainHTTP bool

	// AdminToken authenticates the admin API (Authorization: Bearer);
	// generated when empty.
	AdminToken string
	// MgmtToken authenticates the management API (/mgmt/v1, protocol/exmgmt);
	// the admin token when empty.
	MgmtToken string

	// Domain is the mail domain of the seeded users. Default "example.test".
	Domain string
	// Seed drives every generated user password and message.
	Seed uint64
	// Users are the mailboxes; when empty, NumUsers demo users
	// (user1..userN) are generated from Seed.
	Users    []User
	NumUsers int // default 3
	// MessagesPerUser is how many generated messages each Inbox starts
	// with (the other mail folders get a few). Default 12; -1 for none.
	MessagesPerUser int

	// Authenticator checks credentials; default Basic against Users.
	Authenticator Authenticator
	// Bearer, when set, also accepts OAuth bearer tokens (bearer.go).
	Bearer *BearerConfig
	// Realm is the Basic realm in WWW-Authenticate. Default "gatehouse-exchange".
	Realm string

	// Policy is the mailbox policy sent by Provision; default DefaultPolicy().
	Policy *eas.EASProvisionDoc

	// AllowUnprovisioned serves commands without a policy key (no 449 /
	// 142); for gateways that do not relay Provision.
	AllowUnprovisioned bool

	// Ping heartbeat limits in seconds. MS-ASCMD allows 60-3540 (the
	// defaults); tests lower MinHeartbeat to a few seconds.
	MinHeartbeat int
	MaxHeartbeat int
	// HTTP2 offers HTTP/2 on the ActiveSync listener, as Exchange does
	// (a gateway can multiplex its Pings); off: HTTP/1.1 only.
	HTTP2 bool
	// MaxPingFolders bounds the folders one Ping may watch. Default 300.
	MaxPingFolders int

	// MaxRequestBody bounds an ActiveSync request body. Default 32 MiB.
	MaxRequestBody int64
	// MaxAdminBody bounds an admin API request body. Default 32 MiB.
	MaxAdminBody int64

	// TrustedCAs are the roots ValidateCert accepts S/MIME certificates
	// against; nil: none (every certificate is Status 4, untrusted).
	TrustedCAs *x509.CertPool
	// JournalEntries bounds the request journal (GET /admin/v1/requests)
	// by count, default 256; negative turns it off. JournalBodyBytes
	// bounds each recorded body (request and response), default 1 MiB:
	// a longer body is kept truncated and flagged.
	JournalEntries   int
	JournalBodyBytes int

	// Logger receives structured logs; never passwords, Authorization
	// headers or message contents. Default discards.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

func (c *Config) setDefaults() {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	if c.AdminAddr == "" {
		c.AdminAddr = "127.0.0.1:0"
	}
	if c.Domain == "" {
		c.Domain = "example.test"
	}
	if c.NumUsers == 0 {
		c.NumUsers = 3
	}
	if c.MessagesPerUser == 0 {
		c.MessagesPerUser = 12
	}
	if c.Realm == "" {
		c.Realm = "gatehouse-exchange"
	}
	if c.MinHeartbeat == 0 {
		c.MinHeartbeat = 60
	}
	if c.MaxHeartbeat == 0 {
		c.MaxHeartbeat = 3540
	}
	if c.MaxPingFolders == 0 {
		c.MaxPingFolders = 300
	}
	if c.MaxRequestBody == 0 {
		c.MaxRequestBody = 32 << 20
	}
	if c.MaxAdminBody == 0 {
		c.MaxAdminBody = 32 << 20
	}
	if c.JournalEntries == 0 {
		c.JournalEntries = 256
	}
	if c.JournalBodyBytes == 0 {
		c.JournalBodyBytes = 1 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// ConfigError names the field that is wrong.
type ConfigError struct {
	Field string
	Msg   string
}

func (e *ConfigError) Error() string { return "exchange: config " + e.Field + ": " + e.Msg }

func (c *Config) validate() error {
	for _, a := range []struct{ field, addr string }{{"Addr", c.Addr}, {"AdminAddr", c.AdminAddr}} {
		host, _, err := net.SplitHostPort(a.addr)
		if err != nil {
			return &ConfigError{a.field, err.Error()}
		}
		if !c.AllowNonLoopback && !isLoopback(host) {
			return &ConfigError{a.field, fmt.Sprintf("%q is not a loopback address (set AllowNonLoopback)", host)}
		}
	}
	switch {
	case (c.TLSCertFile == "") != (c.TLSKeyFile == ""):
		return &ConfigError{"TLSCertFile", "TLSCertFile and TLSKeyFile go together"}
	case c.NumUsers < 0 || c.NumUsers > 100000:
		return &ConfigError{"NumUsers", "must be 0-100000"}
	case c.MessagesPerUser < -1 || c.MessagesPerUser > 10000:
		return &ConfigError{"MessagesPerUser", "must be -1-10000"}
	case c.MinHeartbeat < 1 || c.MaxHeartbeat < c.MinHeartbeat:
		return &ConfigError{"MinHeartbeat", "need 1 <= MinHeartbeat <= MaxHeartbeat"}
	case c.MaxPingFolders < 1:
		return &ConfigError{"MaxPingFolders", "must be positive"}
	case c.MaxRequestBody < 1024 || c.MaxAdminBody < 1024:
		return &ConfigError{"MaxRequestBody", "body limits must be at least 1 KiB"}
	case c.JournalEntries > 100000:
		return &ConfigError{"JournalEntries", "must be at most 100000 (negative: off)"}
	case c.JournalBodyBytes < 0 || c.JournalBodyBytes > 16<<20:
		return &ConfigError{"JournalBodyBytes", "must be 0-16 MiB"}
	case strings.ContainsAny(c.Domain, "@ \t") || c.Domain == "":
		return &ConfigError{"Domain", "must be a bare domain name"}
	}
	if c.Bearer != nil {
		if err := c.Bearer.validate(); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for i, u := range c.Users {
		if u.Name == "" || u.Password == "" || strings.ContainsAny(u.Name, "@\\:/ ") {
			return &ConfigError{fmt.Sprintf("Users[%d]", i), "needs a Name (no @, \\, :, / or space) and a Password"}
		}
		k := strings.ToLower(u.Name)
		if seen[k] {
			return &ConfigError{fmt.Sprintf("Users[%d]", i), "duplicate name " + u.Name}
		}
		seen[k] = true
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
