package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// newWBXMLCmd converts between ActiveSync WBXML and its XML form, for
// reading captures and writing test messages by hand.
func newWBXMLCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "wbxml",
		Short: "Convert ActiveSync WBXML to XML and back",
	}
	var outPath string
	cmd.PersistentFlags().StringVarP(&outPath, "out", "o", "-", "output file, - for stdout")
	cmd.AddCommand(&cobra.Command{
		Use:   "decode [file]",
		Short: "Decode WBXML (file or stdin) and print XML",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readInput(args)
			if err != nil {
				return err
			}
			doc, err := wbxml.Parse(data, wbxml.DefaultLimits)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := wbxml.WriteXML(&buf, doc.Root); err != nil {
				return err
			}
			return writeOutput(cmd, outPath, buf.Bytes())
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "encode [file]",
		Short: "Encode XML (file or stdin) and write WBXML (-o file, default stdout)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readInput(args)
			if err != nil {
				return err
			}
			root, err := wbxml.ParseXML(bytes.NewReader(data))
			if err != nil {
				return err
			}
			out, err := wbxml.Marshal(root)
			if err != nil {
				return err
			}
			return writeOutput(cmd, outPath, out)
		},
	})
	return cmd
}

// writeOutput writes data to path, or to standard output for "-".
func writeOutput(cmd *cobra.Command, path string, data []byte) error {
	if path == "-" || path == "" {
		_, err := cmd.OutOrStdout().Write(data)
		return err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil { //nolint:gosec // a converted document, not a secret
		return fmt.Errorf("wbxml: %w", err)
	}
	return nil
}

// maxInput bounds what the converters read, like every input in gatehouse.
const maxInput = 64 << 20

func readInput(args []string) ([]byte, error) {
	var r io.Reader = os.Stdin
	if len(args) == 1 && args[0] != "-" {
		f, err := os.Open(args[0])
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxInput {
		return nil, fmt.Errorf("input larger than %d bytes", maxInput)
	}
	return data, nil
}
