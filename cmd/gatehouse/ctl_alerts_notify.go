package main

import (
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gatehouse-lab/gatehouse/gateway/alerts"
)

// notifyCmd is `ctl alerts notify [flags]`: the alert notification
// settings (ALR-07..10) at run time. With no flag it shows them; each flag
// given changes that setting and leaves the others as they are. Changes
// are kept across restarts and are part of `ctl config export`.
func notifyCmd(client adminClient, emit emitter) *cobra.Command {
	var (
		send, auth                           bool
		emails, overrides                    []string
		perHour, batch                       int
		def, server, from, tls, user, pwFile string
		webhook                              string
	)
	cmd := &cobra.Command{Use: "notify", Short: "Show or change the alert notification settings (ALR-07)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			cfg, err := c.AlertsNotify(cmd.Context())
			if err != nil {
				return fmt.Errorf("alerts notify: %w", err)
			}
			if cmd.Flags().NFlag() > 0 {
				set := cmd.Flags().Changed
				edit := []struct {
					flag  string
					apply func() error
				}{
					{"send", func() error { cfg.SendNotifications = send; return nil }},
					{"email", func() error { cfg.Emails = emails; return nil }},
					{"per-hour", func() error { cfg.AlertsPerHour = perHour; return nil }},
					{"batch-minutes", func() error { cfg.BatchMinutes = batch; return nil }},
					{"default", func() error { cfg.Default = alerts.Action(def); return nil }},
					{"override", func() error { return applyOverrides(cfg, overrides) }},
					{"smtp-server", func() error { return setSMTPServer(&cfg.SMTP, server) }},
					{"smtp-from", func() error { cfg.SMTP.From = from; return nil }},
					{"smtp-tls", func() error { cfg.SMTP.TLS = tls; return nil }},
					{"smtp-auth", func() error { cfg.SMTP.AuthRequired = auth; return nil }},
					{"smtp-user", func() error { cfg.SMTP.User = user; return nil }},
					{"smtp-password-file", func() error { cfg.SMTP.PasswordFile = pwFile; return nil }},
					{"webhook", func() error { cfg.Webhook = webhook; return nil }},
				}
				for _, e := range edit {
					if set(e.flag) {
						if err := e.apply(); err != nil {
							return err
						}
					}
				}
				if cfg, err = c.SetAlertsNotify(cmd.Context(), *cfg); err != nil {
					return fmt.Errorf("alerts notify: %w", err)
				}
			}
			return emit(cmd.OutOrStdout(), cfg, func() error { return printNotify(cmd, cfg) })
		}}
	f := cmd.Flags()
	f.BoolVar(&send, "send", false, "send e-mail notifications")
	f.StringSliceVar(&emails, "email", nil, "the Email List (replaces it; repeat or comma-separate)")
	f.IntVar(&perHour, "per-hour", 0, "Alerts Per Hour (0: no limit)")
	f.IntVar(&batch, "batch-minutes", 0, "Batch Time Interval in minutes")
	f.StringVar(&def, "default", "", "default action: discard, realtime or batch")
	f.StringArrayVar(&overrides, "override", nil, "ALERT_ID=discard|realtime|batch (ALERT_ID= removes it); repeatable")
	addSMTPFlags(f, &server, &from, &tls, &user, &pwFile, &auth)
	f.StringVar(&webhook, "webhook", "", "URL receiving every alert as a JSON POST (empty: none)")
	return cmd
}

func addSMTPFlags(f *pflag.FlagSet, server, from, tls, user, pwFile *string, auth *bool) {
	f.StringVar(server, "smtp-server", "", "SMTP server host:port")
	f.StringVar(from, "smtp-from", "", "sender address")
	f.StringVar(tls, "smtp-tls", "", "smtp, starttls or smtps")
	f.BoolVar(auth, "smtp-auth", false, "authenticate (AUTH PLAIN)")
	f.StringVar(user, "smtp-user", "", "SMTP user")
	f.StringVar(pwFile, "smtp-password-file", "", "file holding the SMTP password (read by the gateway)")
}

func applyOverrides(cfg *alerts.Config, overrides []string) error {
	for _, o := range overrides {
		id, act, ok := strings.Cut(o, "=")
		if !ok || id == "" {
			return fmt.Errorf("alerts notify: --override %q is not ALERT_ID=ACTION", o)
		}
		if act == "" {
			delete(cfg.Overrides, id)
			continue
		}
		if cfg.Overrides == nil {
			cfg.Overrides = map[string]alerts.Action{}
		}
		cfg.Overrides[id] = alerts.Action(act)
	}
	return nil
}

func setSMTPServer(s *alerts.SMTP, hostport string) error {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return fmt.Errorf("alerts notify: --smtp-server %q: %w", hostport, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return fmt.Errorf("alerts notify: --smtp-server port %q is not a number", port)
	}
	s.Server, s.Port = host, p
	return nil
}

func printNotify(cmd *cobra.Command, cfg *alerts.Config) error {
	w := cmd.OutOrStdout()
	lines := []string{
		fmt.Sprintf("send notifications = %t", cfg.SendNotifications),
		"emails = " + strings.Join(cfg.Emails, ", "),
		fmt.Sprintf("alerts per hour = %d", cfg.AlertsPerHour),
		fmt.Sprintf("batch minutes = %d", cfg.BatchMinutes),
		"default = " + string(cfg.Default),
	}
	for _, id := range slices.Sorted(maps.Keys(cfg.Overrides)) {
		lines = append(lines, fmt.Sprintf("override %s = %s", id, cfg.Overrides[id]))
	}
	if cfg.SMTP.Server != "" {
		lines = append(lines, fmt.Sprintf("smtp = %s:%d %s from %s auth %t user %s", cfg.SMTP.Server, cfg.SMTP.Port, cfg.SMTP.TLS, cfg.SMTP.From, cfg.SMTP.AuthRequired, cfg.SMTP.User))
	}
	if cfg.Webhook != "" {
		lines = append(lines, "webhook = "+cfg.Webhook)
	}
	_, err := fmt.Fprintln(w, strings.Join(lines, "\n"))
	return err
}
