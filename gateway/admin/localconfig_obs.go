package admin

import (
	"maps"
	"slices"

	"github.com/gatehouse-lab/gatehouse/gateway/alerts"
	"github.com/gatehouse-lab/gatehouse/gateway/audit"
)

// The syslog targets and alert notifications in the exported file
// (CFG-01, issue 22). A <syslog> element replaces every target (an empty
// one removes them all); an <alerts-notify> element replaces the
// notification settings. The SMTP password is never in the file: only
// the path of the file holding it.

// LocalSyslog is the syslog targets (AUD-12).
type LocalSyslog struct {
	Targets []audit.SyslogTarget `xml:"target"`
}

// LocalNotify is the alert notification settings (ALR-07).
type LocalNotify struct {
	SendNotifications bool            `xml:"send-notifications"`
	Emails            []string        `xml:"email"`
	AlertsPerHour     int             `xml:"alerts-per-hour"`
	BatchMinutes      int             `xml:"batch-minutes"`
	Default           string          `xml:"default"`
	Overrides         []LocalOverride `xml:"override"`
	SMTP              alerts.SMTP     `xml:"smtp"`
	Webhook           string          `xml:"webhook,omitempty"`
}

// LocalOverride is one per-alert-id action (ALR-09).
type LocalOverride struct {
	AlertID string `xml:"alert-id"`
	Action  string `xml:"action"`
}

func init() {
	for _, p := range []string{
		"syslog", "syslog/target", "syslog/target/server", "syslog/target/port", "syslog/target/protocol",
		"syslog/target/facility", "syslog/target/level", "syslog/target/disabled",
		"alerts-notify", "alerts-notify/send-notifications", "alerts-notify/email", "alerts-notify/alerts-per-hour",
		"alerts-notify/batch-minutes", "alerts-notify/default", "alerts-notify/override", "alerts-notify/override/alert-id",
		"alerts-notify/override/action", "alerts-notify/smtp", "alerts-notify/smtp/from", "alerts-notify/smtp/server",
		"alerts-notify/smtp/port", "alerts-notify/smtp/tls", "alerts-notify/smtp/auth-required", "alerts-notify/smtp/user",
		"alerts-notify/smtp/password-file", "alerts-notify/smtp/insecure-skip-verify", "alerts-notify/webhook",
	} {
		localConfigFields["sentry-configuration/"+p] = true
	}
}

// exportObs adds the syslog targets and the notification settings to c.
func (a *api) exportObs(c *LocalConfig) {
	if a.d.Audit != nil {
		c.Syslog = &LocalSyslog{}
		for _, s := range a.d.Audit.Syslogs() {
			c.Syslog.Targets = append(c.Syslog.Targets, s.Target())
		}
	}
	if a.d.Alerts != nil {
		cfg := a.d.Alerts.Config()
		n := &LocalNotify{SendNotifications: cfg.SendNotifications, Emails: cfg.Emails, AlertsPerHour: cfg.AlertsPerHour,
			BatchMinutes: cfg.BatchMinutes, Default: string(cfg.Default), SMTP: cfg.SMTP, Webhook: cfg.Webhook}
		for _, id := range slices.Sorted(maps.Keys(cfg.Overrides)) {
			n.Overrides = append(n.Overrides, LocalOverride{AlertID: id, Action: string(cfg.Overrides[id])})
		}
		c.AlertsNotify = n
	}
}

// parseObs checks the file's syslog and notification parts and returns
// them as the gateway takes them (nil: not in the file).
func (a *api) parseObs(c LocalConfig) ([]audit.SyslogTarget, *alerts.Config, error) {
	var ts []audit.SyslogTarget
	if c.Syslog != nil {
		if a.d.Audit == nil {
			return nil, nil, fieldErr("syslog", "this gateway has no audit log")
		}
		ts = append([]audit.SyslogTarget{}, c.Syslog.Targets...)
		if err := validateSyslog(ts); err != nil {
			return nil, nil, prefixField("syslog/", err)
		}
	}
	if c.AlertsNotify == nil {
		return ts, nil, nil
	}
	if a.d.Alerts == nil {
		return nil, nil, fieldErr("alerts-notify", "this gateway has no alerts")
	}
	n := c.AlertsNotify
	cfg := alerts.Config{SendNotifications: n.SendNotifications, Emails: n.Emails, AlertsPerHour: n.AlertsPerHour,
		BatchMinutes: n.BatchMinutes, Default: alerts.Action(n.Default), SMTP: n.SMTP, Webhook: n.Webhook}
	for i, o := range n.Overrides {
		if o.AlertID == "" {
			return nil, nil, fieldErr("alerts-notify/override["+itoa(i)+"]/alert-id", "required")
		}
		if cfg.Overrides == nil {
			cfg.Overrides = map[string]alerts.Action{}
		}
		cfg.Overrides[o.AlertID] = alerts.Action(o.Action)
	}
	check := cfg
	if err := check.Validate(); err != nil {
		return nil, nil, prefixField("alerts-notify/", namedField("", trimAlerts(err.Error())))
	}
	return ts, &cfg, nil
}
