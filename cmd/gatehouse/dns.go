package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-lab/gatehouse/fakes/dns"
	"github.com/gatehouse-lab/gatehouse/gateway/kerberos/discovery"
)

// newDNSCmd runs the fake authoritative DNS server until interrupted.
func newDNSCmd() *cobra.Command {
	var (
		cfg        dns.Config
		faultAdmin string
		hosts      []string
		kdcs       []string
		faults     dns.Faults
	)
	cmd := &cobra.Command{
		Use:   "dns",
		Short: "Run the fake authoritative DNS server (hosts, Kerberos SRV/TXT, faults) on UDP+TCP",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Logger = slog.Default()
			srv, err := dns.New(cfg)
			if err != nil {
				return err
			}
			for _, h := range hosts {
				name, ips, ok := strings.Cut(h, "=")
				if !ok {
					return fmt.Errorf("--host %q: want name=ip[,ip]", h)
				}
				var addrs []netip.Addr
				for _, ip := range strings.Split(ips, ",") {
					a, err := netip.ParseAddr(ip)
					if err != nil {
						return fmt.Errorf("--host %q: %w", h, err)
					}
					addrs = append(addrs, a)
				}
				if err := srv.AddHost(dns.Host{Name: name, Addrs: addrs}); err != nil {
					return err
				}
			}
			for _, k := range kdcs {
				realm, target, ok := strings.Cut(k, "=")
				if !ok {
					return fmt.Errorf("--kdc %q: want REALM=host[:port]", k)
				}
				host, port, err := discovery.ParseKDC(target)
				if err != nil {
					return fmt.Errorf("--kdc %q: %w", k, err)
				}
				if err := srv.AddKDC(realm, dns.KDC{Target: host, Port: uint16(port)}); err != nil {
					return err
				}
			}
			srv.SetFaults(faults)
			if err := srv.Start(cmd.Context()); err != nil {
				return err
			}
			host, port, _ := net.SplitHostPort(srv.Addr())
			fmt.Fprintf(cmd.OutOrStdout(), "DNS:     %s (udp and tcp)\nTry:     dig @%s -p %s SRV _kerberos._tcp.<REALM>\n", srv.Addr(), host, port)
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
	f.StringVar(&cfg.Addr, "listen", "127.0.0.1:5353", "UDP and TCP listen address")
	f.BoolVar(&cfg.AllowNonLoopback, "allow-non-loopback", false, "allow listening on non-loopback addresses")
	f.StringArrayVar(&cfg.Zones, "zone", nil, "zone served authoritatively (repeatable)")
	f.StringArrayVar(&hosts, "host", nil, "A/AAAA records as name=ip[,ip] (repeatable)")
	f.StringArrayVar(&kdcs, "kdc", nil, "Kerberos SRV records as REALM=host[:port] (repeatable)")
	f.IntVar(&faults.ExtraSRV, "extra-srv", 0, "fault: add this many unreachable KDCs to every SRV answer")
	f.DurationVar(&faults.Delay, "delay", 0, "fault: delay every answer")
	f.BoolVar(&faults.ServFail, "servfail", false, "fault: answer SERVFAIL")
	f.StringVar(&faultAdmin, "fault-admin-listen", "", "serve the shared faults (faults.Spec JSON) at http://ADDR/faults (loopback)")
	return cmd
}
