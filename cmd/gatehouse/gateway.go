package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/gatehouse-lab/gatehouse/gateway"
	"github.com/gatehouse-lab/gatehouse/internal/gcfloor"
)

// newGatewayCmd runs the reference gateway.
func newGatewayCmd() *cobra.Command {
	cfg := gateway.Defaults()
	var file string
	var heapFloorMiB uint64
	cmd := &cobra.Command{
		Use:   "gateway",
		Short: "Run the reference ActiveSync gateway",
		Long: `Run the reference gateway. Bootstrap settings come from flags or a YAML
file (--config); everything else (ActiveSync servers, policies, device
decisions) comes from the UEM. Listeners bind to loopback unless told otherwise.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file != "" {
				// Flags given explicitly win over the file: remember them,
				// load the file over the defaults, then set them again.
				changed := map[string]string{}
				cmd.Flags().Visit(func(f *pflag.Flag) { changed[f.Name] = f.Value.String() })
				if err := loadYAML(file, &cfg); err != nil {
					return err
				}
				for name, v := range changed {
					if err := cmd.Flags().Set(name, v); err != nil {
						return err
					}
				}
			}
			envDefault(&cfg.UEM.Token, "GATEHOUSE_UEM_TOKEN")
			envDefault(&cfg.UEM.NotifySecret, "GATEHOUSE_UEM_NOTIFY_SECRET")
			envDefault(&cfg.AdminToken, "GATEHOUSE_ADMIN_TOKEN")
			stopTuner, tuned := gcfloor.Start(heapFloorMiB << 20)
			defer stopTuner()
			if tuned {
				slog.Debug("garbage collector heap floor", "MiB", heapFloorMiB)
			}
			cfg.Version = "gatehouse/" + version
			return serveGateway(cmd.Context(), cfg, cmd.OutOrStdout()) // gateway_restart.go
		},
	}
	f := cmd.Flags()
	f.StringVar(&file, "config", "", "YAML bootstrap configuration file")
	f.Uint64Var(&heapFloorMiB, "gc-heap-floor", 32, "MiB of Go memory (heap, stacks, runtime) the gateway may use before a garbage collection while the live heap is small (0: plain GOGC; GOGC in the environment wins, GOMEMLIMIT caps it)")
	f.StringVar(&cfg.Listen, "listen", cfg.Listen, "device-facing HTTPS address")
	f.BoolVar(&cfg.ReusePort, "reuse-port", false, "bind --listen and --apptunnel-listen with SO_REUSEPORT: several gateway processes share the device and tunnel ports (each its own cache)")
	f.StringVar(&cfg.NotifyListen, "notify-listen", cfg.NotifyListen, "address receiving UEM notifications")
	f.StringVar(&cfg.AdminListen, "admin-listen", cfg.AdminListen, "admin API address")
	f.StringVar(&cfg.AppTunnelListen, "apptunnel-listen", cfg.AppTunnelListen, "AppTunnel listener address (docs/apptunnel.md); empty: none")
	f.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory for the device list, certificate, statistics and audit log")
	f.StringVar(&cfg.TLSCertFile, "tls-cert", "", "device-facing certificate (PEM); self-signed when empty")
	f.StringVar(&cfg.TLSKeyFile, "tls-key", "", "device-facing key (PEM)")
	f.StringVar(&cfg.UEM.URL, "uem-url", "", "UEM gateway API base URL")
	f.StringVar(&cfg.UEM.Token, "uem-token", "", "this gateway's UEM credential (or GATEHOUSE_UEM_TOKEN)")
	f.StringVar(&cfg.UEM.NotifySecret, "uem-notify-secret", "", "secret verifying UEM notifications, required, at least 16 bytes (or GATEHOUSE_UEM_NOTIFY_SECRET)")
	f.StringVar(&cfg.UEM.CAFile, "uem-ca", "", "CA certificate (PEM) trusted for the UEM")
	f.BoolVar(&cfg.UEM.Insecure, "uem-insecure", false, "do not verify the UEM certificate (labs only)")
	f.StringVar(&cfg.Upstream, "upstream", "", "ActiveSync server URL, until the UEM configuration names one")
	f.StringVar(&cfg.UpstreamCAFile, "upstream-ca", "", "CA certificate (PEM) trusted for the ActiveSync server")
	f.BoolVar(&cfg.UpstreamInsecure, "upstream-insecure", false, "do not verify the ActiveSync server certificate (labs only)")
	f.BoolVar(&cfg.UpstreamHTTP2, "upstream-http2", false, "offer HTTP/2 to ActiveSync servers with TLS (Pings share connections)")
	addAdminTokenFlags(f, &cfg.AdminToken, "admin-token", "GATEHOUSE_ADMIN_TOKEN", "admin API token; generated when empty")
	f.BoolVar(&cfg.FailOpen, "fail-open", cfg.FailOpen, "allow new devices while the UEM is unreachable (emm-fail-open)")
	f.DurationVar(&cfg.CheckInterval, "check-interval", cfg.CheckInterval, "UEM connectivity check interval")
	f.DurationVar(&cfg.ResyncInterval, "resync-interval", cfg.ResyncInterval, "UEM resync interval")
	f.DurationVar(&cfg.LastSeenInterval, "last-seen-interval", cfg.LastSeenInterval, "interval of the last-seen reports to the UEM (its Last Sync Time)")
	f.DurationVar(&cfg.PersistInterval, "persist-interval", cfg.PersistInterval, "persistent device list write interval (>= 10s)")
	f.DurationVar(&cfg.StatsInterval, "stats-interval", cfg.StatsInterval, "statistics file interval")
	f.StringVar(&cfg.DNSServer, "dns-server", "", "DNS server (host:port) for KDC discovery; the system resolver when empty")
	f.DurationVar(&cfg.KerberosRetry, "kerberos-retry", 0, "first Kerberos initialisation retry delay, doubling to 60 times it (default 1m)")
	f.BoolVar(&cfg.Audit, "audit", false, "write the audit log to <data-dir>/audit.log")
	f.DurationVar(&cfg.ControlReadTimeout, "control-read-timeout", cfg.ControlReadTimeout, "longest a request to the notification or admin listener may take to arrive")
	f.IntVar(&cfg.DeviceLimits.ConnectionsPerMinute, "device-connections-per-minute", cfg.DeviceLimits.ConnectionsPerMinute, "new device connections a minute per remote source address (0: no limit)")
	f.IntVar(&cfg.DeviceLimits.RequestsPerSecond, "device-requests-per-second", cfg.DeviceLimits.RequestsPerSecond, "device requests a second per remote source address (0: no limit)")
	f.IntVar(&cfg.DeviceLimits.LoopbackConnectionsPerMinute, "loopback-connections-per-minute", cfg.DeviceLimits.LoopbackConnectionsPerMinute, "the same for loopback and front-end sources (0: no limit)")
	f.IntVar(&cfg.DeviceLimits.LoopbackRequestsPerSecond, "loopback-requests-per-second", cfg.DeviceLimits.LoopbackRequestsPerSecond, "the same for loopback and front-end sources (0: no limit)")
	return cmd
}

// envDefault fills an unset secret from the environment, so secrets need
// not appear on a command line (where ps shows them).
func envDefault(v *string, name string) {
	if *v == "" {
		*v = os.Getenv(name)
	}
}

// loadYAML reads one YAML document into into and refuses a field into
// does not have, naming it and its line: a misspelt setting (fail_opne)
// must not leave the default it meant to change in force.
func loadYAML(path string, into any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(into); err != nil && !errors.Is(err, io.EOF) { // an empty file changes nothing
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := dec.Decode(new(struct{})); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: more than one YAML document", path)
	}
	return nil
}
