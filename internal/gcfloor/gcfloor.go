// Package gcfloor keeps the Go garbage collector from running more often
// than a heap floor needs: a proxy with a small live heap allocates fast
// (request and header objects) and, at GOGC=100, collects every few
// megabytes, which cost the gateway a fifth of its CPU under load. With a
// floor F, the next collection is due at max(2 × live heap, F); once the
// live heap passes F/2 this is plain GOGC=100. It is the heap-target
// tuner several large Go services run in place of a memory ballast.
package gcfloor

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// Percent is the GOGC value that puts the next collection at the floor for
// a live heap of live bytes, never below 100.
func Percent(live, floor uint64) int {
	if live == 0 || floor <= 2*live {
		return 100
	}
	p := float64(floor)/float64(live)*100 - 100
	if p > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(p)
}

// Start retunes GOGC after every collection so that the heap may grow to
// floor bytes before the next one; stop ends it and restores GOGC=100.
// It does nothing (and says so) when floor is 0 or GOGC is set in the
// environment: an operator's explicit choice wins.
func Start(floor uint64) (stop func(), active bool) {
	if floor == 0 || os.Getenv("GOGC") != "" {
		return func() {}, false
	}
	var stopped atomic.Bool
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	tune := func() {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			debug.SetGCPercent(Percent(sample[0].Value.Uint64(), floor))
		}
	}
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
