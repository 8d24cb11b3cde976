package gcfloor

import (
	"math"
	"os"
	"os/exec"
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
// the live heap, and the stacks themselves take memory outside the heap:
// with thousands of deep stacks and a small live heap, the tuner must
// hold the process's Go memory at the next collection to the floor, not
// to many times it (from the live heap alone, this case gave a heap goal
// of 2 GiB for a 128 MiB floor; from the roots but without a memory
// limit, a 256 MiB heap goal plus 90 MiB of stacks and metadata).
func TestStartHoldsTheGoalToTheFloorWithManyStacks(t *testing.T) {
	t.Setenv("GOGC", "")
	const floor = 256 << 20
	wait := make(chan struct{})
	var wg sync.WaitGroup
	for range 5000 {
		wg.Add(1)
		go func() { defer wg.Done(); deep(8, wait) }() // about 9 KiB of stack each
	}
	defer func() { close(wait); wg.Wait() }()
	stop, _ := Start(floor)
	defer stop()
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}, {Name: "/gc/scan/stack:bytes"}}
	m := make([]metrics.Sample, len(sampleNames))
	for i, n := range sampleNames {
		m[i].Name = n
	}
	// The tuner runs from a finalizer after each collection, a moment
	// after runtime.GC returns, and its first tuning may predate the
	// goroutines: poll until a collection that scanned the stacks has
	// been followed by its tuning.
	total := func() uint64 {
		runtime.GC()
		metrics.Read(s)
		if s[1].Value.Uint64() < 20<<20 {
			return 0 // no collection has scanned the stacks yet
		}
		return s[0].Value.Uint64() + readSample(m).nonHeap
	}
	gomega.NewWithT(t).Eventually(total).WithTimeout(20*time.Second).WithPolling(20*time.Millisecond).
		Should(gomega.And(gomega.BeNumerically(">=", floor/2), gomega.BeNumerically("<=", floor*11/10)),
			"Go memory at the heap goal for a %d MiB floor with 5,000 deep stacks", floor>>20)
}

// The floor holds memory, not just the heap goal, to the configured
// figure while garbage is allocated: with 2,000 goroutines' stacks (about
// 32 MiB) the Go memory in use (what the memory limit counts: all classes
// but the heap released to the OS) peaks within 15 % of the floor. The
// tuner that set GOGC alone let the heap reach the floor with the stacks
// on top, about 170 MiB for this 128 MiB floor.
func TestStartHoldsMemoryToTheFloorUnderGarbage(t *testing.T) {
	// A process of its own: memory that earlier tests of this package
	// left mapped (5,000 goroutines' stacks) would count in the tuner's
	// first samples and in the peak.
	if os.Getenv("GCFLOOR_ALONE") != "1" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestStartHoldsMemoryToTheFloorUnderGarbage$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "GCFLOOR_ALONE=1", "GOGC=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("in its own process: %v\n%s", err, out)
		}
		t.Logf("in its own process:\n%s", out)
		return
	}
	t.Setenv("GOGC", "")
	const floor = 128 << 20
	wait := make(chan struct{})
	var wg sync.WaitGroup
	for range 2000 {
		wg.Add(1)
		go func() { defer wg.Done(); deep(8, wait) }()
	}
	defer func() { close(wait); wg.Wait() }()
	// The stacks are scanned once before the tuner starts, and what
	// earlier tests left mapped is returned to the OS: the peak is this
	// test's.
	debug.FreeOSMemory()
	stop, _ := Start(floor)
	defer stop()
	m := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	var peak uint64
	ring := make([][]byte, 64)
	for i := range 1 << 17 { // 512 MiB of 4 KiB garbage
		ring[i%len(ring)] = make([]byte, 4096)
		// The first 64 MiB let the tuner see a few collections of this
		// workload, not what earlier tests left.
		if i >= 1<<14 && i%64 == 0 {
			metrics.Read(m)
			peak = max(peak, m[0].Value.Uint64()-m[1].Value.Uint64())
		}
	}
	runtime.KeepAlive(ring)
	if peak > floor*115/100 {
		t.Fatalf("Go memory peaked at %d MiB for a %d MiB floor (limit %d MiB)", peak>>20, floor>>20, debug.SetMemoryLimit(-1)>>20)
	}
	t.Logf("Go memory peaked at %d MiB for a %d MiB floor", peak>>20, floor>>20)
}

// A memory limit found at start (GOMEMLIMIT) is the operator's and is
// left alone; without one, the tuner's limit is undone by stop.
func TestMemoryLimit(t *testing.T) {
	t.Setenv("GOGC", "")
	defer debug.SetMemoryLimit(math.MaxInt64)
	debug.SetMemoryLimit(1 << 40)
	stop, _ := Start(1 << 30)
	runtime.GC()
	runtime.GC()
	stop()
	if l := debug.SetMemoryLimit(-1); l != 1<<40 {
		t.Fatalf("an operator's limit became %d", l)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	stop, _ = Start(1 << 30)
	gomega.NewWithT(t).Eventually(func() int64 { runtime.GC(); return debug.SetMemoryLimit(-1) }).
		WithTimeout(10*time.Second).Should(gomega.BeNumerically("==", 1<<30), "the limit at the floor")
	stop()
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		t.Fatalf("the limit after stop = %d, want none", l)
	}
}
