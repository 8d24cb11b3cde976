package uemsync

import (
	"context"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync/uemsynctest"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

func TestFO01RefusedGatewayIsNotFailOpen(t *testing.T) {
	// A UEM that refuses the gateway (bad token, gateway not configured,
	// rate limit) is up: a new device is kept out, never let in by
	// fail-open, and the status says why.
	for _, tc := range []struct {
		name   string
		err    *uemapi.Error
		reason string
	}{
		{"401", &uemapi.Error{Status: 401, Code: uemapi.CodeUnauthorized, Message: "unknown gateway token"}, "uem refused the gateway's credentials (401)"},
		{"403", &uemapi.Error{Status: 403, Code: uemapi.CodeInternal, Message: "Forbidden"}, "uem refused the gateway's credentials (403)"},
		{"401 in process", &uemapi.Error{Code: uemapi.CodeUnauthorized}, "uem refused the gateway's credentials (401)"},
		{"429", &uemapi.Error{Status: 429, Code: uemapi.CodeInternal, Message: "Too Many Requests"}, "uem rate limited the gateway (429)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := uemsynctest.New()
			l, c, _ := newLink(t, u, true, nil) // fail-open Allow
			ctx := context.Background()
			if err := l.Check(ctx, ByPeriodicCheck); err != nil {
				t.Fatal(err)
			}
			lists := u.ListCalls()
			u.SetFailure(tc.err)
			o := l.Access(ctx, DeviceRequest{DeviceID: "NEW", User: "u"})
			if !o.Blocked || o.FailOpen || c.Len() != 0 {
				t.Fatalf("new device while the UEM refuses the gateway: %+v, cache %d; want blocked, not fail-open, nothing cached", o, c.Len())
			}
			st := l.Status()
			if st.Refusal != tc.reason || st.RefusedSince.IsZero() {
				t.Fatalf("status refusal %q, want %q", st.Refusal, tc.reason)
			}
			if !st.Connected || st.LastChangeBy != ByPeriodicCheck {
				t.Fatalf("a refusal flipped connectivity: %+v", st)
			}
			if err := l.Check(ctx, ByPeriodicCheck); err == nil || !l.Status().Connected {
				t.Fatalf("check while refused: %v, %+v", err, l.Status())
			}
			if _, err := l.Resync(ctx); err == nil || !l.Status().Connected {
				t.Fatal("resync while refused flipped connectivity")
			}

			u.SetFailure(nil)
			if err := l.Check(ctx, ByPeriodicCheck); err != nil {
				t.Fatal(err)
			}
			if st := l.Status(); st.Refusal != "" || !st.Connected {
				t.Fatalf("status after the UEM accepts the gateway again: %+v", st)
			}
			if u.ListCalls() != lists { // the fake counts the lists it served
				t.Fatalf("the end of a refusal ran the reconnect work (%d list calls, want %d)", u.ListCalls(), lists)
			}
			if o := l.Access(ctx, DeviceRequest{DeviceID: "NEW", User: "u"}); o.Blocked || !o.Entry.Validated || o.FailOpen {
				t.Fatalf("after the refusal: %+v", o)
			}
		})
	}
}

func TestFO01UnreachableUEMStillFailsOpen(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"503", &uemapi.Error{Status: 503, Code: uemapi.CodeUnavailable, Message: "unavailable"}},
		{"500 in process", &uemapi.Error{Code: uemapi.CodeInternal}},
		{"network error", uemsynctest.ErrDown},
		{"timeout", context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := uemsynctest.New()
			l, c, _ := newLink(t, u, true, nil)
			u.SetFailure(tc.err)
			o := l.Access(context.Background(), DeviceRequest{DeviceID: "NEW", User: "u"})
			if o.Blocked || !o.FailOpen || o.Entry.Validated || c.Len() != 1 {
				t.Fatalf("fail-open outcome %+v", o)
			}
			if st := l.Status(); st.Connected || st.Refusal != "" {
				t.Fatalf("status %+v, want not connected and no refusal", st)
			}
		})
	}
}

func TestRefusalAtInitReloadsOnceAccepted(t *testing.T) {
	// Started while refused, the gateway runs on its persistent list; the
	// first accepted call must load the UEM's list (reconnect work).
	u := uemsynctest.New()
	u.Set("D", "u", uemapi.StateAllowed, "")
	u.SetFailure(&uemapi.Error{Status: 401, Code: uemapi.CodeUnauthorized})
	l, c, _ := newLink(t, u, true, nil)
	ctx := context.Background()
	if res, _ := l.Init(ctx); res.FromUEM {
		t.Fatal("init from a refusing UEM")
	}
	if st := l.Status(); st.Connected || st.Refusal == "" || st.LastChangeBy != ByInit {
		t.Fatalf("status at init %+v", st)
	}
	u.SetFailure(nil)
	if err := l.Check(ctx, ByPeriodicCheck); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(key("D", "u")); !ok {
		t.Fatal("allowed list not loaded once the UEM accepted the gateway")
	}
}

func TestWipeAckKeptWhileRefused(t *testing.T) {
	u := uemsynctest.New()
	u.Set("D", "u", uemapi.StateWiped, "")
	l, _, _ := newLink(t, u, true, nil)
	ctx := context.Background()
	l.Access(ctx, DeviceRequest{DeviceID: "D", User: "u"})
	u.SetFailure(&uemapi.Error{Status: 429, Code: uemapi.CodeInternal})
	l.WipeDelivered(ctx, key("D", "u"))
	l.retryWipeAcks(ctx) // refused again: kept
	u.SetFailure(nil)
	if _, err := l.Resync(ctx); err != nil {
		t.Fatal(err)
	}
	if acks := u.Acks(); len(acks) != 1 || acks[0].EASDeviceID != "D" {
		t.Fatalf("acks %+v: a refused acknowledgement was dropped", acks)
	}
	if o := l.Access(ctx, DeviceRequest{DeviceID: "D", User: "u"}); !o.Blocked || o.Entry.State != devicecache.Blocked {
		t.Fatalf("%+v", o)
	}
}
