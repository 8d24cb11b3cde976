package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/lab/dashboard"
)

// newLabCmd runs a whole world for people: fake UEM, fake Exchange and the
// gateway, on fixed loopback ports, with nothing to configure.
func newLabCmd() *cobra.Command {
	cfg := lab.Config{
		GatewayListen: "127.0.0.1:8443", NotifyListen: "127.0.0.1:9090", GatewayAdminListen: "127.0.0.1:9091",
		UEMListen: "127.0.0.1:8600", UEMAdminListen: "127.0.0.1:8601",
		ExchangeListen: "127.0.0.1:8700", ExchangeAdminListen: "127.0.0.1:8701",
		Users: 4, MessagesPerUser: 12,
	}
	var asJSON, demo, subprocess, noDashboard bool
	dashAddr := "127.0.0.1:8800"
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Run a whole lab: fake UEM, fake Exchange and the gateway, on loopback",
		Long: `Run a fake UEM, a fake Exchange (demo mailboxes with attachments of several
types) and the reference gateway registered in that UEM, on fixed loopback
ports. Prints the live dashboard's URL first (a browser page showing the
devices, the UEM's and the gateway's views, charts, faults and the demo, on
127.0.0.1:8800), then every URL and credential (--json: one JSON document,
see docs/lab.md). --demo drives a few devices through first access,
attachment encryption, block, wipe, fail-open, resync, AppTunnel and OAuth
and narrates what happens here (--demo implies --oauth); the dashboard's "Play the demo" does the same on screen. The UEM check
and resync intervals are 2 s and 5 s so that a resync shows quickly.
Stop with Ctrl-C.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if subprocess {
				cfg.Mode = lab.Subprocess
				exe, err := os.Executable()
				if err != nil {
					return err
				}
				cfg.Binary = exe
			}
			// Short UEM check and resync intervals, so that the demo (from
			// --demo or the dashboard) shows a resync within seconds.
			cfg.CheckInterval, cfg.ResyncInterval = lab.DemoCheckInterval, lab.DemoResyncInterval
			// The demo's OAuth step needs the lab's identity provider; every
			// other step stays green with it (TestRunDemoNarratesEveryFlow).
			cfg.OAuth = cfg.OAuth || demo
			l, err := lab.Start(ctx, cfg)
			if err != nil {
				return err
			}
			defer func() {
				sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				l.Close(sctx)
			}()
			var dash *dashboard.Server
			if !noDashboard {
				if dash, err = startDashboard(l, dashAddr, !cmd.Flags().Changed("dashboard-listen"), cmd.ErrOrStderr()); err != nil {
					return err
				}
				defer dash.Shutdown(context.Background())
			}
			out, narr := cmd.OutOrStdout(), cmd.OutOrStdout()
			if asJSON {
				if err := printJSON(out, l, dash); err != nil {
					return err
				}
				narr = cmd.ErrOrStderr()
			} else {
				if dash != nil {
					fmt.Fprintf(out, "dashboard %s\n          (the link signs you in; or open %s and paste the gateway admin token)\n\n", dash.LoginURL(), dash.URL())
				}
				printEndpoints(out, l.Endpoints())
				if u := l.IntegratedURL(); u != "" {
					fmt.Fprintf(out, "gatehouse ctl --admin %s --token %s --insecure integrated state\n", u, l.Endpoints().Gateway.AdminToken)
				}
			}
			if demo {
				if err := lab.RunDemo(ctx, l, narr); err != nil && !errors.Is(err, context.Canceled) {
					return err
				}
			}
			<-ctx.Done()
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print one JSON document with endpoints, tokens and the demo users' credentials")
	f.BoolVar(&demo, "demo", false, "drive devices through first access, block, wipe, fail-open, resync, AppTunnel and OAuth, narrating (implies --oauth)")
	f.BoolVar(&cfg.OAuth, "oauth", false, "also run a fake identity provider and Enable Pass Through with OAuth (docs/oauth.md)")
	f.BoolVar(&subprocess, "gateway-subprocess", false, "run the gateway as a subprocess of this binary (restart / kill -9 are real)")
	f.BoolVar(&cfg.Integrated, "integrated", false, "also run the integrated connector: Exchange itself enforces the UEM's decisions (docs/integrated.md)")
	f.BoolVar(&cfg.HTTP2, "http2", false, "the fake Exchange offers HTTP/2 and the gateway multiplexes its upstream requests on it")
	f.StringVar(&dashAddr, "dashboard-listen", dashAddr, "the live dashboard's loopback address")
	f.BoolVar(&noDashboard, "no-dashboard", false, "do not serve the dashboard")
	f.StringVar(&cfg.Dir, "dir", "", "working directory (gateway data, logs); temporary when empty")
	f.IntVar(&cfg.Users, "users", cfg.Users, "demo users (alice, bob, carol, dave, ...)")
	f.IntVar(&cfg.MessagesPerUser, "messages", cfg.MessagesPerUser, "generated mails per mailbox")
	f.StringVar(&cfg.GatewayListen, "gateway-listen", cfg.GatewayListen, "gateway device-facing address")
	f.StringVar(&cfg.NotifyListen, "notify-listen", cfg.NotifyListen, "gateway notification address")
	f.StringVar(&cfg.GatewayAdminListen, "gateway-admin-listen", cfg.GatewayAdminListen, "gateway admin API address")
	f.StringVar(&cfg.UEMListen, "uem-listen", cfg.UEMListen, "UEM gateway API address")
	f.StringVar(&cfg.UEMAdminListen, "uem-admin-listen", cfg.UEMAdminListen, "UEM admin API address")
	f.StringVar(&cfg.ExchangeListen, "exchange-listen", cfg.ExchangeListen, "Exchange ActiveSync address")
	f.StringVar(&cfg.ExchangeAdminListen, "exchange-admin-listen", cfg.ExchangeAdminListen, "Exchange admin API address")
	return cmd
}

func printEndpoints(w io.Writer, e lab.Endpoints) {
	fmt.Fprintf(w, "gatehouse lab (%s gateway), working directory %s\n\n", e.Mode, e.Dir)
	fmt.Fprintf(w, "gateway   ActiveSync  %s\n          admin API   %s  token %s\n          notify      %s\n",
		e.Gateway.ActiveSyncURL, e.Gateway.AdminURL, e.Gateway.AdminToken, e.Gateway.NotifyURL)
	fmt.Fprintf(w, "UEM       gateway API %s  gateway %s token %s\n          admin API   %s  token %s\n",
		e.UEM.GatewayAPIURL, e.UEM.GatewayID, e.UEM.GatewayToken, e.UEM.AdminURL, e.UEM.AdminToken)
	fmt.Fprintf(w, "Exchange  ActiveSync  %s\n          admin API   %s  token %s\n\nusers (ActiveSync user / password / email):\n",
		e.Exchange.ActiveSyncURL, e.Exchange.AdminURL, e.Exchange.AdminToken)
	for _, u := range e.Users {
		fmt.Fprintf(w, "  %-8s %-12s %s\n", u.Name, u.Password, u.Email)
	}
	if e.Gateway.CtlCommand != "" {
		fmt.Fprintf(w, "\nthe gateway's device cache (from the module root):\n  %s\n", e.Gateway.CtlCommand)
	}
}

// dashboardEndpoints is the dashboard's part of `gatehouse lab --json`.
type dashboardEndpoints struct {
	URL      string `json:"url"`
	LoginURL string `json:"login_url"` // signs in: the token is in the fragment, never sent
}

// startDashboard serves the dashboard on addr. When addr is the default
// (anyPort) and taken, by another lab say, it takes a free port instead:
// scripts running labs side by side on their own ports keep working, and
// the URL printed is the one in use.
func startDashboard(l *lab.Lab, addr string, anyPort bool, warn io.Writer) (*dashboard.Server, error) {
	start := func(addr string) (*dashboard.Server, error) {
		d, err := dashboard.New(l, dashboard.Config{Addr: addr, Token: l.Endpoints().Gateway.AdminToken})
		if err != nil {
			return nil, err
		}
		return d, d.Start()
	}
	d, err := start(addr)
	if err != nil && anyPort && errors.Is(err, syscall.EADDRINUSE) {
		fmt.Fprintf(warn, "gatehouse lab: %s is taken; the dashboard takes a free port\n", addr)
		d, err = start("127.0.0.1:0")
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// printJSON prints the endpoints, the dashboard first.
func printJSON(w io.Writer, l *lab.Lab, dash *dashboard.Server) error {
	doc := struct {
		Dashboard *dashboardEndpoints `json:"dashboard,omitempty"`
		lab.Endpoints
	}{Endpoints: l.Endpoints()}
	if dash != nil {
		doc.Dashboard = &dashboardEndpoints{URL: dash.URL(), LoginURL: dash.LoginURL()}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
