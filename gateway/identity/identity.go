// Package identity turns the many spellings of one user ("CORP\alice",
// "alice@corp.example", "ALICE") into the one key the device cache, the
// statistics and the UEM use, and checks names for characters that must
// never reach the cache, a log or a terminal.
//
// The gateway keys every device on the user that Exchange or the device
// certificate authenticated, never on what the query claims (DESIGN.md,
// Identity). A user name is normalised here and nowhere else.
package identity

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLen bounds a user name or device id, in bytes (MS-ASHTTP allows
// 32-character device ids; user names are longer, UPNs at most 256).
const MaxLen = 256

// ErrEmpty is returned for an empty name.
var ErrEmpty = errors.New("identity: empty")

// Normalize returns the canonical form of a user name: the logon name
// without its domain, lower-cased. "CORP\alice", "alice@corp.example"
// and "Alice" are all "alice". The gateway models one Active Directory
// forest whose logon names are the local parts of the users' addresses
// (docs/security.md, Identity); a name that would still be invalid after
// normalisation is an error.
func Normalize(user string) (string, error) {
	if err := Check(user); err != nil {
		return "", err
	}
	u := strings.TrimSpace(user)
	if i := strings.LastIndexByte(u, '\\'); i >= 0 {
		u = u[i+1:]
	}
	if i := strings.IndexByte(u, '@'); i >= 0 {
		u = u[:i]
	}
	u = strings.ToLower(u)
	if u == "" {
		return "", fmt.Errorf("identity: %q has no user part", user)
	}
	return u, nil
}

// Equal reports whether two spellings name the same user.
func Equal(a, b string) bool {
	na, errA := Normalize(a)
	nb, errB := Normalize(b)
	return errA == nil && errB == nil && na == nb
}

// Check refuses a name that is empty, too long, not UTF-8, or holds a
// control or format character (newline, ESC, NUL, bidi overrides): such
// a name would reach the cache, the persistent list and `ctl` output.
func Check(s string) error {
	if s == "" {
		return ErrEmpty
	}
	if len(s) > MaxLen {
		return fmt.Errorf("identity: longer than %d bytes", MaxLen)
	}
	if !utf8.ValidString(s) {
		return errors.New("identity: not UTF-8")
	}
	for i, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return fmt.Errorf("identity: control character %U at byte %d", r, i)
		}
	}
	return nil
}
