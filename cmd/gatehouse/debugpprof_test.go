package main

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// GATEHOUSE_DEBUG_PPROF accepts loopback addresses only, and serves the
// heap profile's text form there.
func TestDebugPprofLoopbackOnly(t *testing.T) {
	for _, bad := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "localhost", "example.com:0"} {
		if ln, err := debugPprofListen(bad); err == nil {
			ln.Close()
			t.Errorf("%q accepted", bad)
		}
	}
	ln, err := debugPprofListen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	w := httptest.NewRecorder()
	debugPprofMux().ServeHTTP(w, httptest.NewRequest("GET", "/debug/pprof/heap?debug=1", nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), "# HeapInuse = ") {
		t.Errorf("heap: %d %.200q", w.Code, w.Body.String())
	}
}
