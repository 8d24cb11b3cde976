package uem

import (
	"strings"
	"testing"
)

// Issue 18: the fake UEM (which decides who may sync and holds gateway
// tokens) listens beyond loopback only when told to, as the fake
// Exchange, KDC and DNS do.
func TestConfigListensOnLoopbackUnlessAllowed(t *testing.T) {
	for _, c := range []struct {
		name                string
		gateway, admin, crl string
		allow               bool
		wantErr             string
	}{
		{"loopback", "127.0.0.1:0", "127.0.0.1:0", "", false, ""},
		{"localhost and ::1", "localhost:0", "[::1]:0", "127.0.0.1:0", false, ""},
		{"every interface", "0.0.0.0:0", "127.0.0.1:0", "", false, "GatewayAddr"},
		{"empty host", ":0", "127.0.0.1:0", "", false, "GatewayAddr"},
		{"public admin", "127.0.0.1:0", "0.0.0.0:0", "", false, "AdminAddr"},
		{"public CRL", "127.0.0.1:0", "127.0.0.1:0", "0.0.0.0:0", false, "CRLAddr"},
		{"named host", "uem.corp.example:0", "127.0.0.1:0", "", false, "GatewayAddr"},
		{"allowed", "0.0.0.0:0", "0.0.0.0:0", "0.0.0.0:0", true, ""},
	} {
		cfg := Config{GatewayAddr: c.gateway, AdminAddr: c.admin, CRLAddr: c.crl, AllowNonLoopback: c.allow}
		cfg.setDefaults()
		err := cfg.validate()
		if c.wantErr == "" && err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), "AllowNonLoopback")) {
			t.Errorf("%s: %v, want an error naming %s and AllowNonLoopback", c.name, err, c.wantErr)
		}
	}
}
