package gcfloor

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/onsi/gomega"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		live, floor uint64
		want        int
	}{
		{0, 256 * mib, 100},          // nothing live yet: the runtime's default
		{16 * mib, 256 * mib, 1500},  // next GC at 256 MiB
		{64 * mib, 256 * mib, 300},   // next GC at 256 MiB
		{128 * mib, 256 * mib, 100},  // 2 × live is the floor: plain GOGC=100
		{1024 * mib, 256 * mib, 100}, // large caches collect as usual
		{1, 1 << 62, 2147483647},     // capped
	} {
		if got := Percent(tc.live, tc.floor); got != tc.want {
			t.Errorf("Percent(%d MiB, %d MiB) = %d, want %d", tc.live/mib, tc.floor/mib, got, tc.want)
		}
	}
}

// After a collection the hook has set GOGC from the live heap; stop
// restores 100. (The test binary's live heap is a few MiB, far below the
// 1 GiB floor.)
func TestStartRetunesAfterEachCollection(t *testing.T) {
	t.Setenv("GOGC", "")
	stop, active := Start(1 << 30)
	if !active {
		t.Fatal("not active without GOGC in the environment")
	}
	gomega.NewWithT(t).Eventually(func() int {
		runtime.GC()
		p := debug.SetGCPercent(-1)
		debug.SetGCPercent(p)
		return p
	}).WithTimeout(10*time.Second).Should(gomega.BeNumerically(">", 1000), "GOGC after collections: the floor's")
	stop()
	if p := debug.SetGCPercent(100); p != 100 {
		t.Fatalf("GOGC after stop = %d, want 100", p)
	}
	// Stopped: later collections leave GOGC alone.
	debug.SetGCPercent(150)
	runtime.GC()
	runtime.GC()
	if p := debug.SetGCPercent(100); p != 150 {
		t.Fatalf("a stopped tuner changed GOGC to %d", p)
	}
}

func TestExplicitGOGCWins(t *testing.T) {
	t.Setenv("GOGC", "200")
	if _, active := Start(1 << 30); active {
		t.Fatal("active although GOGC is set")
	}
	if _, active := Start(0); active {
		t.Fatal("active with a zero floor")
	}
}
