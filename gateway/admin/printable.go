package admin

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Printable returns s as it is when a terminal would show it as text,
// else its Go-quoted form ("dev\nX", "\x1b[2J"): control and format
// characters, invalid UTF-8 and tabs (which would also shift table
// columns) never reach the operator's terminal raw. Values in a device
// cache table come from devices, so every table goes through it.
func Printable(s string) string {
	if isPrintable(s) {
		return s
	}
	return strconv.Quote(s)
}

func isPrintable(s string) bool {
	for i, r := range s {
		if r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") {
			return false
		}
		if !strconv.IsPrint(r) {
			return false
		}
	}
	return true
}
