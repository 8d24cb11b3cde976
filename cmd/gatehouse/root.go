package main

import (
	"log/slog"
	"os"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func newRootCmd() *cobra.Command {
	var logLevel string
	root := &cobra.Command{
		Use:           "gatehouse",
		Short:         "Reference ActiveSync gateway with fakes, lab, load generator and conformance suite",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
				return err
			}
			slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})))
			return nil
		},
	}
	root.PersistentFlags().StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.AddCommand(newWBXMLCmd(), newGatewayCmd(), newCtlCmd(), newUEMCmd(), newExchangeCmd(), newAttachmentsCmd(), newKDCCmd(), newDNSCmd(), newLabCmd(), newConformanceCmd(), newLoadgenCmd(), newReportCmd(), newMutantsCmd(), newChaosCmd())
	root.AddCommand(newIdPCmd())
	root.AddCommand(newIntegratedCmd()) // integrated.go
	addExamples(root)
	return root
}
