package admin

import (
	"net/http"
	"testing"
)

// The admin API takes its token under any case of the Bearer scheme (RFC
// 9110 11.1: an independent client may send "bearer"), and nothing but
// the whole token: not a prefix, not the token with more after it, not
// an empty one, not under another scheme.
func TestAdminTokenScheme(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		header string
		want   int
	}{
		{"Bearer tok", http.StatusOK},
		{"bearer tok", http.StatusOK},
		{"BEARER tok", http.StatusOK},
		{"", http.StatusUnauthorized},
		{"Bearer ", http.StatusUnauthorized},
		{"Bearer to", http.StatusUnauthorized},
		{"Bearer tokx", http.StatusUnauthorized},
		{"Basic dG9rOnRvaw==", http.StatusUnauthorized},
	} {
		req, _ := http.NewRequest(http.MethodGet, e.c.base+Prefix+"status", nil)
		if tc.header != "" {
			req.Header.Set("Authorization", tc.header)
		}
		resp, err := e.c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%q: HTTP %d, want %d", tc.header, resp.StatusCode, tc.want)
		}
	}
}
