package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/lab"
)

// newExchangeCmd runs the fake Exchange ActiveSync server until interrupted.
func newExchangeCmd() *cobra.Command {
	var (
		cfg   exchange.Config
		users []string
	)
	cmd := &cobra.Command{
		Use:   "exchange",
		Short: "Run the fake Exchange ActiveSync server (generated mailboxes, admin API, faults)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Logger = slog.Default()
			envDefault(&cfg.AdminToken, "GATEHOUSE_EXCHANGE_ADMIN_TOKEN")
			for _, u := range users {
				name, pw, ok := strings.Cut(u, "=")
				if !ok || name == "" || pw == "" {
					return fmt.Errorf("--user %q: want name=password", u)
				}
				cfg.Users = append(cfg.Users, exchange.User{Name: name, Email: name + "@" + cfg.Domain, Password: pw})
			}
			if len(cfg.Users) == 0 {
				// The lab's demo users (alice, bob, ...; password name-pw),
				// so that what works against `gatehouse lab` works here.
				for _, u := range lab.DemoUsers(cfg.NumUsers, cfg.Domain) {
					cfg.Users = append(cfg.Users, exchange.User{Name: u.Name, Email: u.Email, Password: u.Password})
				}
			}
			srv, err := exchange.New(cfg)
			if err != nil {
				return err
			}
			if err := srv.Start(cmd.Context()); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "ActiveSync URL: %s\n", srv.EASURL())
			fmt.Fprintf(out, "Health:         %s/health\n", srv.URL())
			fmt.Fprintf(out, "Admin API:      %s/admin/v1 (Authorization: Bearer %s)\n", srv.AdminURL(), srv.AdminToken())
			fmt.Fprintln(out, "Demo users (Basic auth):")
			for _, u := range srv.Users() {
				fmt.Fprintf(out, "  %-12s %-28s password %s\n", u.Name, u.Email, u.Password)
			}
			<-cmd.Context().Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return srv.Shutdown(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Addr, "listen", "127.0.0.1:8700", "ActiveSync listen address (the gateway takes 8443, the UEM 8600)")
	f.StringVar(&cfg.AdminAddr, "admin-listen", "127.0.0.1:8701", "admin API listen address")
	f.BoolVar(&cfg.AllowNonLoopback, "allow-non-loopback", false, "allow listening on non-loopback addresses")
	f.StringVar(&cfg.TLSCertFile, "tls-cert", "", "TLS certificate file (PEM); self-signed when empty")
	f.StringVar(&cfg.TLSKeyFile, "tls-key", "", "TLS private key file (PEM)")
	addAdminTokenFlags(f, &cfg.AdminToken, "admin-token", "GATEHOUSE_EXCHANGE_ADMIN_TOKEN", "admin API bearer token; generated when empty")
	f.StringArrayVar(&users, "user", nil, "mailbox as name=password (repeatable; address name@<domain>); --users demo users when none")
	f.Uint64Var(&cfg.Seed, "seed", 1, "seed for generated users and mail")
	f.IntVar(&cfg.NumUsers, "users", 4, "number of demo users (alice, bob, carol, dave, ...; as gatehouse lab)")
	f.IntVar(&cfg.MessagesPerUser, "messages", 12, "generated messages per Inbox (-1 for none)")
	f.StringVar(&cfg.Domain, "domain", lab.DefaultDomain, "mail domain of the demo users (as gatehouse lab)")
	f.IntVar(&cfg.MinHeartbeat, "min-heartbeat", 60, "minimum Ping heartbeat in seconds")
	f.BoolVar(&cfg.HTTP2, "http2", false, "offer HTTP/2 on the ActiveSync listener (as Exchange does)")
	return cmd
}
