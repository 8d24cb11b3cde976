package httplimit

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A body over the bound is answered 413 whether the client declared its
// length or streamed it, and whatever the handler made of the failed
// read; other failures keep their own status.
func TestBodyOverTheLimitIs413(t *testing.T) {
	decode := Body(16, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	srv := httptest.NewServer(decode)
	defer srv.Close()
	big := `{"k":"` + strings.Repeat("x", 64) + `"}`
	for _, tc := range []struct {
		name    string
		body    io.Reader
		chunked bool
		want    int
	}{
		{"declared length over the limit", strings.NewReader(big), false, http.StatusRequestEntityTooLarge},
		{"streamed over the limit", strings.NewReader(big), true, http.StatusRequestEntityTooLarge},
		{"within the limit", strings.NewReader(`{"k":1}`), false, http.StatusNoContent},
		{"malformed, within the limit", strings.NewReader(`{"k":`), false, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			if tc.chunked {
				body = io.MultiReader(body) // hides the length: sent chunked
			}
			req, _ := http.NewRequest(http.MethodPost, srv.URL, body)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}
