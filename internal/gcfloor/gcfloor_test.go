package gcfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/onsi/gomega"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		live, roots, floor uint64
		want               int
	}{
		{0, 0, 256 * mib, 100},                // nothing live yet: the runtime's default
		{16 * mib, 0, 256 * mib, 1500},        // next GC at 256 MiB
		{64 * mib, 0, 256 * mib, 300},         // next GC at 256 MiB
		{128 * mib, 0, 256 * mib, 100},        // 2 × live is the floor: plain GOGC=100
		{1024 * mib, 0, 256 * mib, 100},       // large caches collect as usual
		{16 * mib, 80 * mib, 256 * mib, 250},  // the stacks count: 16 + 96 × 2.5 = 256
		{64 * mib, 200 * mib, 256 * mib, 100}, // roots alone pass the floor: plain GOGC=100
		{1, 0, 1 << 62, 2147483647},           // capped
	} {
		if got := Percent(tc.live, tc.roots, tc.floor); got != tc.want {
			t.Errorf("Percent(%d MiB, %d MiB, %d MiB) = %d, want %d", tc.live/mib, tc.roots/mib, tc.floor/mib, got, tc.want)
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

// The runtime's heap goal counts goroutine stacks and globals as well as
// the live heap: with thousands of deep stacks and a small live heap, the
// tuner must still put the next collection at the floor, not at many
// times it (from the live heap alone, this case gave a goal of 2 GiB
// for a 128 MiB floor).
func TestStartHoldsTheGoalToTheFloorWithManyStacks(t *testing.T) {
	t.Setenv("GOGC", "")
	const floor = 128 << 20
	wait := make(chan struct{})
	var wg sync.WaitGroup
	for range 5000 {
		wg.Add(1)
		go func() { defer wg.Done(); deep(8, wait) }() // about 9 KiB of stack each
	}
	defer func() { close(wait); wg.Wait() }()
	stop, _ := Start(floor)
	defer stop()
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/heap/goal:bytes"}, {Name: "/gc/scan/stack:bytes"}}
	// The tuner runs from a finalizer after each collection, a moment
	// after runtime.GC returns, and its first tuning may predate the
	// goroutines: poll until a collection that scanned the stacks has
	// been followed by its tuning. The old formula never gets there.
	goal := func() uint64 {
		runtime.GC()
		metrics.Read(s)
		if s[2].Value.Uint64() < 20<<20 {
			return 0 // no collection has scanned the stacks yet
		}
		return s[1].Value.Uint64()
	}
	gomega.NewWithT(t).Eventually(goal).WithTimeout(20*time.Second).WithPolling(20*time.Millisecond).
		Should(gomega.And(gomega.BeNumerically(">=", floor*9/10), gomega.BeNumerically("<=", floor*11/10)),
			"the heap goal for a %d MiB floor with 5,000 deep stacks", floor>>20)
}
