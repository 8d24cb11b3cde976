package device

import "github.com/gatehouse-lab/gatehouse/protocol/eas"

// WipeKind names the wipe element of a Provision response, exactly as the
// device received it: a full wipe and an account-only wipe (16.1) are
// different orders, and a spec must be able to tell which one arrived.
type WipeKind string

// Wipe kinds.
const (
	FullWipe        WipeKind = "RemoteWipe"
	AccountOnlyWipe WipeKind = "AccountOnlyRemoteWipe"
	// BothWipes: one response carried both elements.
	BothWipes WipeKind = "RemoteWipe+AccountOnlyRemoteWipe"
)

// Wipes returns the wipe orders the device received, oldest first (one
// per Provision response that carried one; Reset does not clear them).
func (d *Device) Wipes() []WipeKind {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]WipeKind(nil), d.wipes...)
}

func (d *Device) recordWipe(pr eas.ProvisionResponse) {
	k := FullWipe
	switch {
	case pr.RemoteWipe && pr.AccountOnlyRemoteWipe:
		k = BothWipes
	case pr.AccountOnlyRemoteWipe:
		k = AccountOnlyWipe
	}
	d.mu.Lock()
	d.wipes = append(d.wipes, k)
	d.mu.Unlock()
}
