package lab

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/gateway/integrated"
	"github.com/gatehouse-lab/gatehouse/internal/selfsigned"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// IntegratedGatewayID is the UEM entry of the lab's integrated connector.
const IntegratedGatewayID = "integrated1"

// integratedLab is the connector of a lab with Config.Integrated.
type integratedLab struct {
	conn  *integrated.Connector
	srv   *integrated.Server
	token string
}

// startIntegrated registers an integrated connector in the UEM (the
// Exchange's management API as its server, INT-01) and starts it beside
// the gateway: it runs its full sync at once (INT-05).
func (l *Lab) startIntegrated(ctx context.Context) error {
	cert, err := selfsigned.LoadOrCreate(filepath.Join(l.DataDir(), "tls"), "gatehouse gateway", time.Now()) // the cert the UEM trusts
	if err != nil {
		return err
	}
	u, err := url.Parse(l.Exchange.AdminURL())
	if err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return err
	}
	p, _ := strconv.Atoi(port)
	ic := &uemapi.IntegratedConfig{Server: host, Port: p, Secret: l.Exchange.MgmtToken(), SyncIntervalMinutes: l.cfg.IntegratedSyncMinutes}
	it := &integratedLab{token: randomToken()}
	uc, err := uemapi.NewClient(l.UEM.GatewayURL(), it.token, uemapi.WithHTTPClient(l.hc))
	if err != nil {
		return err
	}
	it.conn, err = integrated.New(integrated.Config{UEM: uc, NotifySecret: []byte(l.cfg.NotifySecret), AdminToken: l.cfg.GatewayAdminToken,
		ExchangeHTTP: l.hc, Log: l.cfg.Logger.With("component", "integrated"), RetryDelay: time.Second})
	if err != nil {
		return err
	}
	it.srv, err = integrated.Listen(it.conn, "127.0.0.1:0", cert)
	if err != nil {
		return err
	}
	gc := uemapi.DefaultGatewayConfig()
	gc.Integrated = ic
	if _, err := l.UEM.AddGateway(uem.GatewayEntry{ID: IntegratedGatewayID, Name: "gatehouse lab integrated", Host: "127.0.0.1", Port: uem.DefaultGatewayPort,
		Enabled: true, Token: it.token, NotifySecret: []byte(l.cfg.NotifySecret), NotificationURL: it.srv.NotifyURL(), Config: gc}); err != nil {
		return fmt.Errorf("lab: register the integrated connector: %w", err)
	}
	if err := it.conn.Start(ctx); err != nil {
		return err
	}
	it.srv.Run(ctx)
	l.integrated = it
	return nil
}

// Connector is the lab's integrated connector (Config.Integrated), else nil.
func (l *Lab) Connector() *integrated.Connector {
	if l.integrated == nil {
		return nil
	}
	return l.integrated.conn
}

// IntegratedURL is the connector's ctl URL (gatehouse ctl --admin), "" without one.
func (l *Lab) IntegratedURL() string {
	if l.integrated == nil {
		return ""
	}
	return l.integrated.srv.URL()
}

func (l *Lab) stopIntegrated(ctx context.Context) error {
	if l.integrated == nil {
		return nil
	}
	return l.integrated.srv.Shutdown(ctx)
}
