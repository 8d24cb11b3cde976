package alerts

import (
	"fmt"
	"net/mail"
	"net/url"
	"strings"
)

// Action is what a notification does with an alert (ALR-07, ALR-09).
type Action string

// Actions, as the seeds name them.
const (
	Discard  Action = "discard"
	Realtime Action = "realtime"
	Batch    Action = "batch"
)

func (a Action) valid() bool { return a == Discard || a == Realtime || a == Batch }

// Config is the alert notification configuration (ALR-07, ALR-10), the
// bootstrap's `alerts:` block.
type Config struct {
	SendNotifications bool     `json:"send_notifications" yaml:"send_notifications"` // mail at all
	Emails            []string `json:"emails" yaml:"emails"`                         // the Email List
	// AlertsPerHour mails at most this many alerts per clock hour (ALR-08);
	// 0: no limit.
	AlertsPerHour int `json:"alerts_per_hour" yaml:"alerts_per_hour"`
	// BatchMinutes is the Batch Time Interval; default 10.
	BatchMinutes int               `json:"batch_minutes" yaml:"batch_minutes"`
	Default      Action            `json:"default" yaml:"default"`     // default discard
	Overrides    map[string]Action `json:"overrides" yaml:"overrides"` // per alert ID, beats Default
	SMTP         SMTP              `json:"smtp" yaml:"smtp"`
	// Webhook, when set, receives every alert as a JSON POST, whatever
	// the e-mail settings.
	Webhook string `json:"webhook" yaml:"webhook"`
}

// SMTP is the mail server the notifications go through (ALR-10).
type SMTP struct {
	From   string `json:"from" yaml:"from" xml:"from"`
	Server string `json:"server" yaml:"server" xml:"server"`
	Port   int    `json:"port" yaml:"port" xml:"port"`
	// TLS: "smtp" (plain), "starttls" or "smtps" (implicit TLS).
	TLS          string `json:"tls" yaml:"tls" xml:"tls"`
	AuthRequired bool   `json:"auth_required" yaml:"auth_required" xml:"auth-required"`
	User         string `json:"user" yaml:"user" xml:"user"`
	// PasswordFile holds the password, so that it is not in the config.
	PasswordFile string `json:"password_file" yaml:"password_file" xml:"password-file"`
	// InsecureSkipVerify is for lab servers with self-signed certificates.
	InsecureSkipVerify bool `json:"insecure_skip_verify" yaml:"insecure_skip_verify" xml:"insecure-skip-verify"`
}

// Validate checks c once, naming the field at fault.
func (c *Config) Validate() error {
	if c.Default == "" {
		c.Default = Discard
	}
	if c.BatchMinutes == 0 {
		c.BatchMinutes = 10
	}
	if !c.Default.valid() {
		return fmt.Errorf("alerts.default: %q is not discard, realtime or batch", c.Default)
	}
	for id, a := range c.Overrides {
		if !a.valid() {
			return fmt.Errorf("alerts.overrides.%s: %q is not discard, realtime or batch", id, a)
		}
	}
	if c.AlertsPerHour < 0 {
		return fmt.Errorf("alerts.alerts_per_hour: %d is negative", c.AlertsPerHour)
	}
	if c.BatchMinutes < 0 {
		return fmt.Errorf("alerts.batch_minutes: %d is negative", c.BatchMinutes)
	}
	for i, e := range c.Emails {
		if _, err := mail.ParseAddress(strings.TrimSpace(e)); err != nil {
			return fmt.Errorf("alerts.emails[%d]: %w", i, err)
		}
	}
	if c.Webhook != "" {
		if u, err := url.Parse(c.Webhook); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return fmt.Errorf("alerts.webhook: %q is not an http(s) URL", c.Webhook)
		}
	}
	if !c.SendNotifications {
		return nil
	}
	if len(c.Emails) == 0 {
		return fmt.Errorf("alerts.emails: send_notifications needs at least one address")
	}
	return c.SMTP.validate()
}

func (s *SMTP) validate() error {
	if _, err := mail.ParseAddress(s.From); err != nil {
		return fmt.Errorf("alerts.smtp.from: %w", err)
	}
	if s.Server == "" {
		return fmt.Errorf("alerts.smtp.server: missing")
	}
	if s.Port <= 0 || s.Port > 65535 {
		return fmt.Errorf("alerts.smtp.port: %d is not a port", s.Port)
	}
	switch s.TLS {
	case "":
		s.TLS = "smtp"
	case "smtp", "starttls", "smtps":
	default:
		return fmt.Errorf("alerts.smtp.tls: %q is not smtp, starttls or smtps", s.TLS)
	}
	if s.AuthRequired && s.User == "" {
		return fmt.Errorf("alerts.smtp.user: auth_required needs a user")
	}
	return nil
}
