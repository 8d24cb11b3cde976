package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway"
)

// serveGateway runs the gateway until ctx ends. Clear Configuration
// (CFG-03, `ctl config clear`) asks for a restart: the Server is shut down
// and a new one started with the same bootstrap configuration, in this
// process, as the appliance reboots (docs/gateway.md). The admin token and
// any port chosen by the system (":0") are kept, so that clients reach the
// new Server as they reached the old one.
func serveGateway(ctx context.Context, cfg gateway.Config, out io.Writer) error {
	for {
		srv, err := gateway.New(cfg, slog.Default())
		if err != nil {
			return err
		}
		srv.SetRestartable()
		if err := srv.Start(ctx); err != nil {
			return err
		}
		fmt.Fprintf(out, "device URL:   %s/Microsoft-Server-ActiveSync\nadmin URL:    %s\nnotify URL:   %s\nadmin token:  %s\n",
			srv.DeviceURL(), srv.AdminURL(), srv.NotifyURL(), srv.AdminToken())
		restart := false
		select {
		case <-ctx.Done():
		case <-srv.RestartRequested():
			restart = true
		}
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = srv.Shutdown(sctx)
		cancel()
		if err != nil || !restart || ctx.Err() != nil {
			return err
		}
		slog.Warn("gateway restarting (Clear Configuration)")
		cfg.AdminToken = srv.AdminToken()
		cfg.Listen, cfg.AdminListen = hostPort(srv.DeviceURL(), cfg.Listen), hostPort(srv.AdminURL(), cfg.AdminListen)
		cfg.NotifyListen = hostPort(srv.NotifyURL(), cfg.NotifyListen)
	}
}

// hostPort is the address a URL names, else def.
func hostPort(u, def string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return def
	}
	return p.Host
}
