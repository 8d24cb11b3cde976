package gateway_test

import (
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway"
)

// Issue 18: without a notification secret anyone reaching notify_listen
// could send notifications (an HMAC with an empty key proves nothing):
// the gateway refuses to start, naming the field.
func TestConfigNeedsANotificationSecret(t *testing.T) {
	for _, c := range []struct {
		secret string
		ok     bool
	}{
		{"", false},
		{"short", false},
		{"fifteen-bytes!!", false},
		{"sixteen-bytes!!!", true},
		{"gw1-notify-secret", true},
	} {
		cfg := gateway.Defaults()
		cfg.UEM = gateway.UEMConfig{URL: "https://127.0.0.1:8443", Token: "gateway-token-0123456789", NotifySecret: c.secret}
		err := cfg.Validate()
		if c.ok != (err == nil) {
			t.Errorf("secret %q: %v", c.secret, err)
		}
		if err != nil && !strings.Contains(err.Error(), "uem.notify_secret") {
			t.Errorf("secret %q: error %q does not name uem.notify_secret", c.secret, err)
		}
	}
}
