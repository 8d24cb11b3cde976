package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestMuxRoutesByMethodAndAnswersInTheErrorShape(t *testing.T) {
	m := NewMux()
	m.HandleFunc("GET /v1/things/{id}", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"id": r.PathValue("id")})
	})
	m.HandleFunc("DELETE /v1/things/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	m.HandleFunc("POST /v1/fail", func(w http.ResponseWriter, r *http.Request) { WriteError(w, errors.New("boom")) })
	for _, tc := range []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"GET", "/v1/things/7", 200, "", ""},
		{"HEAD", "/v1/things/7", 200, "", ""},
		{"DELETE", "/v1/things/7", 204, "", ""},
		{"PUT", "/v1/things/7", 405, CodeMethodNotAllowed, "GET, DELETE"},
		{"GET", "/v1/nothing", 404, CodeNotFound, ""},
		{"POST", "/v1/fail", 500, CodeInternal, ""},
	} {
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.status || rec.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q, want %d %q", tc.method, tc.path, rec.Code, rec.Header().Get("Allow"), tc.status, tc.allow)
			continue
		}
		if tc.code == "" {
			continue
		}
		var eb ErrorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Error == nil || eb.Error.Code != tc.code || eb.Error.Message == "" {
			t.Errorf("%s %s: body %s, want code %s", tc.method, tc.path, rec.Body, tc.code)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: Content-Type %q", tc.method, tc.path, ct)
		}
	}
	if got := (&Error{Code: "x", Field: "f", Message: "m"}).Error(); got != "x: f: m" {
		t.Errorf("Error() = %q", got)
	}
}
