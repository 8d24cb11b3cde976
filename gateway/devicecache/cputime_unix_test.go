//go:build unix

package devicecache

import (
	"syscall"
	"time"
)

// cpuTime is the process's user and system CPU time so far: on a loaded
// machine the wall time of a save or load says more about the neighbours
// than about the code, its CPU time much less.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
