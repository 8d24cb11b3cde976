package uem

import (
	"strconv"
	"strings"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// assoc is the stored form of an ActiveSync association, kept small (128
// bytes) because the fake holds a million of them in capacity tests: state
// and reason are one-byte codes, the gateway name is interned and the
// rarely set fields live behind ext.
type assoc struct {
	seq      int64
	eas      string
	userName string // as reported
	user     *User  // nil when the user is unknown to the UEM
	device   *Device
	first    int64 // unix nanoseconds
	last     int64
	gateway  *string // interned gateway id
	ext      *assocExtra
	rep      *reported
	mbPrev   *assoc
	mbNext   *assoc
	state    stateCode
	reason   reasonCode
	manual   bool
}

// assocExtra holds the fields most associations never set.
type assocExtra struct {
	policyID string
	comment  string
	redirect string
	wipeAck  int64
	actionAt int64
}

var noExtra assocExtra

// ro returns the extra fields for reading; never write through it.
func (a *assoc) ro() *assocExtra {
	if a.ext == nil {
		return &noExtra
	}
	return a.ext
}

// rw returns the extra fields for writing, allocating them.
func (a *assoc) rw() *assocExtra {
	if a.ext == nil {
		a.ext = &assocExtra{}
	}
	return a.ext
}

type stateCode uint8

var stateNames = [...]uemapi.SyncState{uemapi.StateAllowed, uemapi.StateBlocked, uemapi.StateWiped}

type reasonCode uint8

var reasonNames = [...]uemapi.Reason{uemapi.ReasonAllowed, uemapi.ReasonSecurityViolation, uemapi.ReasonMailboxLimit,
	uemapi.ReasonUnregistered, uemapi.ReasonManualAllow, uemapi.ReasonManualBlock, uemapi.ReasonManualWipe}

// State is the association's sync state.
func (a *assoc) State() uemapi.SyncState { return stateNames[a.state] }

// Reason is why the association has its state.
func (a *assoc) Reason() uemapi.Reason { return reasonNames[a.reason] }

func (a *assoc) setState(st uemapi.SyncState, r uemapi.Reason) {
	for i, n := range stateNames {
		if n == st {
			a.state = stateCode(i)
		}
	}
	for i, n := range reasonNames {
		if n == r {
			a.reason = reasonCode(i)
		}
	}
}

// reported is what the gateway said about the device on first access.
type reported struct {
	deviceType, model, os, phone string
}

type assocKey struct{ eas, user string }

func assocID(seq int64) string { return "a" + strconv.FormatInt(seq, 10) }

func parseAssocID(id string) (int64, bool) {
	if !strings.HasPrefix(id, "a") {
		return 0, false
	}
	n, err := strconv.ParseInt(id[1:], 10, 64)
	return n, err == nil && n > 0
}
