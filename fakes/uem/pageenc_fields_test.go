package uem

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/gatehouse-lab/gatehouse/internal/nonzero"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// TestAppendDeviceEntryWritesEveryField guards the hand-written encoder
// against a field added to uemapi.DeviceEntry: every field of the entry is
// filled by reflection, the association the encoder reads is built from
// it, and what encoding/json reads back from the encoder's output must be
// the entry. A new field comes back zero until appendDeviceEntry writes it
// (and assocFor below carries it).
func TestAppendDeviceEntryWritesEveryField(t *testing.T) {
	var want uemapi.DeviceEntry
	nonzero.Fill(t, &want)
	// The values the association can hold: its id is "a" and a sequence
	// number, its state one of the three.
	want.AssociationID = assocID(42)
	want.State = uemapi.StateBlocked
	if z := nonzero.ZeroFields(want); len(z) > 0 {
		t.Fatalf("fields left zero: %v", z)
	}
	a, behavior, policyID := assocFor(t, want)
	b := appendDeviceEntry(nil, a, behavior, policyID)
	var got uemapi.DeviceEntry
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	if !reflect.DeepEqual(got, want) {
		if z := nonzero.ZeroFields(got); len(z) > 0 {
			t.Errorf("appendDeviceEntry drops %v: write the new field (and carry it in assocFor)", z)
		}
		t.Fatalf("appendDeviceEntry wrote %s\n got %+v\nwant %+v", b, got, want)
	}
}

// assocFor is the association (and the policy behaviour and id the page
// computes) whose entry is e.
func assocFor(t *testing.T, e uemapi.DeviceEntry) (*assoc, uemapi.PolicyBehavior, string) {
	t.Helper()
	seq, ok := parseAssocID(e.AssociationID)
	if !ok {
		t.Fatalf("association id %q", e.AssociationID)
	}
	st := slices.Index(stateNames[:], e.State)
	if st < 0 {
		t.Fatalf("state %q", e.State)
	}
	a := &assoc{seq: seq, eas: e.EASDeviceID, userName: e.User, state: stateCode(st)}
	if e.Registered {
		a.device = &Device{}
	}
	if e.RedirectURL != "" {
		a.rw().redirect = e.RedirectURL
	}
	return a, e.Behavior, e.PolicyID
}
