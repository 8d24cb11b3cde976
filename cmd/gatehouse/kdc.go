package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-lab/gatehouse/fakes/kdc"
)

// newKDCCmd runs the fake KDC until interrupted.
func newKDCCmd() *cobra.Command {
	var (
		cfg        kdc.Config
		faultAdmin string
		principals []string
		delegate   []string
		trusts     []string
		keytabs    []string
	)
	cmd := &cobra.Command{
		Use:   "kdc",
		Short: "Run the fake Kerberos KDC (AS, TGS, S4U2Self/S4U2Proxy, cross-realm, faults) on UDP+TCP",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Logger = slog.Default()
			srv, err := kdc.New(cfg)
			if err != nil {
				return err
			}
			demo := len(principals) == 0
			if demo {
				principals = []string{"HTTP/sentry1_eas_kcd=sentry-demo", "http/mail." + strings.ToLower(cfg.Realm) + "=mail-demo", "alice=alice-demo"}
				if len(delegate) == 0 {
					delegate = []string{"HTTP/sentry1_eas_kcd=http/mail." + strings.ToLower(cfg.Realm)}
				}
			}
			for _, p := range principals {
				name, pw, ok := strings.Cut(p, "=")
				if !ok || name == "" || pw == "" {
					return fmt.Errorf("--principal %q: want name=password", p)
				}
				if err := srv.AddPrincipal(kdc.Principal{Name: name, Password: pw}); err != nil {
					return err
				}
			}
			for _, d := range delegate {
				svc, targets, ok := strings.Cut(d, "=")
				if !ok {
					return fmt.Errorf("--delegate %q: want service=spn[,spn]", d)
				}
				if err := srv.AllowDelegation(svc, strings.Split(targets, ",")...); err != nil {
					return err
				}
			}
			for _, tr := range trusts {
				realm, pw, ok := strings.Cut(tr, "=")
				if !ok {
					return fmt.Errorf("--trust %q: want REALM=password", tr)
				}
				if err := srv.AddTrust(realm, pw); err != nil {
					return err
				}
			}
			for _, k := range keytabs {
				name, path, ok := strings.Cut(k, "=")
				if !ok {
					return fmt.Errorf("--export-keytab %q: want principal=path", k)
				}
				b, err := srv.KeytabBytes(name)
				if err != nil {
					return err
				}
				if err := os.WriteFile(path, b, 0o600); err != nil {
					return fmt.Errorf("write keytab: %w", err)
				}
			}
			if err := srv.Start(cmd.Context()); err != nil {
				return err
			}
			printKDC(cmd.OutOrStdout(), srv, demo, principals, keytabs)
			if faultAdmin != "" {
				stop, err := serveFaultAdmin(faultAdmin, srv.FaultInjector(), cmd.OutOrStdout())
				if err != nil {
					return err
				}
				defer stop()
			}
			<-cmd.Context().Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return srv.Shutdown(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Realm, "realm", "CORP.EXAMPLE", "realm served")
	f.StringVar(&cfg.Addr, "listen", "127.0.0.1:8888", "UDP and TCP listen address")
	f.BoolVar(&cfg.AllowNonLoopback, "allow-non-loopback", false, "allow listening on non-loopback addresses")
	f.DurationVar(&cfg.TicketLifetime, "ticket-lifetime", 10*time.Hour, "maximum ticket lifetime")
	f.StringArrayVar(&principals, "principal", nil, "principal as name=password (repeatable); demo principals when none")
	f.StringArrayVar(&delegate, "delegate", nil, "constrained delegation as service=spn[,spn] (marks the service ok_to_auth_as_delegate)")
	f.StringArrayVar(&trusts, "trust", nil, "cross-realm trust as REALM=password (use the same password on the other KDC)")
	f.StringArrayVar(&keytabs, "export-keytab", nil, "write a principal's keytab as principal=path")
	f.StringVar(&faultAdmin, "fault-admin-listen", "", "serve the shared faults (faults.Spec JSON) at http://ADDR/faults (loopback)")
	return cmd
}

// printKDC prints where the KDC listens, its demo principals, the
// keytabs written and its krb5.conf.
func printKDC(out io.Writer, srv *kdc.Server, demo bool, principals, keytabs []string) {
	fmt.Fprintf(out, "Realm:   %s\n", srv.Realm())
	fmt.Fprintf(out, "KDC:     %s (udp and tcp)\n", srv.Addr())
	if demo {
		fmt.Fprintln(out, "Demo principals (name=password):")
		for _, p := range principals {
			fmt.Fprintf(out, "  %s\n", p)
		}
	}
	for _, k := range keytabs {
		fmt.Fprintf(out, "Keytab:  %s\n", k)
	}
	fmt.Fprintf(out, "krb5.conf:\n%s", srv.Krb5Conf())
}
