package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/internal/trust"
)

// newCtlCmd is the gateway's command line: the seeds' `show sentry …` and
// `debug sentry …` commands over the admin API.
func newCtlCmd() *cobra.Command {
	f := &ctlFlags{}
	root := &cobra.Command{
		Use:   "ctl",
		Short: "Query and drive a running gateway through its admin API",
	}
	pf := root.PersistentFlags()
	pf.StringVar(&f.addr, "admin", "https://127.0.0.1:9091", "admin API URL")
	addAdminTokenFlags(pf, &f.token, "token", "GATEHOUSE_ADMIN_TOKEN", "the gateway's admin token")
	pf.StringVar(&f.caFile, "ca", "", "CA certificate (PEM) to trust for the admin API")
	pf.BoolVar(&f.insecure, "insecure", false, "do not verify the admin API certificate")
	pf.StringVarP(&f.output, "output", "o", "table", "output: table or json")

	client, emit := f.client, f.emit
	root.AddCommand(deviceCacheCmd(client, emit),
		countCmd(client, emit, "clear-redirect-url {all | entry <device-id> <user-id>}", "Forget remembered 451 redirects", cobra.RangeArgs(1, 3), func(ctx context.Context, c *admin.Client, a []string) (*admin.Count, error) {
			switch {
			case len(a) == 1 && a[0] == "all":
				return c.ClearRedirect(ctx, true, "", "")
			case len(a) == 3 && a[0] == "entry":
				return c.ClearRedirect(ctx, false, a[1], a[2])
			}
			return nil, fmt.Errorf("usage: clear-redirect-url all | clear-redirect-url entry <device-id> <user-id>")
		}),
		statusCmd("status", "Show UEM connectivity and fail-open status (FO-05)", client, emit, func(ctx context.Context, c *admin.Client) (*admin.Status, error) { return c.Status(ctx) }),
		statusCmd("verify", "Check UEM connectivity now (SVD-03)", client, emit, func(ctx context.Context, c *admin.Client) (*admin.Status, error) { return c.Verify(ctx) }),
		failOpenCmd(client, emit),
		auditCmd(client, emit),
		alertsCmd(client, emit), syslogCmd(client, emit),
		logCmd(client, emit),
		statisticsCmd(client, emit), utilizationCmd(client, emit), diagnoseCmd(client, emit), configCmd(client),
		crlCmd(client, emit),
		serversCmd(client, emit),
	)
	root.AddCommand(kerberosCmds(client, emit)...)
	root.AddCommand(integratedCtlCmd(f)) // ctl_integrated.go
	return root
}

// adminClient returns a client of the admin API the flags name.
type adminClient = func() (*admin.Client, error)

// emitter prints v as JSON with -o json, else with the table printer.
type emitter = func(w io.Writer, v any, table func() error) error

// ctlFlags are the flags every ctl command shares.
type ctlFlags struct {
	addr, token, caFile, output string
	insecure                    bool
}

func (f *ctlFlags) client() (*admin.Client, error) {
	if f.token == "" {
		f.token = os.Getenv("GATEHOUSE_ADMIN_TOKEN")
	}
	tc, err := trust.Client(f.caFile, f.insecure)
	if err != nil {
		return nil, err
	}
	return admin.NewClient(f.addr, f.token, &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{TLSClientConfig: tc}}), nil
}

func (f *ctlFlags) emit(w io.Writer, v any, table func() error) error {
	if f.output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	return table()
}

// entriesCmd is a command that lists the cache entries get returns.
func entriesCmd(client adminClient, emit emitter, use, short string, args cobra.PositionalArgs, get func(context.Context, *admin.Client, []string) ([]admin.Entry, error)) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: args, RunE: func(cmd *cobra.Command, a []string) error {
		c, err := client()
		if err != nil {
			return err
		}
		es, err := get(cmd.Context(), c, a)
		if err != nil {
			return err
		}
		return emit(cmd.OutOrStdout(), es, func() error { return admin.RenderEntries(cmd.OutOrStdout(), es) })
	}}
}

// countCmd is a command that does something to the cache and prints the
// message of the count it returns.
func countCmd(client adminClient, emit emitter, use, short string, args cobra.PositionalArgs, do func(context.Context, *admin.Client, []string) (*admin.Count, error)) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: args, RunE: func(cmd *cobra.Command, a []string) error {
		c, err := client()
		if err != nil {
			return err
		}
		n, err := do(cmd.Context(), c, a)
		if err != nil {
			return err
		}
		return emit(cmd.OutOrStdout(), n, func() error {
			if n.Message != "" {
				_, err := fmt.Fprintln(cmd.OutOrStdout(), admin.Printable(n.Message))
				return err
			}
			return nil
		})
	}}
}

// deviceCacheCmd is `ctl device-cache …`: the cache's reports and debug
// commands.
func deviceCacheCmd(client adminClient, emit emitter) *cobra.Command {
	entries := func(use, short string, args cobra.PositionalArgs, get func(context.Context, *admin.Client, []string) ([]admin.Entry, error)) *cobra.Command {
		return entriesCmd(client, emit, use, short, args, get)
	}
	count := func(use, short string, args cobra.PositionalArgs, do func(context.Context, *admin.Client, []string) (*admin.Count, error)) *cobra.Command {
		return countCmd(client, emit, use, short, args, do)
	}
	dc := &cobra.Command{Use: "device-cache", Short: "Device cache reports and debug commands (DC items)"}
	dc.AddCommand(
		entries("dump {all|active-sync|app-tunnel}", "List cache entries", cobra.MaximumNArgs(1), func(ctx context.Context, c *admin.Client, a []string) ([]admin.Entry, error) {
			kind := "all"
			if len(a) == 1 {
				kind = a[0]
			}
			return c.Dump(ctx, kind)
		}),
		entries("entry <tunnel-id> <user-id>", "Show one entry", cobra.ExactArgs(2), func(ctx context.Context, c *admin.Client, a []string) ([]admin.Entry, error) {
			return c.Entry(ctx, a[0], a[1])
		}),
		entries("device <device-id>", "Entries whose device id contains the argument", cobra.ExactArgs(1), func(ctx context.Context, c *admin.Client, a []string) ([]admin.Entry, error) {
			return c.ByDevice(ctx, a[0])
		}),
		entries("user <user-id>", "Entries whose user contains the argument", cobra.ExactArgs(1), func(ctx context.Context, c *admin.Client, a []string) ([]admin.Entry, error) {
			return c.ByUser(ctx, a[0])
		}),
		entries("min-connection <value>", "Entries with at least <value> connections", cobra.ExactArgs(1), func(ctx context.Context, c *admin.Client, a []string) ([]admin.Entry, error) {
			n, err := strconv.Atoi(a[0])
			if err != nil {
				return nil, fmt.Errorf("min-connection: %q is not a number", a[0])
			}
			return c.MinConnection(ctx, n)
		}),
		entries("validation-pending {yes|no}", "Entries waiting (or not) for UEM validation", cobra.ExactArgs(1), func(ctx context.Context, c *admin.Client, a []string) ([]admin.Entry, error) {
			if a[0] != "yes" && a[0] != "no" {
				return nil, fmt.Errorf("validation-pending takes yes or no")
			}
			return c.ValidationPending(ctx, a[0] == "yes")
		}),
		&cobra.Command{Use: "status", Short: "In-memory and persistent list status", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			st, err := c.CacheStatus(cmd.Context())
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), st, func() error {
				_, err := fmt.Fprintf(cmd.OutOrStdout(), "In-memory device cache : %d entries (ActiveSync %d, AppTunnel %d, validation pending %d)\nPeak device cache size : %d\nPersistent device list : %d entries, written %s\n",
					st.InMemory, st.ActiveSync, st.AppTunnel, st.ValidationPend, st.Peak, st.Persistent, st.PersistentSaved.Format(time.RFC3339))
				return err
			})
		}},
		count("to-disk", "Write the persistent device list now (DC-17)", cobra.NoArgs, func(ctx context.Context, c *admin.Client, _ []string) (*admin.Count, error) { return c.ToDisk(ctx) }),
		count("from-disk", "Restore devices from the persistent list (DC-18)", cobra.NoArgs, func(ctx context.Context, c *admin.Client, _ []string) (*admin.Count, error) { return c.FromDisk(ctx) }),
		withAliases(count("from-uem", "Reload allowed devices from the UEM (DC-19)", cobra.NoArgs, func(ctx context.Context, c *admin.Client, _ []string) (*admin.Count, error) { return c.FromUEM(ctx) }), "from-emm"),
		count("purge {all | entry <device-id> <user-id>}", "Empty the cache, or remove one entry (DC-21, DC-22)", cobra.RangeArgs(1, 3), func(ctx context.Context, c *admin.Client, a []string) (*admin.Count, error) {
			switch {
			case len(a) == 1 && a[0] == "all":
				return c.PurgeAll(ctx)
			case len(a) == 3 && a[0] == "entry":
				return c.PurgeEntry(ctx, a[1], a[2])
			}
			return nil, fmt.Errorf("usage: purge all | purge entry <device-id> <user-id>")
		}),
	)
	return dc
}

// failOpenCmd is `ctl emm-fail-open {on|off}` (FO-04).
func failOpenCmd(client adminClient, emit emitter) *cobra.Command {
	return &cobra.Command{Use: "emm-fail-open {on|off}", Short: "Allow (on) or block (off) new devices while the UEM is unreachable (FO-04)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, a []string) error {
			if a[0] != "on" && a[0] != "off" {
				return fmt.Errorf("emm-fail-open takes on or off")
			}
			c, err := client()
			if err != nil {
				return err
			}
			st, err := c.SetFailOpen(cmd.Context(), a[0] == "on")
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), st, func() error { return admin.RenderStatus(cmd.OutOrStdout(), st) })
		}}
}

func withAliases(c *cobra.Command, aliases ...string) *cobra.Command {
	c.Aliases = aliases
	return c
}

func statusCmd(use, short string, client func() (*admin.Client, error), emit func(io.Writer, any, func() error) error, get func(context.Context, *admin.Client) (*admin.Status, error)) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		c, err := client()
		if err != nil {
			return err
		}
		st, err := get(cmd.Context(), c)
		if err != nil {
			return err
		}
		return emit(cmd.OutOrStdout(), st, func() error { return admin.RenderStatus(cmd.OutOrStdout(), st) })
	}}
}

func statisticsCmd(client func() (*admin.Client, error), emit func(io.Writer, any, func() error) error) *cobra.Command {
	st := &cobra.Command{Use: "statistics", Aliases: []string{"stats"}, Short: "Statistics counters (STA items)"}
	st.AddCommand(statsExtraCmds(client, emit)...) // ctl_stats.go
	st.AddCommand(
		&cobra.Command{Use: "entry <device-id> <user-id> [filter]", Short: "One device's counters", Args: cobra.RangeArgs(2, 3), RunE: func(cmd *cobra.Command, a []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			filter := ""
			if len(a) == 3 {
				filter = a[2]
			}
			cs, err := c.StatsEntry(cmd.Context(), a[0], a[1], filter)
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), cs, func() error { return admin.RenderCounters(cmd.OutOrStdout(), cs) })
		}},
		&cobra.Command{Use: "global {device|system} [filter]", Short: "Counters summed over devices, or system peaks", Args: cobra.RangeArgs(1, 2), RunE: func(cmd *cobra.Command, a []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			filter := ""
			if len(a) == 2 {
				filter = a[1]
			}
			switch a[0] {
			case "device":
				cs, err := c.StatsGlobalDevice(cmd.Context(), filter)
				if err != nil {
					return err
				}
				return emit(cmd.OutOrStdout(), cs, func() error { return admin.RenderCounters(cmd.OutOrStdout(), cs) })
			case "system":
				ps, err := c.StatsGlobalSystem(cmd.Context(), filter)
				if err != nil {
					return err
				}
				return emit(cmd.OutOrStdout(), ps, func() error { return admin.RenderPeaks(cmd.OutOrStdout(), ps) })
			}
			return fmt.Errorf("global takes device or system")
		}},
	)
	return st
}

// crlCmd lists and purges the CRL cache of certificate device
// authentication (DA-10: `crl-cache purge <crl-id>`).
func crlCmd(client func() (*admin.Client, error), emit func(io.Writer, any, func() error) error) *cobra.Command {
	c := &cobra.Command{Use: "crl-cache", Short: "CRL cache of certificate device authentication"}
	c.AddCommand(
		&cobra.Command{Use: "list", Short: "List cached CRLs", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := client()
			if err != nil {
				return err
			}
			list, err := cl.CRLs(cmd.Context())
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), list, func() error {
				for _, e := range list {
					fmt.Fprintf(cmd.OutOrStdout(), "%s  %s  revoked=%d  next-update=%s\n", admin.Printable(e.ID), admin.Printable(e.URL), e.Revoked, e.NextUpdate.Format(time.RFC3339))
				}
				return nil
			})
		}},
		&cobra.Command{Use: "purge <crl-id|all>", Short: "Forget a cached CRL; it is downloaded again when next needed", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, a []string) error {
			cl, err := client()
			if err != nil {
				return err
			}
			n, err := cl.PurgeCRL(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), n, func() error { _, err := fmt.Fprintln(cmd.OutOrStdout(), admin.Printable(n.Message)); return err })
		}},
	)
	return c
}

// serversCmd shows ActiveSync server status and runs the EAS diagnosis.
func serversCmd(client func() (*admin.Client, error), emit func(io.Writer, any, func() error) error) *cobra.Command {
	c := &cobra.Command{Use: "servers", Short: "ActiveSync services and server status (ASC-13)", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		cl, err := client()
		if err != nil {
			return err
		}
		ss, err := cl.Servers(cmd.Context())
		if err != nil {
			return err
		}
		return emit(cmd.OutOrStdout(), ss, func() error { return admin.RenderServers(cmd.OutOrStdout(), ss) })
	}}
	c.AddCommand(&cobra.Command{Use: "verify", Short: "Service Diagnosis: verify the ActiveSync servers (SVD-01)", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		cl, err := client()
		if err != nil {
			return err
		}
		d, err := cl.VerifyEAS(cmd.Context())
		if err != nil {
			return err
		}
		return emit(cmd.OutOrStdout(), d, func() error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "Service: %s\nDate: %s\nStatus: %s\nMessage: %s\n",
				admin.Printable(d.Service), d.Date.Format(time.RFC3339), admin.Printable(d.Status), admin.Printable(d.Message))
			return err
		})
	}})
	return c
}
