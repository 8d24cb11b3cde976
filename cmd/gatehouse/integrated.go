package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-lab/gatehouse/gateway/integrated"
	"github.com/gatehouse-lab/gatehouse/internal/selfsigned"
	"github.com/gatehouse-lab/gatehouse/internal/trust"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// integratedFlags are the bootstrap settings of `gatehouse integrated`;
// where Exchange is and which groups sync come from the UEM.
type integratedFlags struct {
	listen, uemURL, uemToken, uemCA, notifySecret, adminToken, exchangeCA string
	uemInsecure, exchangeInsecure                                         bool
	batch                                                                 int
	fullEvery, clockSkew, retry                                           time.Duration
}

// newIntegratedCmd runs the integrated connector (docs/integrated.md).
func newIntegratedCmd() *cobra.Command {
	var f integratedFlags
	cmd := &cobra.Command{
		Use:   "integrated",
		Short: "Run the integrated connector: Exchange enforces the UEM's decisions (INT)",
		Long: `Run the integrated connector ("Integrated Sentry"). It is not in the mail
path: it syncs Exchange's mailboxes and device partnerships through Exchange's
management API, reports them to the UEM and tells Exchange to allow, block or
wipe. Its Exchange servers, secret and groups come from the UEM's gateway
entry (config section "integrated"). State: gatehouse ctl integrated state.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runIntegrated(cmd, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:9092", "HTTPS address for UEM notifications and ctl")
	fl.StringVar(&f.uemURL, "uem-url", "", "UEM gateway API base URL")
	fl.StringVar(&f.uemToken, "uem-token", "", "the connector's UEM credential (or GATEHOUSE_UEM_TOKEN)")
	fl.StringVar(&f.uemCA, "uem-ca", "", "CA certificate (PEM) trusted for the UEM")
	fl.BoolVar(&f.uemInsecure, "uem-insecure", false, "do not verify the UEM certificate (labs only)")
	fl.StringVar(&f.notifySecret, "uem-notify-secret", "", "secret verifying UEM notifications (or GATEHOUSE_UEM_NOTIFY_SECRET)")
	addAdminTokenFlags(fl, &f.adminToken, "admin-token", "GATEHOUSE_ADMIN_TOKEN", "token of the ctl endpoints")
	fl.StringVar(&f.exchangeCA, "exchange-ca", "", "CA certificate (PEM) trusted for Exchange's management API")
	fl.BoolVar(&f.exchangeInsecure, "exchange-insecure", false, "do not verify Exchange's certificate (labs only)")
	fl.IntVar(&f.batch, "batch-size", 1000, "page size of a sync (1..5000)")
	fl.DurationVar(&f.fullEvery, "full-every", 7*24*time.Hour, "full sync period (INT-06)")
	fl.DurationVar(&f.clockSkew, "clock-skew", time.Minute, "largest clock difference with Exchange a differential accepts (INT-08)")
	fl.DurationVar(&f.retry, "retry-delay", time.Minute, "wait before a failed sync resumes")
	return cmd
}

func tlsClientFor(caFile string, insecure bool) (*http.Client, error) {
	tc, err := trust.Client(caFile, insecure)
	if err != nil {
		return nil, err
	}
	return &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{TLSClientConfig: tc, MaxIdleConnsPerHost: 16}}, nil
}

func runIntegrated(cmd *cobra.Command, f *integratedFlags) error {
	envDefault(&f.uemToken, "GATEHOUSE_UEM_TOKEN")
	envDefault(&f.notifySecret, "GATEHOUSE_UEM_NOTIFY_SECRET")
	envDefault(&f.adminToken, "GATEHOUSE_ADMIN_TOKEN")
	uemHC, err := tlsClientFor(f.uemCA, f.uemInsecure)
	if err != nil {
		return fmt.Errorf("--uem-ca: %w", err)
	}
	exHC, err := tlsClientFor(f.exchangeCA, f.exchangeInsecure)
	if err != nil {
		return fmt.Errorf("--exchange-ca: %w", err)
	}
	uc, err := uemapi.NewClient(f.uemURL, f.uemToken, uemapi.WithHTTPClient(uemHC), uemapi.WithGatewayVersion("gatehouse-integrated/"+version))
	if err != nil {
		return fmt.Errorf("--uem-url: %w", err)
	}
	conn, err := integrated.New(integrated.Config{UEM: uc, NotifySecret: []byte(f.notifySecret), AdminToken: f.adminToken,
		ExchangeHTTP: exHC, BatchSize: f.batch, FullEvery: f.fullEvery, ClockSkew: f.clockSkew, RetryDelay: f.retry})
	if err != nil {
		return err
	}
	if err := conn.Start(cmd.Context()); err != nil {
		return err
	}
	cert, err := selfsigned.Generate("gatehouse integrated connector", time.Now())
	if err != nil {
		return err
	}
	srv, err := integrated.Listen(conn, f.listen, cert)
	if err != nil {
		return err
	}
	srv.Run(cmd.Context())
	fmt.Fprintf(cmd.OutOrStdout(), "ctl URL:     %s\nnotify URL:  %s\n", srv.URL(), srv.NotifyURL())
	<-cmd.Context().Done()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return srv.Shutdown(ctx)
}
