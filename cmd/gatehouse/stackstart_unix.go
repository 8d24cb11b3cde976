//go:build unix

package main

import (
	"os"
	"syscall"
)

// reexecWithSmallStacks replaces `gatehouse gateway` with itself under
// GODEBUG=adaptivestackstart=0 (smallStacksEnv); the process keeps its
// pid, arguments and open files. If the executable cannot be found or
// run again, the gateway goes on as it is.
func reexecWithSmallStacks() {
	env, ok := smallStacksEnv(os.Args, os.Environ())
	if !ok {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	_ = syscall.Exec(exe, os.Args, env) // returns only on failure
}
