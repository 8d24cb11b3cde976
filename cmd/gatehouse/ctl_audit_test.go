package main

import (
	"bytes"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/gateway/audit"
)

// AUD-11: `ctl audit on|off` switches a gateway's audit log through the
// admin API and `ctl audit` shows it.
func TestAUD11CtlAuditSwitchesTheLog(t *testing.T) {
	l := audit.New(io.Discard, "gw", nil)
	l.SetEnabled(false)
	srv := httptest.NewTLSServer(admin.Handler(admin.Deps{Audit: l, Token: "tok"}))
	defer srv.Close()
	tokFile := filepath.Join(t.TempDir(), "tok")
	if err := os.WriteFile(tokFile, []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		var out bytes.Buffer
		cmd := newCtlCmd()
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs(append([]string{"--admin", srv.URL, "--admin-token-file", tokFile, "--insecure", "audit"}, args...))
		if err := cmd.Execute(); err != nil {
			t.Fatalf("ctl audit %v: %v (%s)", args, err, out.String())
		}
		return strings.TrimSpace(out.String())
	}
	if got := run(); got != "audit = false" {
		t.Fatalf("ctl audit: %q", got)
	}
	if got := run("on"); got != "audit = true" || !l.Enabled() {
		t.Fatalf("ctl audit on: %q, enabled %v", got, l.Enabled())
	}
	if got := run("off"); got != "audit = false" || l.Enabled() {
		t.Fatalf("ctl audit off: %q, enabled %v", got, l.Enabled())
	}
}
