package kdc

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/errorcode"

	"github.com/gatehouse-lab/gatehouse/protocol/kerberos"
)

// setSpecs sets the KDC's shared faults as raw faults.Spec JSON, through
// the admin handler a fake's admin route mounts.
func setSpecs(t *testing.T, s *Server, method, body string) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.FaultInjector().AdminHandler().ServeHTTP(rec, httptest.NewRequest(method, "/faults", bytes.NewBufferString(body)))
	if rec.Code != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, body, rec.Code, rec.Body)
	}
}

// KDC-04 through the shared fault layer: error answers
// KDC_ERR_SVC_UNAVAILABLE, down gives no answer over UDP and TCP, a hang
// holds the login until the fault ends.
func TestKDC04_SharedFaults(t *testing.T) {
	s := corpLab(t)
	addrs := map[string]string{corp: s.Addr()}

	setSpecs(t, s, http.MethodPut, `{"faults":[{"type":"error","attributes":{"status":503}}]}`)
	_, err := sentryClient(addrs).Login(ctxT(t))
	wantCode(t, err, errorcode.KDC_ERR_SVC_UNAVAILABLE)

	setSpecs(t, s, http.MethodPut, `{"faults":[{"type":"down"}]}`)
	for _, udp := range []bool{false, true} {
		c := sentryClient(addrs)
		c.Transport = netTransport{addrs: addrs, udp: udp}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		_, err := c.Login(ctx)
		cancel()
		if _, isKRB := kerberos.ErrorCode(err); err == nil || isKRB {
			t.Fatalf("udp=%v: login against a down KDC: %v, want no answer", udp, err)
		}
	}

	setSpecs(t, s, http.MethodPut, `{"faults":[{"type":"hang"}]}`)
	done := make(chan error, 1)
	go func() {
		_, err := sentryClient(addrs).Login(ctxT(t))
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("login answered during a hang: %v", err)
	default:
	}
	setSpecs(t, s, http.MethodDelete, "")
	if err := <-done; err != nil {
		t.Fatalf("login after the hang ended: %v", err)
	}
}
