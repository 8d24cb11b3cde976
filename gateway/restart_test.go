package gateway_test

import (
	"context"
	"strings"
	"testing"
)

// CFG-03: Clear Configuration asks the gateway's runner for a restart; a
// gateway nobody restarts (an in-process lab) refuses it and goes on.
func TestCFG03ClearConfigRequestsTheRestart(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.adm.ClearConfig(ctx); err == nil || !strings.Contains(err.Error(), "cannot restart itself") {
		t.Fatalf("clear on a gateway nobody restarts: %v", err)
	}
	select {
	case <-w.gw.RestartRequested():
		t.Fatal("a refused clear asked for a restart")
	default:
	}
	w.gw.SetRestartable()
	if res, err := w.adm.ClearConfig(ctx); err != nil || !res.Restarting {
		t.Fatalf("clear: %+v, %v", res, err)
	}
	select {
	case <-w.gw.RestartRequested():
	default:
		t.Fatal("the clear did not ask for a restart")
	}
	if _, err := w.adm.ClearConfig(ctx); err != nil { // twice: still one restart
		t.Fatalf("second clear: %v", err)
	}
}
