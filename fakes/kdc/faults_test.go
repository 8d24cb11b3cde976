package kdc

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/errorcode"

	"github.com/gatehouse-lab/gatehouse/protocol/kerberos"
)

func TestKDC04_FaultDownGivesNoAnswer(t *testing.T) {
	s := corpLab(t)
	s.SetFaults(Faults{Down: true})
	for _, udp := range []bool{false, true} {
		c := sentryClient(map[string]string{corp: s.Addr()})
		c.Transport = netTransport{addrs: map[string]string{corp: s.Addr()}, udp: udp}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		_, err := c.Login(ctx)
		cancel()
		if err == nil {
			t.Fatalf("udp=%v: login succeeded against a down KDC", udp)
		}
		if _, ok := kerberos.ErrorCode(err); ok {
			t.Fatalf("udp=%v: got a KRB-ERROR %v from a down KDC", udp, err)
		}
	}
	s.SetFaults(Faults{})
	if _, err := sentryClient(map[string]string{corp: s.Addr()}).Login(ctxT(t)); err != nil {
		t.Fatalf("after clearing faults: %v", err)
	}
}

func TestKDC04_FaultErrorCodeAndSlow(t *testing.T) {
	s := corpLab(t)
	s.SetFaults(Faults{ErrorCode: errorcode.KDC_ERR_SVC_UNAVAILABLE})
	_, err := sentryClient(map[string]string{corp: s.Addr()}).Login(ctxT(t))
	wantCode(t, err, errorcode.KDC_ERR_SVC_UNAVAILABLE)

	const delay = 150 * time.Millisecond
	s.SetFaults(Faults{Delay: delay})
	start := time.Now()
	if _, err := sentryClient(map[string]string{corp: s.Addr()}).Login(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 2*delay { // two AS round trips
		t.Fatalf("login took %v with a %v delay per reply", el, delay)
	}
	ctx, cancel := context.WithTimeout(context.Background(), delay/2)
	defer cancel()
	_, err = sentryClient(map[string]string{corp: s.Addr()}).Login(ctx)
	if !errors.Is(err, context.DeadlineExceeded) && !isTimeout(err) {
		t.Fatalf("slow KDC with a short deadline: %v, want a timeout", err)
	}
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// Over UDP, UDPTooBig answers KRB_ERR_RESPONSE_TOO_BIG; TCP is unaffected.
func TestKDC04_UDPTooBigForcesTCP(t *testing.T) {
	s := corpLab(t)
	s.SetFaults(Faults{UDPTooBig: true})
	c := sentryClient(map[string]string{corp: s.Addr()})
	c.Transport = netTransport{addrs: map[string]string{corp: s.Addr()}, udp: true}
	_, err := c.Login(ctxT(t))
	wantCode(t, err, errorcode.KRB_ERR_RESPONSE_TOO_BIG)
	if _, err := sentryClient(map[string]string{corp: s.Addr()}).Login(ctxT(t)); err != nil {
		t.Fatalf("TCP with UDPTooBig: %v", err)
	}
	if st := s.Stats(); st.UDP == 0 || st.TCP == 0 {
		t.Fatalf("stats %+v, want both UDP and TCP requests on one port", st)
	}
}
