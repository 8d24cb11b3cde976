package faults

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// putSpecs sends body to AdminHandler's PUT (as a fake's admin route).
func putSpecs(t *testing.T, in *Injector, body string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	in.AdminHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodPut, "/faults", bytes.NewBufferString(body)))
	return rec.Code, rec.Body.String()
}

func TestMessageVerdicts(t *testing.T) {
	for name, tc := range map[string]struct {
		body string
		want Verdict
	}{
		"none":      {`{"faults":[]}`, Verdict{}},
		"down":      {`{"faults":[{"type":"down"}]}`, Verdict{Drop: true}},
		"reset":     {`{"faults":[{"type":"reset"}]}`, Verdict{Drop: true}},
		"error":     {`{"faults":[{"type":"error"}]}`, Verdict{Status: 503}},
		"error 403": {`{"faults":[{"type":"error","direction":"upstream","attributes":{"status":403}}]}`, Verdict{Status: 403}},
		"latency 0": {`{"faults":[{"type":"latency","attributes":{"delay_ms":0}},{"type":"error","attributes":{"status":500}}]}`, Verdict{Status: 500}},
		"conn kind": {`{"faults":[{"type":"slicer","attributes":{"average_size":10}}]}`, Verdict{}},
	} {
		t.Run(name, func(t *testing.T) {
			in := New(1)
			if code, body := putSpecs(t, in, tc.body); code != http.StatusOK {
				t.Fatalf("PUT %s: %d %s", tc.body, code, body)
			}
			if got := in.Message(context.Background()); got != tc.want {
				t.Fatalf("verdict %+v, want %+v", got, tc.want)
			}
		})
	}
}

// A hang holds the message until the fault ends (it is then handled),
// or drops it when the caller gives up.
func TestMessageHangEndsWithTheFaultOrTheCaller(t *testing.T) {
	in := New(1)
	if code, body := putSpecs(t, in, `{"faults":[{"type":"hang"}]}`); code != http.StatusOK {
		t.Fatalf("PUT: %d %s", code, body)
	}
	got := make(chan Verdict, 1)
	go func() { got <- in.Message(context.Background()) }()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if v := in.Message(ctx); !v.Drop {
		t.Fatalf("a caller that gave up: %+v, want Drop", v)
	}
	rec := httptest.NewRecorder()
	in.AdminHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodDelete, "/faults", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("DELETE: %d", rec.Code)
	}
	if v := <-got; v != (Verdict{}) {
		t.Fatalf("after the hang ended: %+v, want handled", v)
	}
}

func TestAdminHandlerRejectsUnknownFields(t *testing.T) {
	in := New(1)
	for body, field := range map[string]string{
		`{"faults":[{"type":"latency","attributes":{"delay":5}}]}`: "delay",
		`{"faults":[{"type":"explode"}]}`:                          "type",
		`{"fault":[]}`:                                             "fault",
	} {
		code, answer := putSpecs(t, in, body)
		if code != http.StatusBadRequest || !strings.Contains(answer, field) {
			t.Errorf("PUT %s: %d %s, want 400 naming %q", body, code, answer, field)
		}
	}
}
