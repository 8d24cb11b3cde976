package uem

import (
	"slices"
	"strings"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// The mailbox index: the associations of each mailbox, in a list through
// the associations, for the per-mailbox device limit.

func (s *store) mailboxOf(a *assoc) string {
	if a.user != nil {
		return a.user.MailboxID
	}
	return strings.ToLower(a.userName)
}

// mailboxHead returns the first association of a's mailbox: known users
// hold their list themselves, unknown ones are indexed by name.
func (s *store) mailboxHead(mailbox string, u *User) *assoc {
	if u != nil {
		return u.mbHead
	}
	return s.mailboxes[mailbox]
}

func (s *store) setMailboxHead(a *assoc, head *assoc) {
	switch {
	case a.user != nil:
		a.user.mbHead = head
	case head == nil:
		delete(s.mailboxes, s.mailboxOf(a))
	default:
		s.mailboxes[s.mailboxOf(a)] = head
	}
}

func (s *store) mailboxLink(a *assoc) {
	head := s.mailboxHead(s.mailboxOf(a), a.user)
	a.mbNext = head
	if head != nil {
		head.mbPrev = a
	}
	s.setMailboxHead(a, a)
}

func (s *store) mailboxUnlink(a *assoc) {
	if a.mbPrev != nil {
		a.mbPrev.mbNext = a.mbNext
	} else {
		s.setMailboxHead(a, a.mbNext)
	}
	if a.mbNext != nil {
		a.mbNext.mbPrev = a.mbPrev
	}
	a.mbPrev, a.mbNext = nil, nil
}

// mailboxLimit returns the device limit of the policy applied to the
// mailbox: an active policy listing the mailbox (lowest id first), else the
// Default ActiveSync Policy (ASP-13, ASP-15).
func (s *store) mailboxLimit(mailbox string) int {
	var best *uemapi.ActiveSyncPolicy
	for _, p := range s.policies {
		if p.Status != uemapi.PolicyActive || !slices.Contains(p.ApplyToMailboxes, mailbox) {
			continue
		}
		if best == nil || p.ID < best.ID {
			best = p
		}
	}
	if best == nil {
		best = s.policies[uemapi.DefaultPolicyID]
		if best.Status != uemapi.PolicyActive {
			return 0
		}
	}
	return best.MaxDevicesPerMailbox
}

func (s *store) mailboxAllowed(mailbox string, u *User, except *assoc) int {
	n := 0
	for a := s.mailboxHead(mailbox, u); a != nil; a = a.mbNext {
		if a != except && a.State() == uemapi.StateAllowed {
			n++
		}
	}
	return n
}
