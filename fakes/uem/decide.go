package uem

import "github.com/gatehouse-lab/gatehouse/protocol/uemapi"

// DecisionInput holds everything the automatic ActiveSync decision looks at.
// The automatic inputs are exactly the three of FLOW-02: the security
// policy (SecurityViolation), the per-mailbox device count of the policy
// applied to the mailbox (MailboxLimit, MailboxAllowed) and the
// auto-block-unregistered preference (AutoBlockUnregistered, Registered).
type DecisionInput struct {
	// New is true when the association is being created by this access.
	New bool
	// Current and CurrentReason are the existing association's state.
	Current       uemapi.SyncState
	CurrentReason uemapi.Reason
	// Manual is true while a manual Allow, Block or Wipe is in force
	// (ACT-04); it lasts until the association is removed.
	Manual bool
	// Registered: the association is linked to a managed device (ASA-03).
	Registered bool
	// SecurityViolation: the linked device violates its security policy.
	SecurityViolation bool
	// MailboxLimit is the per-mailbox device count of the ActiveSync policy
	// applied to the mailbox; 0 means no limit (ASP-13).
	MailboxLimit int
	// MailboxAllowed counts the mailbox's other allowed associations.
	MailboxAllowed int
	// AutoBlockUnregistered is the PREF-02 preference.
	AutoBlockUnregistered bool
}

// Decide returns the state and reason of an association.
//
// Rules, in order:
//  1. a wiped association stays wiped until removed (ACT-06);
//  2. a manual Allow/Block overrides every automatic input (ACT-04);
//  3. a security-policy violation blocks (FLOW-08, ACT-02);
//  4. for a new association only: the last device to arrive beyond the
//     mailbox's device limit is blocked (ASP-13), and an unregistered one is
//     blocked when auto-block is on (PREF-03);
//  5. an existing association keeps its state, except that a block caused
//     by a violation is lifted once the violation is gone. Existing
//     unregistered associations stay Allowed when auto-block is turned on
//     (PREF-03); mailbox-limit and unregistered blocks last until Remove.
func Decide(in DecisionInput) (uemapi.SyncState, uemapi.Reason) {
	if !in.New && in.Current == uemapi.StateWiped {
		return uemapi.StateWiped, uemapi.ReasonManualWipe
	}
	if !in.New && in.Manual {
		return in.Current, in.CurrentReason
	}
	if in.SecurityViolation {
		return uemapi.StateBlocked, uemapi.ReasonSecurityViolation
	}
	if in.New {
		if in.MailboxLimit > 0 && in.MailboxAllowed >= in.MailboxLimit {
			return uemapi.StateBlocked, uemapi.ReasonMailboxLimit
		}
		if !in.Registered && in.AutoBlockUnregistered {
			return uemapi.StateBlocked, uemapi.ReasonUnregistered
		}
		return uemapi.StateAllowed, uemapi.ReasonAllowed
	}
	if in.CurrentReason == uemapi.ReasonSecurityViolation {
		return uemapi.StateAllowed, uemapi.ReasonAllowed
	}
	return in.Current, in.CurrentReason
}

// TunnelInput holds what the app tunnel decision looks at (FLOW-06,
// ATM-04, ATM-05).
type TunnelInput struct {
	New                   bool
	Current               uemapi.TunnelState
	Manual                bool
	Registered            bool
	SecurityViolation     bool
	DeviceTunnelsBlocked  bool
	AppAuthorized         bool
	AutoBlockUnregistered bool
}

// DecideTunnel returns a tunnel's state and the reason.
func DecideTunnel(in TunnelInput) (uemapi.TunnelState, string) {
	switch {
	case !in.New && in.Manual:
		if in.Current == uemapi.TunnelBlock {
			return in.Current, "manual_block"
		}
		return in.Current, "manual_allow"
	case in.SecurityViolation:
		return uemapi.TunnelBlock, string(uemapi.ReasonSecurityViolation)
	case in.DeviceTunnelsBlocked:
		return uemapi.TunnelBlock, "device_tunnels_blocked"
	case !in.Registered && in.AutoBlockUnregistered:
		return uemapi.TunnelBlock, string(uemapi.ReasonUnregistered)
	case in.Registered && !in.AppAuthorized:
		return uemapi.TunnelBlock, "app_not_authorized"
	}
	return uemapi.TunnelAllow, string(uemapi.ReasonAllowed)
}
