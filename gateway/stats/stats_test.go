package stats

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestCounterNamesAreTheSeeds(t *testing.T) {
	// STA-01..04 and ATT-24, spelled as the seeds spell them.
	want := map[Counter]string{
		DConnection: "d-connection", SConnections: "s-connections", DHTTP449: "d-http-449",
		SHTTP451Redirects: "s-http-451-redirects", DHTTP451RedirectDrops: "d-http-451-redirect-drops",
		CmdFolderSync: "cmd-folder-sync", SErrCmdPingTimeout: "s-err-cmd-ping-timeout",
		DHTTP503S2C: "d-http-503-s2c", ActiveSyncStatusReports: "active-sync-status-reports",
		AttachmentsSizeMB: "attachments-size-MB", DecryptionFailures: "decryption-failures",
		IdentityMismatch: "identity-mismatch", DConnRateLimited: "d-conn-rate-limited",
		TunnelsOpened: "tunnels-opened", TunnelsRefused: "tunnels-refused", TunnelBytesUp: "tunnel-bytes-up", TunnelBytesDown: "tunnel-bytes-down",
	}
	for c, n := range want {
		if c.String() != n {
			t.Errorf("%d = %q, want %q", c, c, n)
		}
	}
	seen := map[string]bool{}
	for _, c := range Counters() {
		if seen[c.String()] || c.String() == "" {
			t.Errorf("duplicate or empty name %q", c)
		}
		seen[c.String()] = true
	}
	if len(seen) != 79 {
		t.Errorf("%d counters, want 79 (55 STA + 12 ATT-24 + 2 of issue 18 + 6 admission + 4 AppTunnel)", len(seen))
	}
}

func TestCommandAndStatusCounters(t *testing.T) {
	for cmd, want := range map[string]Counter{"": CmdNone, "OPTIONS": CmdOptions, "Ping": CmdPing, "ItemOperations": CmdItemOperations, "Search": CmdUnknown} {
		if got := CommandCounter(cmd); got != want {
			t.Errorf("CommandCounter(%q) = %s, want %s", cmd, got, want)
		}
	}
	for code, want := range map[int]Counter{200: HTTPStatus200, 401: HTTPStatus401, 409: HTTPStatus409, 503: HTTPStatus5xx, 449: HTTPStatusOther} {
		if got := StatusCounter(code); got != want {
			t.Errorf("StatusCounter(%d) = %s, want %s", code, got, want)
		}
	}
}

func TestDeviceCountersSumIntoGlobal(t *testing.T) {
	// STA-05: counters are per (device, user); global sums them (STA-06).
	r := NewRegistry()
	a, b := r.Device("D1", "alice"), r.Device("D1", "bob")
	if a == b {
		t.Fatal("two users of one device share counters")
	}
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				r.Device("D1", "alice").Inc(DHTTPRequests)
				b.Add(SBytesRcvd, 10)
			}
		}()
	}
	wg.Wait()
	if a.Get(DHTTPRequests) != 1600 || r.GlobalValue(DHTTPRequests) != 1600 || r.GlobalValue(SBytesRcvd) != 16000 {
		t.Fatalf("device %d, global %d / %d", a.Get(DHTTPRequests), r.GlobalValue(DHTTPRequests), r.GlobalValue(SBytesRcvd))
	}
	if _, ok := r.Lookup("D2", "carol"); ok {
		t.Fatal("a device without traffic has counters")
	}
	r.Forget("D1", "alice")
	if _, ok := r.Lookup("D1", "alice"); ok || r.GlobalValue(DHTTPRequests) != 1600 {
		t.Fatal("Forget lost the global sum or kept the device")
	}
	r.Reset()
	if r.GlobalValue(SBytesRcvd) != 0 {
		t.Fatal("Reset kept global values")
	}
}

func TestFilterMatchesNamesOrValues(t *testing.T) {
	r := NewRegistry()
	r.Device("D", "u").Add(HTTPStatus401, 16)
	got := Filter(r.Global(), "http-status")
	if len(got) != 6 {
		t.Fatalf("filter http-status kept %d, want 6", len(got))
	}
	got = Filter(r.Global(), "16")
	if len(got) != 1 || got[0].Name != "http-status-401" {
		t.Fatalf("filter by value kept %v", got)
	}
}

func TestPeaksAndJavaDate(t *testing.T) {
	var p Peaks
	t1 := time.Date(2015, 8, 27, 22, 32, 30, 0, time.UTC)
	p.Observe(PeakDeviceCacheSize, 10, t1)
	p.Observe(PeakDeviceCacheSize, 5, t1.Add(time.Hour))
	all := p.All()
	if all[PeakDeviceCacheSize].Value != 10 || !all[PeakDeviceCacheSize].At.Equal(t1) {
		t.Fatalf("peak %+v", all[PeakDeviceCacheSize])
	}
	if got := JavaDate(t1); got != "Thu Aug 27 22:32:30 UTC 2015" {
		t.Errorf("JavaDate = %q (STA-07 example)", got)
	}
}

func TestFilesAppendAndArchive(t *testing.T) {
	dir := t.TempDir()
	f := Files{Dir: dir}
	r := NewRegistry()
	var p Peaks
	r.Device("D2", "u").Inc(Permits)
	r.Device("D1", "u").Inc(Blocks)
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for i := 0; i < 3; i++ {
		if err := f.Append(r, &p, t0.Add(time.Duration(i)*5*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	rows := readCSV(t, filepath.Join(dir, "global-stats.csv"))
	if len(rows) != 4 || rows[0][0] != "time" || rows[0][1] != "d-connection" {
		t.Fatalf("global-stats.csv: %d rows, header %v", len(rows), rows[0][:2])
	}
	idx := indexOf(rows[0], "permits")
	if rows[3][idx] != "1" || indexOf(rows[0], "peak-date-peak-device-cache-size") < 0 {
		t.Fatalf("permits column %q", rows[3][idx])
	}
	dev := readCSV(t, filepath.Join(dir, "all-device-stats.csv"))
	if len(dev) != 3 || dev[1][1] != "D1" || dev[2][1] != "D2" {
		t.Fatalf("all-device-stats.csv rows %v", dev)
	}
	archived, err := f.Archive(t0)
	if err != nil || !strings.Contains(archived, "global-stats-20261123T100000Z.csv") {
		t.Fatalf("archive %q %v", archived, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "global-stats.csv")); !os.IsNotExist(err) {
		t.Fatal("global-stats.csv still there after archive (STA-10)")
	}
	if again, err := f.Archive(t0); again != "" || err != nil {
		t.Fatalf("second archive %q %v", again, err)
	}
}

func TestPrometheusCollector(t *testing.T) {
	r := NewRegistry()
	var p Peaks
	r.Device("D", "u").Add(DHTTPRequests, 3)
	c := NewCollector(r, &p)
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	want := "# HELP gatehouse_d_http_requests_total Statistics counter d-http-requests summed over devices.\n# TYPE gatehouse_d_http_requests_total counter\ngatehouse_d_http_requests_total 3\n"
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "gatehouse_d_http_requests_total"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(c); n != 89 {
		t.Fatalf("%d metrics, want 79 counters + 10 peaks", n)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func indexOf(xs []string, s string) int {
	for i, x := range xs {
		if x == s {
			return i
		}
	}
	return -1
}

func TestIncGlobalLeavesNoDeviceRow(t *testing.T) {
	// Issue 18: requests refused before authentication are counted
	// without creating per-device state.
	r := NewRegistry()
	r.IncGlobal(IdentityMismatch)
	r.IncGlobal(DUnauthenticated)
	n := 0
	r.Devices(func(DeviceKey, *Device) { n++ })
	if n != 0 || r.GlobalValue(IdentityMismatch) != 1 || r.GlobalValue(DUnauthenticated) != 1 {
		t.Fatalf("%d device rows, identity-mismatch %d", n, r.GlobalValue(IdentityMismatch))
	}
}
