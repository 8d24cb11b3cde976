package httpapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type apiError struct{ status int }

func (e *apiError) Error() string { return "api error" }

func TestCall(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{}}`)
			return
		}
		switch r.URL.Path {
		case "/v1/echo":
			b, _ := io.ReadAll(r.Body)
			w.Write(b)
		case "/v1/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/v1/plain-error":
			http.Error(w, "boom", http.StatusTeapot)
		case "/v1/big":
			io.WriteString(w, `"`+strings.Repeat("x", 100)+`"`)
		case "/v1/garbage":
			io.WriteString(w, "{")
		}
	}))
	defer srv.Close()
	c := Caller{Name: "test admin", Base: srv.URL + "/v1", Token: "tok", HC: srv.Client(), MaxAnswer: 64,
		APIError: func(status int, raw []byte) error {
			if strings.HasPrefix(string(raw), `{"error"`) {
				return &apiError{status}
			}
			return nil
		}}

	var out map[string]int
	if err := c.Call(ctx, http.MethodPost, "/echo", map[string]int{"a": 1}, &out); err != nil || out["a"] != 1 {
		t.Fatalf("echo: %v %v", out, err)
	}
	if err := c.Call(ctx, http.MethodDelete, "/empty", nil, &out); err != nil {
		t.Fatalf("204: %v", err)
	}
	for _, tc := range []struct {
		path, token, want string
		api               bool
	}{
		{"/echo", "wrong", "test admin POST /echo: api error", true},
		{"/plain-error", "tok", "test admin POST /plain-error: 418 I'm a teapot: boom", false},
		{"/big", "tok", "decoding the answer", false}, // cut at MaxAnswer
		{"/garbage", "tok", "decoding the answer", false},
	} {
		c := c
		c.Token = tc.token
		var s string
		err := c.Call(ctx, http.MethodPost, tc.path, struct{}{}, &s)
		var ae *apiError
		if err == nil || !strings.Contains(err.Error(), tc.want) || errors.As(err, &ae) != tc.api {
			t.Errorf("%s: %v, want %q (typed %v)", tc.path, err, tc.want, tc.api)
		}
		if tc.api && ae.status != http.StatusUnauthorized {
			t.Errorf("%s: status %d in the typed error", tc.path, ae.status)
		}
	}
	if err := (&Caller{Name: "x", Base: "http://127.0.0.1:1", HC: http.DefaultClient, MaxAnswer: 1}).Call(ctx, http.MethodGet, "/", nil, nil); err == nil {
		t.Error("a closed port answered")
	}
}

// The caller's context bounds the call (no hidden Background context), and
// without an APIError hook the one error shape comes back as *Error.
func TestCallHonoursContextAndParsesTheErrorShape(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/hang" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		WriteError(w, FieldError("name", "required"))
	}))
	defer srv.Close()
	defer close(release)
	c := Caller{Name: "t", Base: srv.URL + "/v1", HC: srv.Client(), MaxAnswer: 1 << 10}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Call(ctx, http.MethodGet, "/hang", nil, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call: %v, want context.Canceled", err)
	}
	var e *Error
	err := c.Call(context.Background(), http.MethodPost, "/x", struct{}{}, nil)
	if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Code != CodeInvalidField || e.Field != "name" {
		t.Fatalf("error answer: %v (%+v)", err, e)
	}
}
