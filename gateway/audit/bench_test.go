package audit_test

import (
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/audit"
)

// BenchmarkRequestPair is one audited request: its REQUEST and RESPONSE
// entries (the audit's cost per request, issue 22), written to io.Discard
// and to a real file (where the write system calls show).
func BenchmarkRequestPair(b *testing.B) {
	b.Run("discard", func(b *testing.B) { benchPair(b, io.Discard) })
	b.Run("file", func(b *testing.B) {
		f, err := os.Create(filepath.Join(b.TempDir(), "audit.log"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		benchPair(b, f)
	})
}

func benchPair(b *testing.B, w io.Writer) {
	l := audit.New(w, "gw", nil)
	defer l.Close() //nolint:errcheck // the benchmark reads nothing back
	client := netip.MustParseAddrPort("10.11.80.93:61693")
	sentry := netip.MustParseAddrPort("10.10.57.239:446")
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		l.Begin(audit.Request{User: "alice", DeviceID: "ALICEPHONE", DeviceType: "iPhone", ServiceType: audit.ServiceActiveSync,
			ServiceName: "ActiveSync", Client: client, ServerHost: "mail.example.com", ServerPort: 443,
			URL: "/Microsoft-Server-ActiveSync", Method: "POST", Action: audit.ActionAllow}).
			End(audit.Response{Server: "mail.example.com", ServerPort: 443, Sentry: sentry, SentryAddress: "10.25.35.237", HTTPStatus: 200})
	}
	_ = l.Flush()
	// The process's CPU time per pair, the writer goroutine's included:
	// unlike ns/op it does not count time spent waiting for a loaded
	// machine's cores.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
