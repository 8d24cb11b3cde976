package eas

import (
	"cmp"
	"fmt"
)

// Version is an ActiveSync protocol version. Its value is the one-byte form
// that the base64-encoded query carries (MS-ASHTTP 2.2.1.1.1.1), so 141 is
// 14.1 and versions order numerically.
type Version uint8

// The protocol versions this package speaks. 2.5 and 12.0 are left out on
// purpose: they cannot use the base64 query and carry wire formats (string
// policy data, email:Attachments) no modern device sends.
const (
	V121 Version = 121
	V140 Version = 140
	V141 Version = 141
	V160 Version = 160
	V161 Version = 161
)

// Versions returns the supported versions, oldest first, as a fresh slice
// the caller may modify.
func Versions() []Version {
	return []Version{V121, V140, V141, V160, V161}
}

// ParseVersion parses the dotted form used in the MS-ASProtocolVersion and
// MS-ASProtocolVersions headers, such as "14.1".
func ParseVersion(s string) (Version, error) {
	v, err := parseVersion(s)
	if err != nil {
		return 0, fmt.Errorf("eas: %w", err)
	}
	return v, nil
}

// parseVersion is ParseVersion without the package prefix, for callers that
// add their own context.
func parseVersion(s string) (Version, error) {
	switch s {
	case "12.1":
		return V121, nil
	case "14.0":
		return V140, nil
	case "14.1":
		return V141, nil
	case "16.0":
		return V160, nil
	case "16.1":
		return V161, nil
	}
	return 0, fmt.Errorf("%w %q (supported: 12.1, 14.0, 14.1, 16.0, 16.1)", ErrUnsupportedVersion, clip(s))
}

// VersionFromByte validates the protocol version byte of a base64 query.
func VersionFromByte(b byte) (Version, error) {
	v := Version(b)
	if !v.Valid() {
		return 0, fmt.Errorf("eas: %w: byte %d (supported: 121, 140, 141, 160, 161)", ErrUnsupportedVersion, b)
	}
	return v, nil
}

// Valid reports whether v is one of the supported versions.
func (v Version) Valid() bool {
	switch v {
	case V121, V140, V141, V160, V161:
		return true
	}
	return false
}

// Byte returns the one-byte form used in the base64 query.
func (v Version) Byte() byte { return byte(v) }

// Compare returns -1, 0 or +1 as v is older than, equal to or newer than w.
func (v Version) Compare(w Version) int { return cmp.Compare(v, w) }

// String returns the dotted form, such as "14.1"; an invalid value prints
// as Version(n) so that it is never mistaken for a real one.
func (v Version) String() string {
	switch v {
	case V121:
		return "12.1"
	case V140:
		return "14.0"
	case V141:
		return "14.1"
	case V160:
		return "16.0"
	case V161:
		return "16.1"
	}
	return fmt.Sprintf("Version(%d)", uint8(v))
}

// MarshalText encodes v in dotted form, for configuration and JSON.
func (v Version) MarshalText() ([]byte, error) {
	if !v.Valid() {
		return nil, fmt.Errorf("eas: marshal version: %w: byte %d", ErrUnsupportedVersion, uint8(v))
	}
	return []byte(v.String()), nil
}

// UnmarshalText decodes the dotted form.
func (v *Version) UnmarshalText(b []byte) error {
	parsed, err := parseVersion(string(b))
	if err != nil {
		return fmt.Errorf("eas: unmarshal version: %w", err)
	}
	*v = parsed
	return nil
}
