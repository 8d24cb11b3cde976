package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-lab/gatehouse/gateway/admin"
)

// auditCmd is `ctl audit [on|off|flush]`: `sentry audit` / `no sentry
// audit` and, with no argument, `show sentry audit config` (AUD-11). The
// switch is kept across restarts (data_dir/local-config.xml). `flush`
// writes the buffered entries to audit.log now.
func auditCmd(client adminClient, emit emitter) *cobra.Command {
	return &cobra.Command{Use: "audit [on|off|flush]", Short: "Show, switch or flush the audit log at run time (AUD-11)", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			var st *admin.AuditConfig
			switch {
			case len(a) == 0:
				st, err = c.Audit(cmd.Context())
			case a[0] == "on" || a[0] == "off":
				st, err = c.SetAudit(cmd.Context(), a[0] == "on")
			case a[0] == "flush":
				st, err = c.FlushAudit(cmd.Context())
			default:
				return fmt.Errorf("audit takes on, off or flush")
			}
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), st, func() error {
				_, err := fmt.Fprintf(cmd.OutOrStdout(), "audit = %t\n", st.Enabled)
				if err == nil && st.Dropped > 0 {
					_, err = fmt.Fprintf(cmd.OutOrStdout(), "dropped = %d\n", st.Dropped)
				}
				return err
			})
		}}
}
