package lab

import (
	"fmt"
	"os"
	"path/filepath"
)

// adminTokenFile is where the lab writes the gateway's admin token, so
// that the ctl command it prints passes it with --admin-token-file
// rather than in argv.
func (l *Lab) adminTokenFile() string { return filepath.Join(l.dir, "gateway-admin.token") }

// gatewayCAFile is the gateway's self-signed certificate, which ctl
// trusts with --ca (the gateway keeps it in its data directory).
func (l *Lab) gatewayCAFile() string { return filepath.Join(l.DataDir(), "tls", "cert.pem") }

// writeAdminTokenFile writes the gateway's admin token for ctl (0600).
func (l *Lab) writeAdminTokenFile() error {
	if l.gw == nil {
		return nil
	}
	if err := os.WriteFile(l.adminTokenFile(), []byte(l.cfg.GatewayAdminToken+"\n"), 0o600); err != nil {
		return fmt.Errorf("lab: admin token file: %w", err)
	}
	return nil
}

// CtlCommand is a `gatehouse ctl` command line that works as pasted from
// the module's root with only Go installed (go run, the lab's CA, the
// token file); empty in External mode.
func (l *Lab) CtlCommand(args string) string {
	if l.gw == nil {
		return ""
	}
	return fmt.Sprintf("go run ./cmd/gatehouse ctl --admin %s --ca %s --admin-token-file %s %s",
		l.gw.adminURL(), l.gatewayCAFile(), l.adminTokenFile(), args)
}

// DefaultDomain is the demo users' mail domain in every lab and in
// `gatehouse exchange`.
const DefaultDomain = "corp.example"
