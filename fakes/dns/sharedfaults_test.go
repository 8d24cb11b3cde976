package dns

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// setSpecs sets the server's shared faults as raw faults.Spec JSON,
// through the admin handler a fake's admin route mounts.
func setSpecs(t *testing.T, s *Server, method, body string) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.FaultInjector().AdminHandler().ServeHTTP(rec, httptest.NewRequest(method, "/faults", bytes.NewBufferString(body)))
	if rec.Code != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, body, rec.Code, rec.Body)
	}
}

// KDC-04 through the shared fault layer: error 5xx is SERVFAIL and 4xx
// REFUSED, down drops the query, a hang holds it until the fault ends.
func TestKDC04_SharedFaults(t *testing.T) {
	s := startDNS(t)
	for body, rcode := range map[string]int{
		`{"faults":[{"type":"error"}]}`:                             mdns.RcodeServerFailure,
		`{"faults":[{"type":"error","attributes":{"status":403}}]}`: mdns.RcodeRefused,
	} {
		setSpecs(t, s, http.MethodPut, body)
		if r := query(t, s, "udp", "kdc1.corp.example", mdns.TypeA); r.Rcode != rcode {
			t.Fatalf("%s: rcode %s, want %s", body, mdns.RcodeToString[r.Rcode], mdns.RcodeToString[rcode])
		}
	}

	setSpecs(t, s, http.MethodPut, `{"faults":[{"type":"down"}]}`)
	c := &mdns.Client{Net: "udp", Timeout: 200 * time.Millisecond}
	m := new(mdns.Msg)
	m.SetQuestion("kdc1.corp.example.", mdns.TypeA)
	if _, _, err := c.Exchange(m, s.Addr()); err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("query to a down server: %v, want a timeout", err)
	}

	setSpecs(t, s, http.MethodPut, `{"faults":[{"type":"hang"}]}`)
	got := make(chan *mdns.Msg, 1)
	go func() {
		c := &mdns.Client{Net: "tcp", Timeout: 30 * time.Second}
		r, _, err := c.Exchange(m, s.Addr())
		if err != nil {
			t.Error(err)
		}
		got <- r
	}()
	select {
	case r := <-got:
		t.Fatalf("answered during a hang: %v", r)
	default:
	}
	setSpecs(t, s, http.MethodDelete, "")
	if r := <-got; r == nil || r.Rcode != mdns.RcodeSuccess || len(r.Answer) == 0 {
		t.Fatalf("after the hang ended: %v", r)
	}
}
