package uem

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// BenchmarkAllowedList1M serves a million generated devices as the full
// allowed list (what a gateway loads at init, FLOW-10) in pages of 10,000
// through the uemapi client over HTTPS on loopback. It reports the
// generation time, the time per full list and the process's peak RSS.
//
//	go test -run '^$' -bench AllowedList1M -benchtime 3x ./fakes/uem/
func BenchmarkAllowedList1M(b *testing.B) {
	n := benchN()
	start := time.Now()
	srv, err := New(Config{GatewayAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		Seed: &Seed{Generate: &Generate{Devices: n, Seed: 42, Gateway: "gw1"}}})
	if err != nil {
		b.Fatal(err)
	}
	genTime := time.Since(start)
	if err := srv.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	if _, err := srv.AddGateway(GatewayEntry{ID: "gw1", Host: "127.0.0.1", Token: testToken, Enabled: true}); err != nil {
		b.Fatal(err)
	}
	c, _ := uemapi.NewClient(srv.GatewayURL(), testToken, uemapi.WithHTTPClient(trustingClient(srv)))
	genPeak := peakRSS()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	resetPeakRSS()
	for b.Loop() {
		got, pages := 0, 0
		err := c.EachDevicePage(context.Background(), uemapi.FilterAllowed, uemapi.MaxPageSize, func(p *uemapi.DevicePage) error {
			got += len(p.Items)
			pages++
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if got != n || pages != n/uemapi.MaxPageSize {
			b.Fatalf("got %d devices in %d pages", got, pages)
		}
	}
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB-after-gen")
	b.ReportMetric(genTime.Seconds(), "gen-s")
	b.ReportMetric(float64(genPeak)/(1<<20), "peak-RSS-MiB-after-gen")
	if hwm := peakRSS(); hwm > 0 {
		b.ReportMetric(float64(max(hwm, genPeak))/(1<<20), "peak-RSS-MiB")
		b.ReportMetric(float64(hwm)/(1<<20), "peak-RSS-MiB-listing")
	}
}

// resetPeakRSS resets VmHWM to the current RSS (Linux: clear_refs 5), so
// that the listing phase's peak can be read on its own.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS reads VmHWM (the resident set's high-water mark) on Linux.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// benchN is the generated fleet size; GATEHOUSE_BENCH_DEVICES overrides the
// million for quick profiling runs.
func benchN() int {
	if v, err := strconv.Atoi(os.Getenv("GATEHOUSE_BENCH_DEVICES")); err == nil && v > 0 && v%uemapi.MaxPageSize == 0 {
		return v
	}
	return 1_000_000
}
