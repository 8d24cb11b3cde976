package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
)

// Errors come in the one shape of gatehouse's APIs,
// {"error":{"code","message"}}, for handler errors, the token check and
// unknown paths and methods alike; the client prints them as it always
// did ("admin: <status>: <message>", what `gatehouse ctl` shows).
func TestErrorsComeInTheOneShape(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		method, path, token string
		status              int
		code                string
	}{
		{"GET", Prefix + "device-cache?kind=bogus", "tok", 400, "bad_request"},
		{"GET", Prefix + "status", "wrong", 401, httpapi.CodeUnauthorized},
		{"GET", Prefix + "nothing-here", "tok", 404, httpapi.CodeNotFound},
		{"DELETE", Prefix + "status", "tok", 405, httpapi.CodeMethodNotAllowed},
		{"POST", Prefix + "device-cache/to-disk", "tok", 200, ""},
	} {
		req, _ := http.NewRequestWithContext(context.Background(), tc.method, e.c.base+tc.path, nil)
		req.Header.Set("Authorization", "Bearer "+tc.token)
		resp, err := e.c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: HTTP %d %s, want %d", tc.method, tc.path, resp.StatusCode, raw, tc.status)
			continue
		}
		if tc.code == "" {
			continue
		}
		var body httpapi.ErrorBody
		if err := json.Unmarshal(raw, &body); err != nil || body.Error == nil || body.Error.Code != tc.code || body.Error.Message == "" {
			t.Errorf("%s %s: body %s, want code %s", tc.method, tc.path, raw, tc.code)
		}
	}
	_, err := e.c.Dump(context.Background(), "bogus")
	if want := `admin: 400 Bad Request: kind "bogus": want all, active-sync or app-tunnel`; err == nil || err.Error() != want {
		t.Fatalf("client error %q, want %q", err, want)
	}
	var ae *httpapi.Error
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != "bad_request" {
		t.Fatalf("client error %#v does not carry the body", err)
	}
}
