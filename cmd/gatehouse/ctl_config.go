package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// configCmd is Export / Import Configuration of the appliance-local
// settings as one XML file (CFG-01, CFG-02, CFG-04). The UEM-delivered
// service configuration is not in the file.
func configCmd(client adminClient) *cobra.Command {
	c := &cobra.Command{Use: "config", Short: "Export or import the gateway's local configuration (CFG items)"}
	var out string
	export := &cobra.Command{Use: "export [-o file.xml]", Short: "Write the local configuration as XML (stdout without -o)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := client()
			if err != nil {
				return err
			}
			data, err := cl.ExportConfig(cmd.Context())
			if err != nil {
				return err
			}
			if out == "" {
				_, err = cmd.OutOrStdout().Write(data)
				return err
			}
			if err := os.WriteFile(out, data, 0o600); err != nil {
				return fmt.Errorf("config export: %w", err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", out)
			return err
		}}
	// The local -o shadows ctl's persistent --output (table|json).
	export.Flags().StringVarP(&out, "output", "o", "", "file to write")
	imp := &cobra.Command{Use: "import <file.xml>", Short: "Load an exported file; nothing changes if any field is wrong", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, a []string) error {
			data, err := os.ReadFile(a[0])
			if err != nil {
				return fmt.Errorf("config import: %w", err)
			}
			cl, err := client()
			if err != nil {
				return err
			}
			now, err := cl.ImportConfig(cmd.Context(), data)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(now)
			return err
		}}
	c.AddCommand(export, imp, clearConfigCmd(client))
	return c
}

// clearConfigCmd is Clear Configuration (CFG-03): the run-time local
// settings go back to their defaults and the gateway restarts (in its
// process, `gatehouse gateway`; docs/gateway.md).
func clearConfigCmd(client adminClient) *cobra.Command {
	return &cobra.Command{Use: "clear", Short: "Clear Configuration: the local settings back to their defaults, then the gateway restarts (CFG-03)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := client()
			if err != nil {
				return err
			}
			if _, err := cl.ClearConfig(cmd.Context()); err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), "Configuration cleared: the gateway restarts")
			return err
		}}
}
