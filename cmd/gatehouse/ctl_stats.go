package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-lab/gatehouse/gateway/admin"
)

// statsExtraCmds are `ctl statistics download|collection|reset` (STA-08,
// STA-11), added under `ctl statistics` (alias `stats`).
func statsExtraCmds(client adminClient, emit emitter) []*cobra.Command {
	var out string
	dl := &cobra.Command{Use: "download -o <file.zip>", Short: "Download global-stats.csv and all-device-stats.csv as a ZIP (STA-11)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" || out == "table" || out == "json" {
				return fmt.Errorf("download needs -o <file.zip>")
			}
			c, err := client()
			if err != nil {
				return err
			}
			f, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
			if err != nil {
				return fmt.Errorf("statistics download: %w", err)
			}
			if err := c.StatsDownload(cmd.Context(), f); err != nil {
				f.Close()
				os.Remove(out)
				return err
			}
			if err := f.Close(); err != nil {
				return fmt.Errorf("statistics download: %w", err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", out)
			return err
		}}
	// The local -o shadows ctl's persistent --output (table|json), which
	// a download has no use for.
	dl.Flags().StringVarP(&out, "output", "o", "", "ZIP file to write")

	var interval string
	coll := &cobra.Command{Use: "collection [start|stop] [--interval 5m]", Short: "Show, start or stop statistics collection, or change its interval (STA-08)", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			var on *bool
			if len(a) == 1 {
				if a[0] != "start" && a[0] != "stop" {
					return fmt.Errorf("collection takes start or stop")
				}
				v := a[0] == "start"
				on = &v
			}
			var iv *string
			if cmd.Flags().Changed("interval") {
				iv = &interval
			}
			var st *admin.StatsCollection
			if on == nil && iv == nil {
				st, err = c.StatsCollection(cmd.Context())
			} else {
				st, err = c.SetStatsCollection(cmd.Context(), on, iv)
			}
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), st, func() error {
				_, err := fmt.Fprintf(cmd.OutOrStdout(), "enabled = %t\ninterval = %s\n", st.Enabled, st.Interval)
				return err
			})
		}}
	coll.Flags().StringVar(&interval, "interval", "", "interval of global-stats.csv rows, e.g. 5m")

	reset := &cobra.Command{Use: "reset", Short: "Apply & Reset Statistics: zero counters and peaks, clear the files (STA-08)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			n, err := c.StatsReset(cmd.Context())
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), n, func() error {
				_, err := fmt.Fprintln(cmd.OutOrStdout(), n.Message)
				return err
			})
		}}
	return []*cobra.Command{dl, coll, reset}
}

// utilizationCmd is `show sentry utilization` (STA-12).
func utilizationCmd(client adminClient, emit emitter) *cobra.Command {
	return &cobra.Command{Use: "utilization", Short: "Connected devices, open connections, thread pool, CPU and memory use (STA-12)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			u, err := c.Utilization(cmd.Context())
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), u, func() error {
				_, err := fmt.Fprintln(cmd.OutOrStdout(), strings.Join(u.Lines(), "\n"))
				return err
			})
		}}
}

// diagnoseCmd is Service Diagnosis: `ctl diagnose` is Verify All, `ctl
// diagnose emm|eas|dns|ntp` verifies one service (SVD-01..04).
func diagnoseCmd(client adminClient, emit emitter) *cobra.Command {
	return &cobra.Command{Use: "diagnose [emm|eas|dns|ntp]", Short: "Service Diagnosis: verify UEM, ActiveSync, DNS and NTP (SVD-01)", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			svc := ""
			if len(a) == 1 {
				svc = a[0]
			}
			rows, err := c.Diagnose(cmd.Context(), svc)
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), rows, func() error {
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "Service\tDate\tStatus\tMessage\tTest")
				for _, r := range rows {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Service, r.Date.UTC().Format(time.RFC3339), r.Status, r.Message, r.Test)
				}
				return tw.Flush()
			})
		}}
}
