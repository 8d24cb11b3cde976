package loadgen

import (
	"testing"
	"time"
)

// TestResyncPartsEndOnWhatTheyMeasured: the resync preset's parts last
// their least length and until they measured the fleet (the resyncs'
// part until a resync completed too), however late that comes; the
// windows are the seconds between the parts' ends.
func TestResyncPartsEndOnWhatTheyMeasured(t *testing.T) {
	rep := &ResyncReport{}
	rp := newResyncParts(phases{before: 2 * time.Second, during: 2 * time.Second, after: 2 * time.Second}, 3, rep)
	var series []Point
	tick := func(tt int, ops int64) bool {
		p := Point{T: tt, Ops: ops, Devices: 3}
		series = append(series, p)
		return rp.tick(p, nil)
	}
	started := func() bool {
		select {
		case <-rp.start:
			return true
		default:
			return false
		}
	}
	// Every device arrived at 1; "before" holds at least one whole
	// second: from 1 (its length less one) on. No operation yet.
	for tt := 1; tt <= 3; tt++ {
		tick(tt, 0)
	}
	if started() {
		t.Fatal("the resyncs started before the fleet was measured")
	}
	tick(4, 5)
	if !started() {
		t.Fatal("the resyncs did not start once the fleet was measured")
	}
	tick(6, 3) // no resync completed yet
	if rp.stop {
		t.Fatal("the resyncs' part ended before a resync completed")
	}
	rp.mu.Lock()
	rep.Resyncs = 1
	rp.mu.Unlock()
	tick(7, 1)
	if !rp.stop {
		t.Fatal("the resyncs' part did not end after its length, a resync and operations")
	}
	tick(8, 2) // the last resync still runs
	close(rp.done)
	for tt := 9; tt <= 11; tt++ {
		if !tick(tt, 0) {
			t.Fatalf("the run ended at %d before the part after measured the fleet", tt)
		}
	}
	if tick(12, 2) {
		t.Fatal("the run did not end once the part after lasted its length and measured the fleet")
	}
	if err := rp.windows(series); err != nil {
		t.Fatal(err)
	}
	got := [][2]int{{rep.Before.FromS, rep.Before.ToS}, {rep.During.FromS, rep.During.ToS}, {rep.After.FromS, rep.After.ToS}}
	if want := [][2]int{{1, 5}, {5, 9}, {10, 13}}; got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("windows %v, want %v", got, want)
	}
	if rep.Before.Ops != 5 || rep.During.Ops != 6 || rep.After.Ops != 2 {
		t.Errorf("operations before %d, during %d, after %d; want 5, 6, 2", rep.Before.Ops, rep.During.Ops, rep.After.Ops)
	}
}

// TestOutageCountsNewDevicesThatMetIt: a new device counts as let in
// during the outage only when its first contact began once the UEM was
// down and it got in before the UEM came back.
func TestOutageCountsNewDevicesThatMetIt(t *testing.T) {
	rep := &FailOpenReport{}
	o := &outage{rep: rep}
	at := time.Now()
	o.from = at
	for _, c := range []struct {
		m      *Member
		status string
	}{
		{&Member{New: true, contactAt: at.Add(-time.Millisecond)}, StatusOK}, // began before the outage
		{&Member{New: false, contactAt: at.Add(time.Millisecond)}, StatusOK}, // a known device
		{&Member{New: true, contactAt: at.Add(time.Millisecond)}, StatusBlocked},
		{&Member{New: true, contactAt: at}, StatusOK}, // counts
	} {
		o.sawDevice(c.m, c.status)
	}
	o.to = at.Add(time.Second)
	o.sawDevice(&Member{New: true, contactAt: at.Add(time.Millisecond)}, StatusOK) // after the outage
	if rep.NewDuringOutage != 1 {
		t.Errorf("%d new devices during the outage, want 1", rep.NewDuringOutage)
	}
}
