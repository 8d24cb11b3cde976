package eas

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// printable reports whether s is UTF-8 without control characters (C0,
// DEL, C1) or format characters (Cf: bidi overrides, zero-width joiners),
// the rule gateway/identity applies to user names.
func printable(s string) bool {
	for i, r := range s {
		if r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") {
			return false
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return true
}

// checkText accepts UTF-8 without control characters: these values end up
// in logs and in the device cache, where a stray CR or ESC does harm.
func checkText(v string, maxLen int, allowEmpty bool) error {
	if v == "" {
		if allowEmpty {
			return nil
		}
		return fmt.Errorf("%w: empty", ErrInvalidValue)
	}
	if len(v) > maxLen {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrInvalidValue, len(v), maxLen)
	}
	for i, r := range v {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(v[i:], "\uFFFD"):
			return fmt.Errorf("%w: invalid UTF-8 at byte %d", ErrInvalidValue, i)
		case r < 0x20, r >= 0x7F && r < 0xA0:
			return fmt.Errorf("%w: control character %U at byte %d", ErrInvalidValue, r, i)
		}
	}
	return nil
}

// badQueryByte returns the offset of the first byte that allowed rejects, or
// of the first malformed percent escape, and why; -1 if there is none.
func badQueryByte(raw string, allowed func(byte) bool) (int, string) {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '%' {
			if i+2 >= len(raw) || !isHex(raw[i+1]) || !isHex(raw[i+2]) {
				return i, "malformed percent escape"
			}
			i += 2
			continue
		}
		if !allowed(c) {
			return i, fmt.Sprintf("byte %q not allowed here", c)
		}
	}
	return -1, ""
}

// isQueryChar accepts what RFC 3986 allows raw in a query ('%' is handled
// by the caller): unreserved, sub-delims, ':', '@', '/' and '?'.
func isQueryChar(c byte) bool {
	switch c {
	case '-', '.', '_', '~', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '@', '/', '?':
		return true
	}
	return isAlnum(c)
}

func isBase64Char(c byte) bool {
	return isAlnum(c) || c == '+' || c == '/' || c == '='
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// clip shortens user-supplied text quoted in an error.
func clip(s string) string {
	const max = 40
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
