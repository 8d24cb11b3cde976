package integrated

import (
	"testing"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/protocol/exmgmt"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// TestMMB03IntegratedViolationBlocksEveryAccountOnTheDevice: alice's phone
// holds her mailbox and bob's (MMB-01); its violation makes Exchange block
// both partnerships while alice's compliant tablet stays allowed.
func TestMMB03IntegratedViolationBlocksEveryAccountOnTheDevice(t *testing.T) {
	w := newWorld(t)
	for _, d := range []uem.Device{
		{UUID: "d-phone", UserID: "alice", Platform: "iOS", EASDeviceIDs: []string{"PHONE"}},
		{UUID: "d-tablet", UserID: "alice", Platform: "iOS", EASDeviceIDs: []string{"TABLET"}},
	} {
		if _, err := w.uem.AddDevice(d); err != nil {
			t.Fatal(err)
		}
	}
	w.partner("alice", "PHONE", "iPhone")
	w.partner("bob", "PHONE", "iPhone")
	w.partner("alice", "TABLET", "iPad")
	w.mustSync(Full)
	if _, err := w.uem.SetSecurityViolation("d-phone", true); err != nil {
		t.Fatal(err)
	}
	blocked := func(u, d string) bool { return w.device(u, d).AccessState == exmgmt.StateBlocked }
	eventually(t, "both accounts on the phone blocked in Exchange", func() bool { return blocked("alice", "PHONE") && blocked("bob", "PHONE") })
	if blocked("alice", "TABLET") {
		t.Fatal("alice's compliant tablet must stay allowed")
	}
	if _, err := w.uem.SetSecurityViolation("d-phone", false); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both allowed again", func() bool { return !blocked("alice", "PHONE") && !blocked("bob", "PHONE") })
}

// TestMMB09IntegratedUnregisteredWindowsDevice: a Windows device that
// cannot register syncs with Auto Block Unregistered off (the default)
// and Exchange blocks the next one once it is on.
func TestMMB09IntegratedUnregisteredWindowsDevice(t *testing.T) {
	w := newWorld(t)
	w.partner("carol", "WIN7PC", "WindowsMail")
	w.mustSync(Full)
	if d := w.device("carol", "WIN7PC"); d.AccessState != exmgmt.StateAllowed || d.AccessStateReason != exmgmt.ReasonIndividual {
		t.Fatalf("%+v", d)
	}
	p := w.uem.Preferences()
	p.AutoBlockUnregistered = true
	if _, err := w.uem.SetPreferences(p); err != nil {
		t.Fatal(err)
	}
	w.partner("carol", "WIN8RT", "WindowsRT")
	w.mustSync(Differential)
	if d := w.device("carol", "WIN8RT"); d.AccessState != exmgmt.StateBlocked {
		t.Fatalf("%+v", d)
	}
	if a := w.assoc("WIN8RT", "carol"); a.Reason != uemapi.ReasonUnregistered {
		t.Fatalf("%+v", a)
	}
}
