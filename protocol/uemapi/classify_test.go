package uemapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/internal/loopback"
)

func TestClassifyClientErrors(t *testing.T) {
	// A UEM that refuses the gateway (401, 403, 429) is not one that is
	// down: only network errors, timeouts and 5xx are Unreachable, whether
	// the error body is the contract's JSON or not.
	// The base URL's first path segment says what to answer: /401/json
	// answers 401 with the contract's error body, /401/text without.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var status int
		var body string
		fmt.Sscanf(r.URL.Path, "/%d/%s", &status, &body)
		if strings.HasPrefix(body, "json") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"error":{"code":%q,"message":"m"}}`, codeForStatus(status))
			return
		}
		http.Error(w, http.StatusText(status), status)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		status int
		want   Failure
	}{
		{401, AuthRefused}, {403, AuthRefused}, {429, RateLimited},
		{400, Rejected}, {404, Rejected}, {409, Rejected},
		{500, Unreachable}, {502, Unreachable}, {503, Unreachable}, {504, Unreachable},
	} {
		for _, body := range []string{"json", "text"} {
			c, err := NewClient(fmt.Sprintf("%s/%d/%s", srv.URL, tc.status, body), "tok")
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ReportDevice(context.Background(), DeviceReport{EASDeviceID: "D", User: "u"})
			if got := Classify(err); got != tc.want {
				t.Errorf("%d (%s body): %v, want %v (err %v)", tc.status, body, got, tc.want, err)
			}
		}
	}

	// Network error: nothing listens (the port held, so that no other
	// test package's server is given it meanwhile).
	addr, release, err := loopback.Refusing()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	c, err := NewClient("http://"+addr, "tok")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Connectivity(context.Background()); Classify(err) != Unreachable {
		t.Errorf("connection refused: %v (%v)", Classify(err), err)
	}
	// Timeout.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, _ = NewClient(srv.URL, "tok")
	if _, err := c.Connectivity(ctx); Classify(err) != Unreachable {
		t.Errorf("cancelled call: %v (%v)", Classify(err), err)
	}
	if Classify(nil) != NoFailure || Classify(fmt.Errorf("wrapped: %w", &Error{Code: CodeUnauthorized})) != AuthRefused {
		t.Error("nil or a wrapped in-process error misclassified")
	}
	if Classify(errors.New("uemapi: decoding response: unexpected EOF")) != Unreachable {
		t.Error("an unreadable answer is not the UEM's answer")
	}
}
