package httpapi

import (
	"net/http"
	"testing"
)

// The Bearer scheme is matched case-insensitively (RFC 9110 11.1); a
// missing, empty, prefixed, extended or other-scheme credential is not
// the token.
func TestBearerMatches(t *testing.T) {
	const want = "0123456789abcdef"
	for _, tc := range []struct {
		header string
		ok     bool
	}{
		{"Bearer " + want, true},
		{"bearer " + want, true},
		{"BEARER " + want, true},
		{"Bearer   " + want + "  ", true},
		{"", false},
		{"Bearer", false},
		{"Bearer ", false},
		{"Bearer " + want[:8], false},
		{"Bearer " + want + "0", false},
		{"Bearer0123456789abcdef", false},
		{"Basic " + want, false},
		{"Token " + want, false},
	} {
		h := http.Header{}
		if tc.header != "" {
			h.Set("Authorization", tc.header)
		}
		if got := BearerMatches(h, want); got != tc.ok {
			t.Errorf("%q: %v, want %v", tc.header, got, tc.ok)
		}
	}
	if BearerMatches(http.Header{"Authorization": {"Bearer "}}, "") {
		t.Error("an empty token matched an empty configured token")
	}
}
