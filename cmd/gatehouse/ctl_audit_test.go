package main

import (
	"io"
	"net/http/httptest"
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
	ctl := ctlRunner(t, srv.URL)
	run := func(args ...string) string {
		t.Helper()
		out, err := ctl(append([]string{"audit"}, args...)...)
		if err != nil {
			t.Fatalf("ctl audit %v: %v (%s)", args, err, out)
		}
		return out
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
