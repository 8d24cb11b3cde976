package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/gateway/logctl"
)

// logCmd is `ctl log`: the Sentry log controls of `debug sentry log …`
// and `show sentry log [filter]` (LOG-03..07). Changes print
// `Successful`, as the seeds' CLI does, and hold until the gateway
// restarts (LOG-08).
func logCmd(client adminClient, emit emitter) *cobra.Command {
	// change runs f and prints Successful (or the settings with -o json).
	change := func(f func(context.Context, *admin.Client) (*logctl.Settings, error)) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, _ []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			st, err := f(cmd.Context(), c)
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), st, func() error {
				_, err := fmt.Fprintln(cmd.OutOrStdout(), "Successful")
				return err
			})
		}
	}
	root := &cobra.Command{Use: "log", Short: "Show or change the Sentry log at run time (LOG-03..08)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			st, err := c.Log(cmd.Context())
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), st, func() error {
				_, err := fmt.Fprintf(cmd.OutOrStdout(), "log-from-to = %s\nenable = %t\nverbosity = %s\n", st.Direction, st.Enabled, st.Level)
				return err
			})
		}}
	root.AddCommand(initLogCmds(client, emit)...)
	root.AddCommand(gcLogCmds(client, emit)...)
	var enable, verbosity, filter, noFilter, disable cobra.Command
	enable = cobra.Command{Use: "enable [device|server|both]", Short: "debug sentry log enable (default both)", Args: cobra.MaximumNArgs(1)}
	enable.RunE = func(cmd *cobra.Command, a []string) error {
		on, dir := true, ""
		if len(a) == 1 {
			dir = a[0]
		}
		return change(func(ctx context.Context, c *admin.Client) (*logctl.Settings, error) {
			return c.SetLog(ctx, admin.LogChange{Enable: &on, Direction: dir})
		})(cmd, a)
	}
	disable = cobra.Command{Use: "disable", Short: "no debug sentry log", Args: cobra.NoArgs,
		RunE: change(func(ctx context.Context, c *admin.Client) (*logctl.Settings, error) {
			off := false
			return c.SetLog(ctx, admin.LogChange{Enable: &off})
		})}
	verbosity = cobra.Command{Use: "verbosity {level_1_lowest|level_2|level_3|level_4_highest}", Short: "debug sentry log verbosity", Args: cobra.ExactArgs(1)}
	verbosity.RunE = func(cmd *cobra.Command, a []string) error {
		return change(func(ctx context.Context, c *admin.Client) (*logctl.Settings, error) {
			return c.SetLog(ctx, admin.LogChange{Verbosity: &a[0]})
		})(cmd, a)
	}
	filter = cobra.Command{Use: "filter [<tag> {device-id|device-ip|user-id|bundle-id|service-name|config-uuid} <value>]",
		Short: "debug sentry log filter; with no argument, show sentry log filter", Args: cobra.MatchAll(cobra.RangeArgs(0, 3), func(_ *cobra.Command, a []string) error {
			if len(a) != 0 && len(a) != 3 {
				return fmt.Errorf("filter takes a tag, a type and a value")
			}
			return nil
		})}
	filter.RunE = func(cmd *cobra.Command, a []string) error {
		if len(a) == 3 {
			return change(func(ctx context.Context, c *admin.Client) (*logctl.Settings, error) {
				return c.AddLogFilter(ctx, logctl.Filter{Tag: a[0], Type: a[1], Value: a[2]})
			})(cmd, a)
		}
		c, err := client()
		if err != nil {
			return err
		}
		st, err := c.Log(cmd.Context())
		if err != nil {
			return err
		}
		return emit(cmd.OutOrStdout(), st.Filters, func() error { return printLogFilters(cmd.OutOrStdout(), st.Filters) })
	}
	noFilter = cobra.Command{Use: "no-filter <tag>", Short: "no debug sentry log filter: delete every filter with the tag", Args: cobra.ExactArgs(1)}
	noFilter.RunE = func(cmd *cobra.Command, a []string) error {
		return change(func(ctx context.Context, c *admin.Client) (*logctl.Settings, error) {
			return c.DeleteLogFilters(ctx, a[0])
		})(cmd, a)
	}
	root.AddCommand(&enable, &disable, &verbosity, &filter, &noFilter, micsCmd(client, emit))
	return root
}

// micsCmd is `ctl log mics [on|off]`: the MICS logging switch beside the
// Sentry one (LOG-01), the gateway's calls to the UEM in
// data_dir/mics.log. With no argument it prints `mics = on|off`; a
// change prints `Successful` and holds until the gateway restarts.
func micsCmd(client adminClient, emit emitter) *cobra.Command {
	return &cobra.Command{Use: "mics [on|off]", Short: "MICS logging: the UEM link's calls and connectivity in data_dir/mics.log (LOG-01)",
		Args: cobra.MatchAll(cobra.MaximumNArgs(1), cobra.OnlyValidArgs), ValidArgs: []string{"on", "off"},
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			if len(a) == 0 {
				st, err := c.MICSLog(cmd.Context())
				if err != nil {
					return err
				}
				return emit(cmd.OutOrStdout(), st, func() error {
					_, err := fmt.Fprintf(cmd.OutOrStdout(), "mics = %s\n", map[bool]string{true: "on", false: "off"}[st.Enabled])
					return err
				})
			}
			st, err := c.SetMICSLog(cmd.Context(), a[0] == "on")
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), st, func() error {
				_, err := fmt.Fprintln(cmd.OutOrStdout(), "Successful")
				return err
			})
		}}
}

// printLogFilters is `show sentry log filter`: TAG ENABLED TYPE VALUE.
func printLogFilters(w io.Writer, fs []logctl.Filter) error {
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "TAG\tENABLED\tTYPE\tVALUE")
	for _, f := range fs {
		fmt.Fprintf(tw, "%s\t%t\t%s\t%s\n", f.Tag, f.Enabled, f.Type, f.Value)
	}
	return tw.Flush()
}

// initLogCmds are `ctl log init-log [level]` and `ctl log no-init-log`:
// `debug sentry init-log` and `no debug sentry init-log` (LOG-09). Both
// take effect at the next start and say so; with no level init-log is
// level_4_highest. `ctl log init-log --show` prints the setting.
func initLogCmds(client adminClient, emit emitter) []*cobra.Command {
	set := func(cmd *cobra.Command, on bool, level string) error {
		c, err := client()
		if err != nil {
			return err
		}
		var st *admin.InitLogConfig
		if show, _ := cmd.Flags().GetBool("show"); show {
			st, err = c.InitLog(cmd.Context())
		} else {
			st, err = c.SetInitLog(cmd.Context(), on, level)
		}
		if err != nil {
			return err
		}
		return emit(cmd.OutOrStdout(), st, func() error {
			state := "off"
			if st.Enabled {
				state = st.Verbosity
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "init-log = %s\n%s\n", state, st.Message)
			return err
		})
	}
	on := &cobra.Command{Use: "init-log [level_1_lowest|level_2|level_3|level_4_highest]", Short: "debug sentry init-log: log the next start to data_dir/init.log (LOG-09)",
		Args: cobra.MaximumNArgs(1), RunE: func(cmd *cobra.Command, a []string) error {
			level := ""
			if len(a) == 1 {
				level = a[0]
			}
			return set(cmd, true, level)
		}}
	on.Flags().Bool("show", false, "print the setting instead of changing it")
	off := &cobra.Command{Use: "no-init-log", Short: "no debug sentry init-log: the next start writes no init.log (LOG-09)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return set(cmd, false, "") }}
	return []*cobra.Command{on, off}
}

// gcLogCmds are `ctl log gc-log [file-count] [file-size]` and `ctl log
// no-gc-log`: `sentry gc-log` and `no sentry gc-log` (LOG-10), from the
// next start; `ctl log gc-log --show` is `show sentry gc-log`.
func gcLogCmds(client adminClient, emit emitter) []*cobra.Command {
	set := func(cmd *cobra.Command, on bool, a []string) error {
		c, err := client()
		if err != nil {
			return err
		}
		var st *admin.GCLogConfig
		if show, _ := cmd.Flags().GetBool("show"); show {
			st, err = c.GCLog(cmd.Context())
		} else {
			files, size := 0, ""
			if len(a) > 0 {
				if files, err = strconv.Atoi(a[0]); err != nil {
					return fmt.Errorf("file-count %q: want a number from 1 to 100", a[0])
				}
			}
			if len(a) > 1 {
				size = a[1]
			}
			st, err = c.SetGCLog(cmd.Context(), on, files, size)
		}
		if err != nil {
			return err
		}
		return emit(cmd.OutOrStdout(), st, func() error {
			state := "off"
			if st.Enabled {
				state = fmt.Sprintf("%d files of %s", st.FileCount, st.FileSize)
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "gc-log = %s\n%s\n", state, st.Message)
			return err
		})
	}
	on := &cobra.Command{Use: "gc-log [file-count] [file-size]", Short: "sentry gc-log: log each garbage collection to data_dir/gc.log from the next start (LOG-10; default 5 files of 20M)",
		Args: cobra.MaximumNArgs(2), RunE: func(cmd *cobra.Command, a []string) error { return set(cmd, true, a) }}
	on.Flags().Bool("show", false, "print the setting (show sentry gc-log) instead of changing it")
	off := &cobra.Command{Use: "no-gc-log", Short: "no sentry gc-log: no GC log from the next start (LOG-10)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return set(cmd, false, nil) }}
	return []*cobra.Command{on, off}
}
