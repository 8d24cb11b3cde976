package integrated

import (
	"slices"
	"strings"

	"github.com/gatehouse-lab/gatehouse/protocol/exmgmt"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// groupsOf are the groups that scope the sync: LDAP groups on premises
// (INT-02), Office 365 group DNs for hosted Exchange (INT-03). Empty: all.
func groupsOf(s *uemapi.IntegratedConfig) []string {
	if s.Hosted != nil {
		return s.O365Groups
	}
	return s.LDAPGroups
}

// inScope reports whether a mailbox's user is in one of the groups (DNs
// compare case-insensitively, spaces after commas ignored).
func inScope(m *exmgmt.Mailbox, groups []string) bool {
	if len(groups) == 0 {
		return true
	}
	for _, g := range m.Groups {
		if slices.ContainsFunc(groups, func(x string) bool { return normDN(x) == normDN(g) }) {
			return true
		}
	}
	return false
}

func normDN(dn string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(dn), ", ", ","))
}

func sameScope(a, b *uemapi.IntegratedConfig) bool {
	return slices.Equal(groupsOf(a), groupsOf(b)) && (a.Hosted == nil) == (b.Hosted == nil)
}

func keyOf(user, device string) devKey { return devKey{strings.ToLower(user), device} }
