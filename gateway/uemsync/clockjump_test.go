package uemsync

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync/uemsynctest"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// The gateway's wall clock jumps back an hour (an NTP step) with the
// replay memory full: the ids' windows, reckoned on the old clock, would
// hold every slot for an hour more and refuse every notification (503)
// meanwhile. Their windows restart on the new clock instead (replay
// protection kept for a whole window), so notifications are accepted again
// one window after the jump.
func TestNotificationMemoryRecoversAfterABackwardClockJump(t *testing.T) {
	clk := newClock()
	l, err := New(Config{UEM: uemsynctest.New(), Cache: devicecache.New(clk.now), FailOpen: true, Now: clk.now, MaxNotificationIDs: 3})
	if err != nil {
		t.Fatal(err)
	}
	h := l.NotificationHandler(notifySecret)
	for i := range 3 {
		if code := serve(h, signed(t, decision("n-"+strconv.Itoa(i), "D", uemapi.StateAllowed), clk.now())); code != http.StatusNoContent {
			t.Fatalf("notification %d: HTTP %d", i, code)
		}
	}
	clk.add(-time.Hour)
	if code := serve(h, signed(t, decision("n-3", "D", uemapi.StateBlocked), clk.now())); code != http.StatusServiceUnavailable {
		t.Fatalf("right after the jump, the memory full: HTTP %d, want 503", code)
	}
	clk.add(replayWindow + time.Second)
	if code := serve(h, signed(t, decision("n-3", "D", uemapi.StateBlocked), clk.now())); code != http.StatusNoContent {
		t.Fatalf("a window after a backward jump: HTTP %d, want the notification applied", code)
	}
}

// After a backward jump the devices seen since are still reported
// (ASA-06): the last report's time, now in the future, must not hide them
// until the clock catches up.
func TestLastSeenReportedAfterABackwardClockJump(t *testing.T) {
	u := uemsynctest.New()
	l, c, clk := newLink(t, u, true, nil)
	ctx := context.Background()
	l.Access(ctx, DeviceRequest{DeviceID: "D1", User: "u"})
	c.Touch(key("D1", "u"), "14.1")
	if n, err := l.ReportLastSeen(ctx); err != nil || n != 1 {
		t.Fatalf("first report: %d %v", n, err)
	}
	clk.add(-time.Hour)
	c.Touch(key("D1", "u"), "14.1")
	if n, err := l.ReportLastSeen(ctx); err != nil || n != 1 {
		t.Fatalf("report after a backward jump: sent %d %v, want the device seen since", n, err)
	}
}
