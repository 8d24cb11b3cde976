package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/gateway/audit"
)

// syslogCmd is `ctl syslog [add … | remove …]`, the seeds' `syslog
// <server> [port] <protocol> <facility> <log-level> [state]` and `no
// syslog <server>` at run time (AUD-12); with no argument it lists the
// targets with what each sent and dropped. Changes are kept across
// restarts and are part of `ctl config export`.
func syslogCmd(client adminClient, emit emitter) *cobra.Command {
	show := func(cmd *cobra.Command, st *admin.SyslogTargets) error {
		return emit(cmd.OutOrStdout(), st, func() error {
			w := cmd.OutOrStdout()
			if _, err := fmt.Fprintln(w, "Server\tPort\tProtocol\tFacility\tLevel\tState\tSent\tDropped"); err != nil {
				return err
			}
			for _, t := range st.Targets {
				state := "enabled"
				if t.Disabled {
					state = "disabled"
				}
				if _, err := fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t%d\t%d\n", t.Server, t.Port, t.Protocol, t.Facility, t.Level, state, t.Sent, t.Dropped); err != nil {
					return err
				}
			}
			return nil
		})
	}
	// change applies edit to the current targets and shows the result.
	change := func(cmd *cobra.Command, edit func([]audit.SyslogTarget) ([]audit.SyslogTarget, error)) error {
		c, err := client()
		if err != nil {
			return err
		}
		cur, err := c.Syslog(cmd.Context())
		if err != nil {
			return fmt.Errorf("syslog: %w", err)
		}
		var ts []audit.SyslogTarget
		for _, t := range cur.Targets {
			ts = append(ts, t.SyslogTarget)
		}
		if ts, err = edit(ts); err != nil {
			return err
		}
		st, err := c.SetSyslog(cmd.Context(), ts)
		if err != nil {
			return fmt.Errorf("syslog: %w", err)
		}
		return show(cmd, st)
	}
	root := &cobra.Command{Use: "syslog", Short: "List the syslog targets of the audit log (AUD-12)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			st, err := c.Syslog(cmd.Context())
			if err != nil {
				return fmt.Errorf("syslog: %w", err)
			}
			return show(cmd, st)
		}}
	root.AddCommand(&cobra.Command{Use: "add <server> [port] <UDP|TCP> <general|health-monitor|audit> <level> [enabled|disabled]",
		Short: "Add or replace a syslog target at run time (AUD-12)", Args: cobra.RangeArgs(4, 6),
		RunE: func(cmd *cobra.Command, a []string) error {
			t, err := parseSyslogTarget(a)
			if err != nil {
				return err
			}
			return change(cmd, func(ts []audit.SyslogTarget) ([]audit.SyslogTarget, error) {
				ts = removeSyslog(ts, t.Server, t.Port)
				return append(ts, t), nil
			})
		}})
	root.AddCommand(&cobra.Command{Use: "remove <server> [port]", Short: "Remove a syslog target (`no syslog`)", Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, a []string) error {
			port := 0
			if len(a) == 2 {
				p, err := strconv.Atoi(a[1])
				if err != nil {
					return fmt.Errorf("syslog remove: port %q is not a number", a[1])
				}
				port = p
			}
			return change(cmd, func(ts []audit.SyslogTarget) ([]audit.SyslogTarget, error) {
				out := removeSyslog(ts, a[0], port)
				if len(out) == len(ts) {
					return nil, fmt.Errorf("syslog remove: no target %s", a[0])
				}
				return out, nil
			})
		}})
	return root
}

// parseSyslogTarget reads `<server> [port] <protocol> <facility> <level> [state]`.
func parseSyslogTarget(a []string) (audit.SyslogTarget, error) {
	t := audit.SyslogTarget{Server: a[0]}
	rest := a[1:]
	if p, err := strconv.Atoi(rest[0]); err == nil {
		t.Port, rest = p, rest[1:]
	}
	if len(rest) < 3 || len(rest) > 4 {
		return t, fmt.Errorf("syslog add: want <server> [port] <protocol> <facility> <level> [enabled|disabled]")
	}
	t.Protocol, t.Facility, t.Level = strings.ToUpper(rest[0]), rest[1], rest[2]
	if len(rest) == 4 {
		switch rest[3] {
		case "enabled":
		case "disabled":
			t.Disabled = true
		default:
			return t, fmt.Errorf("syslog add: state %q is not enabled or disabled", rest[3])
		}
	}
	return t, nil
}

// removeSyslog drops the targets on server (and port, when not 0).
func removeSyslog(ts []audit.SyslogTarget, server string, port int) []audit.SyslogTarget {
	var out []audit.SyslogTarget
	for _, t := range ts {
		if t.Server == server && (port == 0 || t.Port == port || (t.Port == 0 && port == 514)) {
			continue
		}
		out = append(out, t)
	}
	return out
}
