package audit_test

import (
	"io"
	"net/netip"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway/audit"
)

// BenchmarkRequestPair is one audited request: its REQUEST and RESPONSE
// entries (the audit's cost per request, issue 22).
func BenchmarkRequestPair(b *testing.B) {
	l := audit.New(io.Discard, "gw", nil)
	client := netip.MustParseAddrPort("10.11.80.93:61693")
	sentry := netip.MustParseAddrPort("10.10.57.239:446")
	b.ReportAllocs()
	for b.Loop() {
		l.Begin(audit.Request{User: "alice", DeviceID: "ALICEPHONE", DeviceType: "iPhone", ServiceType: audit.ServiceActiveSync,
			ServiceName: "ActiveSync", Client: client, ServerHost: "mail.example.com", ServerPort: 443,
			URL: "/Microsoft-Server-ActiveSync", Method: "POST", Action: audit.ActionAllow}).
			End(audit.Response{Server: "mail.example.com", ServerPort: 443, Sentry: sentry, SentryAddress: "10.25.35.237", HTTPStatus: 200})
	}
}
