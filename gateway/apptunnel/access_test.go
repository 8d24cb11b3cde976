package apptunnel

import (
	"net/http"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

func TestFLOW06FirstAccessAsksTheUEMThenUsesTheCache(t *testing.T) {
	w := newWorld(t)
	for i := range 3 {
		code, why, echo := w.get("http://"+w.backendHostPort()+"/a", app("com.example.browser"))
		if code != http.StatusOK || why != "" || echo["Path"] != "/a" {
			t.Fatalf("request %d: %d %q %v", i, code, why, echo)
		}
	}
	if w.uem.reportCount() != 1 {
		t.Fatalf("UEM asked %d times, want once (first access only)", w.uem.reportCount())
	}
	key, _ := Key(testUUID, "alice@corp.example", "com.example.browser")
	e, ok := w.cache.Get(key)
	if !ok || e.State != devicecache.Allowed || !e.Validated || e.ProtocolVersion != "V1" || e.Connections != 3 {
		t.Fatalf("tunnel record %+v %v", e, ok)
	}
}

func TestSCOPE10OneTunnelPerUserAppDevice(t *testing.T) {
	w := newWorld(t)
	w.get("http://"+w.backendHostPort()+"/", app("com.a"))
	w.get("http://"+w.backendHostPort()+"/", app("com.b"))
	if n := w.cache.Len(); n != 2 {
		t.Fatalf("%d records, want 2 (one per app)", n)
	}
}

func TestATM02BlockedTunnelRefused(t *testing.T) {
	w := newWorld(t)
	w.uem.set("com.bad", uemapi.TunnelBlock, "app_not_authorized")
	if code, why, _ := w.get("http://"+w.backendHostPort()+"/", app("com.bad")); code != http.StatusForbidden || why != string(ReasonTunnelBlocked) {
		t.Fatalf("%d %q", code, why)
	}
	w.uem.set("com.dev", uemapi.TunnelBlock, reasonDeviceBlocked)
	if code, why, _ := w.get("http://"+w.backendHostPort()+"/", app("com.dev")); code != http.StatusForbidden || why != string(ReasonDeviceBlocked) {
		t.Fatalf("%d %q", code, why)
	}
	if w.srv.Metrics().Refusals(ReasonTunnelBlocked) != 1 || w.srv.Metrics().Refusals(ReasonDeviceBlocked) != 1 {
		t.Fatal("refusals not counted")
	}
}

func TestFLOW07FailOpenThenResyncDecides(t *testing.T) {
	w := newWorld(t)
	w.uem.down(true)
	if code, _, _ := w.get("http://"+w.backendHostPort()+"/", app("com.x")); code != http.StatusOK {
		t.Fatalf("fail-open: %d", code)
	}
	key, _ := Key(testUUID, "alice@corp.example", "com.x")
	if e, _ := w.cache.Get(key); e.Validated {
		t.Fatal("a fail-open tunnel must not be validated")
	}
	w.uem.down(false)
	w.uem.set("com.x", uemapi.TunnelBlock, "manual_block")
	res, err := w.srv.cfg.Tunnels.Resync(t.Context())
	if err != nil || res.Resolved != 1 {
		t.Fatalf("resync %+v %v", res, err)
	}
	if code, why, _ := w.get("http://"+w.backendHostPort()+"/", app("com.x")); code != http.StatusForbidden || why != string(ReasonTunnelBlocked) {
		t.Fatalf("after resync: %d %q", code, why)
	}
}

func TestFLOW12ResyncDropsRemovedTunnels(t *testing.T) {
	w := newWorld(t)
	w.get("http://"+w.backendHostPort()+"/", app("com.x"))
	w.uem.setList(nil) // the UEM removed it (ATM-03) and the notification was lost
	res, err := w.srv.cfg.Tunnels.Resync(t.Context())
	if err != nil || res.Removed != 1 {
		t.Fatalf("resync %+v %v", res, err)
	}
	w.get("http://"+w.backendHostPort()+"/", app("com.x"))
	if w.uem.reportCount() != 2 {
		t.Fatalf("reports %d: a removed tunnel's next use must be a first access", w.uem.reportCount())
	}
}
