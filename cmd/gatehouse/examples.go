package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// examples are the Example sections of gatehouse's subcommands, run from
// the module root with go run (the README installs nothing). The ports
// are the documented defaults: gateway 8443 (notify 9090, admin 9091),
// UEM 8600 (admin 8601), Exchange 8700 (admin 8701), lab dashboard 8800.
var examples = map[string][]string{
	"attachments": {
		"go run ./cmd/gatehouse attachments encrypt --key key.hex --in report.pdf -o report.pdf.attachctrl",
		"go run ./cmd/gatehouse attachments decrypt --key uem-key.json --in report.pdf.attachctrl -o report.pdf",
	},
	"chaos": {
		"go run ./cmd/gatehouse chaos run --help",
		"go run ./cmd/gatehouse chaos replay --help",
	},
	"conformance": {
		"go run ./cmd/gatehouse conformance                 # against the bundled gateway",
		"go run ./cmd/gatehouse conformance --help          # another build: --gateway-url and friends",
	},
	"ctl": {
		"go run ./cmd/gatehouse ctl --ca DATA_DIR/tls/cert.pem --admin-token-file TOKEN_FILE status",
		"go run ./cmd/gatehouse ctl --ca DATA_DIR/tls/cert.pem --admin-token-file TOKEN_FILE device-cache dump all",
		"go run ./cmd/gatehouse ctl --ca DATA_DIR/tls/cert.pem --admin-token-file TOKEN_FILE syslog add 127.0.0.1 514 TCP audit info",
		"go run ./cmd/gatehouse ctl --ca DATA_DIR/tls/cert.pem --admin-token-file TOKEN_FILE alerts notify --send --email ops@corp.example --smtp-server 127.0.0.1:2525 --smtp-from gw@corp.example --per-hour 20 --override AS_SYNC=batch",
		"(gatehouse lab prints both paths, and the whole command)",
	},
	"dns":      {"go run ./cmd/gatehouse dns --help"},
	"exchange": {"go run ./cmd/gatehouse exchange                      # alice, bob, carol @corp.example on 127.0.0.1:8700", "go run ./cmd/gatehouse exchange --user dora=secret --domain example.org"},
	"gateway": {
		"GATEHOUSE_UEM_TOKEN=... GATEHOUSE_UEM_NOTIFY_SECRET=... \\\n  go run ./cmd/gatehouse gateway --uem-url https://127.0.0.1:8600 --uem-insecure --data-dir ./gw-data",
		"go run ./cmd/gatehouse gateway --config gateway.yaml",
	},
	"idp": {"go run ./cmd/gatehouse idp                        # alice, bob, carol, dave @corp.example on 127.0.0.1:9443", "go run ./cmd/gatehouse idp --allow-source 127.0.0.1  # conditional access: only the gateway's address"},
	"integrated": {
		"GATEHOUSE_UEM_TOKEN=... go run ./cmd/gatehouse integrated --uem-url https://127.0.0.1:8600 --uem-insecure --admin-token-file ctl.token",
		"go run ./cmd/gatehouse lab --integrated      # the connector beside the gateway, in the lab",
	},
	"kdc":     {"go run ./cmd/gatehouse kdc --help"},
	"lab":     {"go run ./cmd/gatehouse lab                # prints the dashboard URL first, then every endpoint", "go run ./cmd/gatehouse lab --demo --json    # narrated demo; endpoints as JSON", "go run ./cmd/gatehouse lab --gateway-subprocess   # kill -9 from the dashboard works"},
	"loadgen": {"go run ./cmd/gatehouse loadgen run --lab --preset capacity -o results.json", "go run ./cmd/gatehouse loadgen preset soak"},
	"mutants": {"go run ./cmd/gatehouse mutants list"},
	"report":  {"go run ./cmd/gatehouse report demo -o demo-report", "go run ./cmd/gatehouse report results.json conformance.json -o report"},
	"uem":     {"go run ./cmd/gatehouse uem --generate 1000", "go run ./cmd/gatehouse uem --seed seed.yaml --admin-token-file uem-admin.token"},
	"wbxml":   {"go run ./cmd/gatehouse wbxml decode capture.wbxml", "go run ./cmd/gatehouse wbxml encode request.xml -o request.wbxml"},
}

// addExamples fills the Example of root's subcommands from examples.
func addExamples(root *cobra.Command) {
	for _, c := range root.Commands() {
		if ex, ok := examples[c.Name()]; ok && c.Example == "" {
			c.Example = "  " + strings.Join(ex, "\n  ")
		}
	}
}
