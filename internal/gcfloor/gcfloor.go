// Package gcfloor keeps the Go garbage collector from running more often
// than a memory floor needs: a proxy with a small live heap allocates fast
// (request and header objects) and, at GOGC=100, collects every few
// megabytes, which cost the gateway a fifth of its CPU under load. With a
// floor F, the next collection is due when the heap reaches
// max(F, the GOGC=100 goal), and the process's Go memory (heap, stacks,
// runtime metadata) is held to max(F, what GOGC=100 needs); once the
// live heap is large this is plain GOGC=100. It is the heap-target tuner
// several large Go services run in place of a memory ballast.
//
// The runtime's heap goal is live + (live + stacks + globals) × GOGC/100
// (Go 1.18 and later): the roots count as much as the heap. GOGC is
// therefore computed from all three, as measured at the last collection;
// from the live heap alone, 10,000 goroutines' stacks put a 256 MiB floor
// at a 1.4 GiB goal (see TestMeasureMemory). A heap goal at the floor
// still leaves the stacks and metadata on top of it, and a flood of
// connections pushed the gateway to nearly twice the floor; so each
// collection also sets the soft memory limit, which counts all of the
// runtime's memory, to the floor, or an eighth above the GOGC=100 need
// when that is higher: the limit then never makes the collector run more
// often than GOGC=100 would (GOGC=off with a limit at the floor
// collected without end once the live heap neared the floor).
package gcfloor

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
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
type sample struct{ live, roots, nonHeap uint64 }

var sampleNames = []string{"/gc/heap/live:bytes", "/gc/scan/stack:bytes", "/gc/scan/globals:bytes",
	"/memory/classes/total:bytes", "/memory/classes/heap/objects:bytes", "/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/free:bytes", "/memory/classes/heap/released:bytes"}

func readSample(s []metrics.Sample) sample {
	metrics.Read(s)
	var v [8]uint64
	for i := range s {
		if s[i].Value.Kind() == metrics.KindUint64 {
			v[i] = s[i].Value.Uint64()
		}
	}
	heap := v[4] + v[5] + v[6] + v[7]
	return sample{live: v[0], roots: v[1] + v[2], nonHeap: v[3] - min(v[3], heap)}
}

// limit is the soft memory limit that holds the process's Go memory to
// floor bytes while GOGC=100 would need less, and otherwise sits an
// eighth above what GOGC=100 needs (its heap goal plus the memory outside
// the heap: stacks, runtime metadata), so that a large live heap is
// collected as at GOGC=100 rather than by the limit, without end.
func limit(s sample, floor uint64) uint64 {
	m100 := 2*s.live + s.roots + s.nonHeap
	return max(floor, m100+m100/8)
}

// Start retunes GOGC and the soft memory limit after every collection
// so that the process's Go memory may grow to floor bytes before the next
// one; stop ends it and restores GOGC=100 and the limit it found. It does
// nothing (and says so) when floor is 0 or GOGC is set in the
// environment: an operator's explicit choice wins. A memory limit already
// set (GOMEMLIMIT in the environment) is left alone, and caps the heap as
// before: the runtime collects at the lower of the two goals.
func Start(floor uint64) (stop func(), active bool) {
	if floor == 0 || os.Getenv("GOGC") != "" {
		return func() {}, false
	}
	var lim func(sample) int64
	if debug.SetMemoryLimit(-1) == math.MaxInt64 {
		lim = func(s sample) int64 { return int64(min(limit(s, floor), math.MaxInt64)) }
	}
	return startWith(func(s sample) int { return Percent(s.live, s.roots, floor) }, lim)
}

// startWith runs percent (and limit, unless nil) after every collection
// and sets GOGC (and the memory limit) to their answers.
func startWith(percent func(sample) int, limit func(sample) int64) (stop func(), active bool) {
	// The mutex keeps a finalizer that is already running from retuning
	// after stop has restored the settings.
	var mu sync.Mutex
	stopped := false
	samples := make([]metrics.Sample, len(sampleNames))
	for i, n := range sampleNames {
		samples[i].Name = n
	}
	found := debug.SetMemoryLimit(-1)
	tune := func() {
		s := readSample(samples)
		debug.SetGCPercent(percent(s))
		if limit != nil {
			debug.SetMemoryLimit(limit(s))
		}
	}
	// A finalizer runs once after the collection that finds its object
	// unreachable; re-arming it on a new object each time gives one call
	// per GC cycle without polling.
	var arm func()
	arm = func() {
		s := new(sentinel)
		runtime.SetFinalizer(s, func(*sentinel) {
			mu.Lock()
			defer mu.Unlock()
			if stopped {
				return
			}
			tune()
			arm()
		})
	}
	mu.Lock()
	tune()
	arm()
	mu.Unlock()
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(found)
	}, true
}

// sentinel is allocated on the heap and dropped, so that the next GC
// finalizes it (a zero-size object would not be).
type sentinel struct{ _ [16]byte }
