package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-lab/gatehouse/fakes/idp"
	"github.com/gatehouse-lab/gatehouse/lab"
)

// newIdPCmd runs the fake identity provider until interrupted. Its users
// are the lab's demo users (as `gatehouse exchange` and `gatehouse lab`
// make them), so the same --users and --domain agree with those.
func newIdPCmd() *cobra.Command {
	var (
		cfg     idp.Config
		nUsers  int
		users   []string
		allowed []string
	)
	cmd := &cobra.Command{
		Use:   "idp",
		Short: "Run the fake OAuth identity provider (Azure AD v1 endpoints, PKCE, refresh tokens, RS256 JWTs, JWKS, conditional access)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Logger = slog.Default()
			for _, u := range users {
				name, pw, ok := strings.Cut(u, "=")
				if !ok || name == "" || pw == "" {
					return fmt.Errorf("--user %q: want name=password", u)
				}
				cfg.Users = append(cfg.Users, idp.User{Name: name, Password: pw})
			}
			if len(cfg.Users) == 0 {
				for _, u := range lab.DemoUsers(nUsers, cfg.Domain) {
					cfg.Users = append(cfg.Users, idp.User{Name: u.Name, Password: u.Password})
				}
			}
			for _, a := range allowed {
				ip, err := netip.ParseAddr(a)
				if err != nil {
					return fmt.Errorf("--allow-source %q: %w", a, err)
				}
				cfg.AllowedSources = append(cfg.AllowedSources, ip)
			}
			srv, err := idp.New(cfg)
			if err != nil {
				return err
			}
			if err := srv.Start(cmd.Context()); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Authorize: %s\nToken:     %s\nJWKS:      %s\nResources: %s\n", srv.AuthorizeURL(), srv.TokenURL(), srv.KeysURL(), strings.Join(cfg.Resources, ", "))
			fmt.Fprintf(out, "Users:     %d (the demo users of gatehouse exchange and lab, password name-pw)\n", len(cfg.Users))
			<-cmd.Context().Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return srv.Shutdown(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Addr, "listen", "127.0.0.1:9443", "HTTPS listen address")
	f.BoolVar(&cfg.AllowNonLoopback, "allow-non-loopback", false, "allow listening on non-loopback addresses")
	f.StringVar(&cfg.Domain, "domain", lab.DefaultDomain, "UPN domain (the fake Exchange's mail domain)")
	f.IntVar(&nUsers, "users", 4, "number of demo users (alice, bob, carol, dave, ...; as gatehouse exchange and lab)")
	f.StringArrayVar(&users, "user", nil, "user as name=password (repeatable); --users demo users when none")
	f.StringSliceVar(&cfg.Resources, "resource", []string{"https://outlook.office365.com"}, "resources tokens are issued for (aud)")
	f.StringArrayVar(&allowed, "allow-source", nil, "conditional access (OAU-07): the only source addresses allowed to sign in (repeatable; none: all)")
	f.DurationVar(&cfg.TokenTTL, "token-ttl", time.Hour, "access token lifetime")
	return cmd
}
