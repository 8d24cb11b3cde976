package uem

import (
	"unsafe"

	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

func TestDecide(t *testing.T) {
	const (
		A = uemapi.StateAllowed
		B = uemapi.StateBlocked
		W = uemapi.StateWiped
	)
	cases := []struct {
		id, name string
		in       DecisionInput
		want     uemapi.SyncState
		why      uemapi.Reason
	}{
		{"FLOW-02", "new registered compliant device is allowed", DecisionInput{New: true, Registered: true}, A, uemapi.ReasonAllowed},
		{"FLOW-08", "violation blocks a new device", DecisionInput{New: true, Registered: true, SecurityViolation: true}, B, uemapi.ReasonSecurityViolation},
		{"FLOW-08", "violation blocks an existing allowed device", DecisionInput{Current: A, CurrentReason: uemapi.ReasonAllowed, Registered: true, SecurityViolation: true}, B, uemapi.ReasonSecurityViolation},
		{"FLOW-08", "violation cleared reinstates", DecisionInput{Current: B, CurrentReason: uemapi.ReasonSecurityViolation, Registered: true}, A, uemapi.ReasonAllowed},
		{"ASP-13", "mailbox under limit", DecisionInput{New: true, Registered: true, MailboxLimit: 2, MailboxAllowed: 1}, A, uemapi.ReasonAllowed},
		{"ASP-13", "last device beyond the limit is blocked", DecisionInput{New: true, Registered: true, MailboxLimit: 2, MailboxAllowed: 2}, B, uemapi.ReasonMailboxLimit},
		{"ASP-13", "limit 0 means none", DecisionInput{New: true, Registered: true, MailboxLimit: 0, MailboxAllowed: 50}, A, uemapi.ReasonAllowed},
		{"ASP-13", "existing devices are not re-counted", DecisionInput{Current: A, CurrentReason: uemapi.ReasonAllowed, MailboxLimit: 1, MailboxAllowed: 5}, A, uemapi.ReasonAllowed},
		{"ASP-13", "mailbox block lasts until remove", DecisionInput{Current: B, CurrentReason: uemapi.ReasonMailboxLimit, MailboxLimit: 1}, B, uemapi.ReasonMailboxLimit},
		{"PREF-02", "unregistered allowed with auto-block off", DecisionInput{New: true}, A, uemapi.ReasonAllowed},
		{"PREF-03", "new unregistered blocked with auto-block on", DecisionInput{New: true, AutoBlockUnregistered: true}, B, uemapi.ReasonUnregistered},
		{"PREF-03", "existing unregistered stays allowed", DecisionInput{Current: A, CurrentReason: uemapi.ReasonAllowed, AutoBlockUnregistered: true}, A, uemapi.ReasonAllowed},
		{"PREF-03", "registered new device unaffected by auto-block", DecisionInput{New: true, Registered: true, AutoBlockUnregistered: true}, A, uemapi.ReasonAllowed},
		{"ACT-02", "manual allow beats a violation", DecisionInput{Current: A, CurrentReason: uemapi.ReasonManualAllow, Manual: true, Registered: true, SecurityViolation: true}, A, uemapi.ReasonManualAllow},
		{"ACT-03", "manual block stays without violation", DecisionInput{Current: B, CurrentReason: uemapi.ReasonManualBlock, Manual: true, Registered: true}, B, uemapi.ReasonManualBlock},
		{"ACT-04", "manual allow beats auto-block and limit", DecisionInput{Current: A, CurrentReason: uemapi.ReasonManualAllow, Manual: true, AutoBlockUnregistered: true, MailboxLimit: 1, MailboxAllowed: 3}, A, uemapi.ReasonManualAllow},
		{"ACT-06", "wiped stays wiped", DecisionInput{Current: W, CurrentReason: uemapi.ReasonManualWipe, Manual: true, Registered: true}, W, uemapi.ReasonManualWipe},
		{"FLOW-02", "violation beats the mailbox limit", DecisionInput{New: true, Registered: true, SecurityViolation: true, MailboxLimit: 1, MailboxAllowed: 1}, B, uemapi.ReasonSecurityViolation},
	}
	for _, c := range cases {
		t.Run(c.id+"/"+c.name, func(t *testing.T) {
			got, why := Decide(c.in)
			if got != c.want || why != c.why {
				t.Errorf("Decide(%+v) = %s/%s, want %s/%s", c.in, got, why, c.want, c.why)
			}
		})
	}
}

func TestDecideTunnel(t *testing.T) {
	cases := []struct {
		id   string
		in   TunnelInput
		want uemapi.TunnelState
	}{
		{"FLOW-06", TunnelInput{New: true, Registered: true, AppAuthorized: true}, uemapi.TunnelAllow},
		{"FLOW-06", TunnelInput{New: true, Registered: true, AppAuthorized: false}, uemapi.TunnelBlock},
		{"FLOW-06", TunnelInput{New: true, AutoBlockUnregistered: true}, uemapi.TunnelBlock},
		{"FLOW-06", TunnelInput{New: true}, uemapi.TunnelAllow},
		{"ATM-05", TunnelInput{Registered: true, AppAuthorized: true, SecurityViolation: true}, uemapi.TunnelBlock},
		{"ATM-04", TunnelInput{Registered: true, AppAuthorized: true, DeviceTunnelsBlocked: true}, uemapi.TunnelBlock},
		{"ATM-02", TunnelInput{Current: uemapi.TunnelAllow, Manual: true, SecurityViolation: true}, uemapi.TunnelAllow},
	}
	for _, c := range cases {
		if got, _ := DecideTunnel(c.in); got != c.want {
			t.Errorf("%s: DecideTunnel(%+v) = %s, want %s", c.id, c.in, got, c.want)
		}
	}
}

// TestAssocSize pins the stored association at ≤ 128 bytes: the capacity
// benchmark's memory budget depends on it.
func TestAssocSize(t *testing.T) {
	if n := unsafe.Sizeof(assoc{}); n > 128 {
		t.Fatalf("assoc is %d bytes, want ≤ 128", n)
	}
}
