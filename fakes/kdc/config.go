package kdc

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"
)

// Config is the fake KDC's configuration, validated by New.
type Config struct {
	Realm            string        // required, e.g. "CORP.EXAMPLE" (case-sensitive)
	Addr             string        // host:port for UDP and TCP (same port); "127.0.0.1:0" when empty
	AllowNonLoopback bool          // allow a non-loopback Addr
	TicketLifetime   time.Duration // 10h when zero
	MaxSkew          time.Duration // 5m when zero
	MaxUDPReply      int           // larger replies become KRB_ERR_RESPONSE_TOO_BIG; 4096 when zero
	Logger           *slog.Logger  // slog.Default() when nil
	Now              func() time.Time
}

func (c *Config) validate() error {
	if c.Realm == "" {
		return errors.New("kdc: Config.Realm is required")
	}
	if strings.ContainsAny(c.Realm, "/@ \t") {
		return fmt.Errorf("kdc: Config.Realm %q contains '/', '@' or blanks", c.Realm)
	}
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("kdc: Config.Addr %q: %w", c.Addr, err)
	}
	if ip := net.ParseIP(host); !c.AllowNonLoopback && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("kdc: Config.Addr %q is not a loopback IP (set AllowNonLoopback)", c.Addr)
	}
	if c.TicketLifetime <= 0 {
		c.TicketLifetime = 10 * time.Hour
	}
	if c.MaxSkew <= 0 {
		c.MaxSkew = 5 * time.Minute
	}
	if c.MaxUDPReply <= 0 {
		c.MaxUDPReply = 4096
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}
