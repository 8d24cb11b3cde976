package admin

import "github.com/gatehouse-lab/gatehouse/gateway/identity"

// spellings returns the user names an operator's argument may stand for:
// itself, and its normalised form (identity.Normalize), which is how the
// gateway keys devices since issue 18. "alice@corp.example" and
// "CORP\alice" thus find alice's entries, as the UPN found them before.
func spellings(user string) []string {
	if n, err := identity.Normalize(user); err == nil && n != user {
		return []string{user, n}
	}
	return []string{user}
}

// anySpelling reports whether fn holds for one of user's spellings.
func anySpelling(user string, fn func(string) bool) bool {
	for _, u := range spellings(user) {
		if fn(u) {
			return true
		}
	}
	return false
}
