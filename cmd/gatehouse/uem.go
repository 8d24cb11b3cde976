package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/internal/trust"
)

// newUEMCmd runs the fake UEM standalone.
func newUEMCmd() *cobra.Command {
	var (
		cfg uem.Config
		fl  uemFlags
	)
	cmd := &cobra.Command{
		Use:   "uem",
		Short: "Run the fake UEM (gateway API /api/v1, admin API /admin/v1)",
		Long: `Run the fake UEM standalone, loaded from a YAML seed (users, devices,
policies, gateway entries, associations) and/or N generated users with one
registered, allowed device each (deterministic for a given --generate-seed).

Both APIs listen on loopback only unless --allow-non-loopback is given, and use TLS (TLS 1.2+)
with a self-signed certificate generated at start when none is given. The
admin token and any gateway token not set in the seed are generated at start
and printed once on standard output; they are never logged.

A million generated devices take about 0.75 GiB of heap; serving them as
the allowed list peaks under 1 GiB resident. GOMEMLIMIT bounds it further.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := fl.apply(&cfg); err != nil {
				return err
			}
			return runUEM(cmd.Context(), cmd.OutOrStdout(), cfg)
		},
	}
	addUEMFlags(cmd.Flags(), &cfg, &fl)
	return cmd
}

// uemFlags are the flags of `gatehouse uem` that are not fields of
// uem.Config.
type uemFlags struct {
	seedFile     string
	notifyCAFile string
	gen          uem.Generate
}

func addUEMFlags(f *pflag.FlagSet, cfg *uem.Config, fl *uemFlags) {
	f.StringVar(&cfg.GatewayAddr, "gateway-listen", "127.0.0.1:8600", "address of the gateway-facing API (the gateway takes 8443, the Exchange 8700)")
	f.StringVar(&cfg.AdminAddr, "admin-listen", "127.0.0.1:8601", "address of the admin API")
	f.StringVar(&cfg.CRLAddr, "crl-listen", "", "address of the device CA's CRL (plain HTTP); 127.0.0.1 and a free port when empty")
	f.BoolVar(&cfg.AllowNonLoopback, "allow-non-loopback", false, "allow listening on non-loopback addresses")
	f.StringVar(&cfg.TLSCertFile, "tls-cert", "", "PEM certificate (default: self-signed, generated at start)")
	f.StringVar(&cfg.TLSKeyFile, "tls-key", "", "PEM private key for --tls-cert")
	f.BoolVar(&cfg.PlainHTTP, "plain-http", false, "serve without TLS (debugging only)")
	addAdminTokenFlags(f, &cfg.AdminToken, "admin-token", "GATEHOUSE_UEM_ADMIN_TOKEN", "admin token; generated and printed when empty")
	f.StringVar(&fl.seedFile, "seed", "", "YAML seed file")
	f.IntVar(&fl.gen.Devices, "generate", 0, fmt.Sprintf("generate N users with one registered device each (0-%d)", uem.MaxGenerated))
	f.Uint64Var(&fl.gen.Seed, "generate-seed", 1, "random seed of --generate")
	f.StringVar(&fl.gen.Gateway, "generate-gateway", "", "gateway entry id recorded as the Domain of generated associations")
	f.IntVar(&fl.gen.ViolationPercent, "generate-violations", 0, "percentage of generated devices with a security violation")
	f.StringVar(&fl.notifyCAFile, "notify-ca", "", "PEM CA certificates trusted for gateway notification URLs")
	f.BoolVar(&cfg.Notify.InsecureSkipVerify, "notify-insecure", false, "do not verify gateway certificates when pushing notifications")
	f.IntVar(&cfg.Notify.Attempts, "notify-attempts", 6, "attempts per notification (1-100)")
	f.Uint64Var(&cfg.FaultSeed, "fault-seed", 1, "random seed of the error-rate fault")
}

// apply loads the seed file, the generated users, the admin token and
// the notification CAs into cfg.
func (fl *uemFlags) apply(cfg *uem.Config) error {
	if fl.seedFile != "" {
		sd, err := uem.LoadSeedFile(fl.seedFile)
		if err != nil {
			return err
		}
		cfg.Seed = sd
	}
	if fl.gen.Devices > 0 {
		if cfg.Seed == nil {
			cfg.Seed = &uem.Seed{}
		}
		if cfg.Seed.Generate != nil {
			return errors.New("--generate and a seed file with a generate section exclude each other")
		}
		g := fl.gen
		cfg.Seed.Generate = &g
	}
	envDefault(&cfg.AdminToken, "GATEHOUSE_UEM_ADMIN_TOKEN")
	if fl.notifyCAFile != "" {
		pool, err := trust.Pool(fl.notifyCAFile)
		if err != nil {
			return err
		}
		cfg.Notify.RootCAs = pool
	}
	return nil
}

// runUEM serves the fake UEM until ctx ends, printing its URLs and the
// tokens it generated (the admin token, gateway tokens the seed left
// empty) once on out.
func runUEM(ctx context.Context, out io.Writer, cfg uem.Config) error {
	generatedTokens := map[string]bool{}
	if cfg.Seed != nil {
		for _, g := range cfg.Seed.Gateways {
			if g.Token == "" {
				generatedTokens[g.ID] = true
			}
		}
	}
	cfg.Logger = slog.Default()
	srv, err := uem.New(cfg)
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	fmt.Fprintf(out, "gateway API: %s/api/v1\nadmin API:   %s%s\ndevice CRL:  %s\n", srv.GatewayURL(), srv.AdminURL(), uem.AdminPrefix, srv.CA().CRLURL)
	if cfg.AdminToken == "" {
		fmt.Fprintf(out, "admin token: %s\n", srv.AdminToken())
	}
	for _, g := range srv.Gateways() {
		if generatedTokens[g.ID] {
			fmt.Fprintf(out, "gateway %s token: %s\n", g.ID, g.Token)
		}
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
