// Command gatehouse is the single binary of the project: the reference
// gateway, the fake servers, the lab, the load generator and the tools
// around them, each a subcommand.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	reexecWithSmallStacks() // `gatehouse gateway` only (stackstart.go)
	startDebugPprof()       // GATEHOUSE_DEBUG_PPROF (debugpprof.go)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gatehouse:", err)
		var ec *exitCodeError
		if errors.As(err, &ec) {
			os.Exit(ec.code)
		}
		os.Exit(1)
	}
}
