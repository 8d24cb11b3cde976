// Package gcfloor keeps the Go garbage collector from running more often
// than a heap floor needs: a proxy with a small live heap allocates fast
// (request and header objects) and, at GOGC=100, collects every few
// megabytes, which cost the gateway a fifth of its CPU under load. With a
// floor F, the next collection is due when the heap reaches
// max(F, the GOGC=100 goal); once the live heap is large this is plain
// GOGC=100. It is the heap-target tuner several large Go services run in
// place of a memory ballast.
//
// The runtime's heap goal is live + (live + stacks + globals) × GOGC/100
// (Go 1.18 and later): the roots count as much as the heap. GOGC is
// therefore computed from all three, as measured at the last collection;
// from the live heap alone, 10,000 goroutines' stacks put a 256 MiB floor
// at a 1.4 GiB goal (see TestMeasureMemory).
package gcfloor

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// Percent is the GOGC value that puts the next collection at floor bytes
// of heap for a live heap of live bytes and roots bytes of goroutine
// stacks and globals to scan, never below 100.
func Percent(live, roots, floor uint64) int {
	if live == 0 || floor <= 2*live+roots {
		return 100
	}
	p := float64(floor-live) / float64(live+roots) * 100
	if p > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(p)
}

// sample is what the runtime measured at the last collection.
type sample struct{ live, roots uint64 }

var sampleNames = []string{"/gc/heap/live:bytes", "/gc/scan/stack:bytes", "/gc/scan/globals:bytes"}

func readSample(s []metrics.Sample) sample {
	metrics.Read(s)
	var v [3]uint64
	for i := range s {
		if s[i].Value.Kind() == metrics.KindUint64 {
			v[i] = s[i].Value.Uint64()
		}
	}
	return sample{live: v[0], roots: v[1] + v[2]}
}

// Start retunes GOGC after every collection so that the heap may grow to
// floor bytes before the next one; stop ends it and restores GOGC=100.
// It does nothing (and says so) when floor is 0 or GOGC is set in the
// environment: an operator's explicit choice wins. A GOMEMLIMIT in the
// environment still caps the heap: the runtime collects at the lower of
// the two goals.
func Start(floor uint64) (stop func(), active bool) {
	if floor == 0 || os.Getenv("GOGC") != "" {
		return func() {}, false
	}
	return startWith(func(s sample) int { return Percent(s.live, s.roots, floor) })
}

// startWith runs percent after every collection and sets GOGC to its
// answer.
func startWith(percent func(sample) int) (stop func(), active bool) {
	var stopped atomic.Bool
	samples := make([]metrics.Sample, len(sampleNames))
	for i, n := range sampleNames {
		samples[i].Name = n
	}
	tune := func() { debug.SetGCPercent(percent(readSample(samples))) }
	// A finalizer runs once after the collection that finds its object
	// unreachable; re-arming it on a new object each time gives one call
	// per GC cycle without polling.
	var arm func()
	arm = func() {
		s := new(sentinel)
		runtime.SetFinalizer(s, func(*sentinel) {
			if stopped.Load() {
				return
			}
			tune()
			arm()
		})
	}
	tune()
	arm()
	return func() {
		stopped.Store(true)
		debug.SetGCPercent(100)
	}, true
}

// sentinel is allocated on the heap and dropped, so that the next GC
// finalizes it (a zero-size object would not be).
type sentinel struct{ _ [16]byte }
