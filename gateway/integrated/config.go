package integrated

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Config configures a Connector; New validates it once. Where Exchange is
// and which groups sync come from the UEM (uemapi.IntegratedConfig).
type Config struct {
	// UEM is the client of the UEM's gateway API, with this connector's
	// gateway entry token. Required.
	UEM *uemapi.Client
	// NotifySecret verifies UEM notifications (device.state and others);
	// empty: notifications are refused.
	NotifySecret []byte
	// AdminToken guards the state and resync endpoints (ctl); empty: they
	// are refused.
	AdminToken string
	// ExchangeHTTP is the HTTP client towards Exchange's management side;
	// it must trust Exchange's certificate. Default http.DefaultClient.
	ExchangeHTTP *http.Client
	// ExchangeScheme is "https" (default) or "http" (benchmarks only).
	ExchangeScheme string

	// BatchSize is the page size of a sync (default 1,000, at most 5,000).
	BatchSize int
	// FullEvery is the full sync period, counted from the last successful
	// full sync (INT-06). Default 7 days.
	FullEvery time.Duration
	// ClockSkew is how far Exchange's clock may be from ours before a
	// differential fails (INT-08). Default 60 s.
	ClockSkew time.Duration
	// RetryDelay is the wait before a failed sync resumes. Default 1 min.
	RetryDelay time.Duration
	// CallTimeout bounds one call to Exchange (a page). Default 30 s.
	CallTimeout time.Duration
	// Workers bounds concurrent device reports and pushes. Default 8.
	Workers int

	Log *slog.Logger
	Now func() time.Time
}

func (c *Config) setDefaults() {
	if c.ExchangeHTTP == nil {
		c.ExchangeHTTP = http.DefaultClient
	}
	if c.ExchangeScheme == "" {
		c.ExchangeScheme = "https"
	}
	if c.BatchSize == 0 {
		c.BatchSize = 1000
	}
	if c.FullEvery == 0 {
		c.FullEvery = 7 * 24 * time.Hour
	}
	if c.ClockSkew == 0 {
		c.ClockSkew = time.Minute
	}
	if c.RetryDelay == 0 {
		c.RetryDelay = time.Minute
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = 30 * time.Second
	}
	if c.Workers == 0 {
		c.Workers = 8
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

func (c *Config) validate() error {
	switch {
	case c.UEM == nil:
		return errors.New("integrated: config: UEM is required")
	case c.ExchangeScheme != "https" && c.ExchangeScheme != "http":
		return fmt.Errorf("integrated: config: ExchangeScheme %q: want https or http", c.ExchangeScheme)
	case c.BatchSize < 1 || c.BatchSize > 5000:
		return fmt.Errorf("integrated: config: BatchSize %d: want 1..5000", c.BatchSize)
	case c.FullEvery < time.Minute, c.ClockSkew < 0, c.RetryDelay < 0, c.CallTimeout <= 0, c.Workers < 1:
		return errors.New("integrated: config: FullEvery ≥ 1 min, ClockSkew and RetryDelay ≥ 0, CallTimeout > 0, Workers ≥ 1")
	case len(c.NotifySecret) > 0 && len(c.NotifySecret) < uemapi.MinNotifySecret:
		return fmt.Errorf("integrated: config: NotifySecret: at least %d bytes", uemapi.MinNotifySecret)
	}
	return nil
}
