package gateway

import (
	"errors"
	"fmt"
)

// state is where a Server is in its life. It only moves forward:
//
//	created ──Listen──▶ listening ──Start──▶ starting ──▶ running ──Shutdown──▶ stopping ──▶ stopped
//	                                            │
//	                                            └─ Start failed ─▶ failed ──Shutdown──▶ stopping ──▶ stopped
//
// Start listens first when Listen was not called. Shutdown is valid from
// every state and ends in stopped; a Shutdown during Start makes Start
// give up and waits for it. Only a device cache that was loaded (from the
// UEM or from the persistent list, cacheLoaded) is ever written back to
// disk: a gateway that never got that far leaves the list on disk as it
// found it, so a failed start cannot erase what it knew about blocked
// devices.
type state int

const (
	stateCreated   state = iota // New returned; nothing bound
	stateListening              // the listeners are bound; nothing is served
	stateStarting               // Start is loading the device cache and the configuration
	stateRunning                // serving; the link writes the persistent list
	stateFailed                 // Start failed; only Shutdown is left
	stateStopping               // Shutdown is under way
	stateStopped                // Shutdown returned; files closed
)

var stateNames = [...]string{"created", "listening", "starting", "running", "failed", "stopping", "stopped"}

func (st state) String() string {
	if st >= 0 && int(st) < len(stateNames) {
		return stateNames[st]
	}
	return fmt.Sprintf("state(%d)", int(st))
}

// ErrStopped is returned by Listen and Start once Shutdown has begun.
var ErrStopped = errors.New("gateway: shut down")

// errState says that a call does not fit the Server's state.
func errState(call string, st state) error {
	if st >= stateStopping {
		return fmt.Errorf("gateway: %s: %w", call, ErrStopped)
	}
	return fmt.Errorf("gateway: %s while %s", call, st)
}
