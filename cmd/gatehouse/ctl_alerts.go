package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// alertsCmd is `ctl alerts [--filter REGEX]`, the Alert Viewer (ALR-04..06):
// Date, AlertID, Device, User, Service, Description, newest first. The
// filter is a case-insensitive regular expression; each run reloads.
func alertsCmd(client adminClient, emit emitter) *cobra.Command {
	var filter string
	cmd := &cobra.Command{Use: "alerts", Short: "Show the gateway's alerts, newest first (ALR-04..06)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			list, err := c.Alerts(cmd.Context(), filter)
			if err != nil {
				return fmt.Errorf("alerts: %w", err)
			}
			return emit(cmd.OutOrStdout(), list, func() error {
				if _, err := fmt.Fprintln(cmd.OutOrStdout(), "Date\tAlertID\tDevice\tUser\tService\tDescription"); err != nil {
					return err
				}
				for _, a := range list {
					if _, err := fmt.Fprintln(cmd.OutOrStdout(), a.Line()); err != nil {
						return err
					}
				}
				return nil
			})
		}}
	cmd.Flags().StringVar(&filter, "filter", "", "case-insensitive regular expression over each alert's line")
	cmd.AddCommand(notifyCmd(client, emit)) // ctl_alerts_notify.go
	return cmd
}
