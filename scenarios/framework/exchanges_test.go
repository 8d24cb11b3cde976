package framework

import (
	"strings"
	"testing"
)

func TestRedactRemovesCredentials(t *testing.T) {
	for in, secret := range map[string]string{
		`Post "https://alice:alice-pw@127.0.0.1:8443/x": EOF`: "alice-pw",
		"Authorization: Basic YWxpY2U6YWxpY2UtcHc= rejected":  "YWxpY2U6YWxpY2UtcHc=",
		"authorization=Bearer tok-123 rejected":               "tok-123",
		"login failed: password=hunter2&user=bob":             "hunter2",
		`{"user":"bob","password":"hunter2"}`:                 "hunter2",
		"Cmd=Sync&User=bob&DeviceId=GH1&Pwd=hunter2 failed":   "hunter2",
	} {
		out := Redact(in)
		if strings.Contains(out, secret) {
			t.Errorf("Redact(%q) = %q still holds %q", in, out, secret)
		}
		if !strings.Contains(out, "[redacted]") {
			t.Errorf("Redact(%q) = %q: no [redacted] marker", in, out)
		}
	}
	plain := `Post "https://127.0.0.1:8443/Microsoft-Server-ActiveSync?Cmd=Sync&User=bob": connection reset`
	if got := Redact(plain); got != plain {
		t.Errorf("Redact changed a message without credentials: %q", got)
	}
}
