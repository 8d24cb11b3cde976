package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-lab/gatehouse/gateway/admin"
)

// auditCmd is `ctl audit [on|off]`: `sentry audit` / `no sentry audit`
// and, with no argument, `show sentry audit config` (AUD-11). The switch
// holds until the gateway restarts (the bootstrap `audit` is the state at
// start).
func auditCmd(client adminClient, emit emitter) *cobra.Command {
	return &cobra.Command{Use: "audit [on|off]", Short: "Show or switch the audit log at run time (AUD-11)", Args: cobra.MaximumNArgs(1),
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
			default:
				return fmt.Errorf("audit takes on or off")
			}
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), st, func() error {
				_, err := fmt.Fprintf(cmd.OutOrStdout(), "audit = %t\n", st.Enabled)
				return err
			})
		}}
}
