package loadgen

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/admin"
)

// resyncParts drives the resync preset's three parts from the run's
// seconds (Options.Tick): the resyncs start once the part before has
// lasted its length and measured the fleet, stop once their part has
// and a resync completed, and the run ends once the part after has
// lasted its length and measured the fleet too.
type resyncParts struct {
	ph      phases
	devices int64 // the shard's devices: the fleet is steady once all arrived
	rep     *ResyncReport
	start   chan struct{} // closed when the resyncs start
	done    chan struct{} // closed when they stopped

	mu     sync.Mutex
	total  time.Duration // of the completed resyncs
	pts    []Point       // each second's T and Ops
	steady int           // the first second after every device arrived (-1: not yet)
	from   int           // the first second of "before"
	b1     int           // the resyncs started after this second's tick (-1: not yet)
	stop   bool          // their part is over: no resync starts again
	b2     int           // they had stopped at this second's tick (-1: not yet)
}

func newResyncParts(ph phases, devices int64, rep *ResyncReport) *resyncParts {
	return &resyncParts{ph: ph, devices: devices, rep: rep, start: make(chan struct{}), done: make(chan struct{}), steady: -1, b1: -1, b2: -1}
}

// opsIn is the fleet's operations in the seconds [from, to) (under mu).
func (rp *resyncParts) opsIn(from, to int) int64 {
	var n int64
	for _, p := range rp.pts {
		if p.T >= from && p.T < to {
			n += p.Ops
		}
	}
	return n
}

// tick moves the parts on at each second of the run; false ends it.
func (rp *resyncParts) tick(p Point, _ *Recorder) bool {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	rp.pts = append(rp.pts, Point{T: p.T, Ops: p.Ops})
	if rp.steady < 0 && p.Devices >= rp.devices {
		rp.steady = p.T + 1
	}
	switch {
	case rp.b1 < 0:
		// "before" starts once a ramp has brought every device, and
		// holds at least one whole second.
		from := max(1, seconds(rp.ph.before)-1)
		if rp.steady >= 0 {
			from = min(from, rp.steady)
		}
		if p.T >= seconds(rp.ph.before) && rp.opsIn(from, p.T+1) > 0 {
			rp.from, rp.b1 = from, p.T
			close(rp.start)
		}
	case !rp.stop:
		rp.stop = p.T >= rp.b1+seconds(rp.ph.during) && rp.rep.Resyncs > 0 && rp.opsIn(rp.b1+1, p.T+1) > 0
	case rp.b2 < 0:
		select {
		case <-rp.done:
			rp.b2 = p.T
		default:
		}
	default:
		return p.T < rp.b2+seconds(rp.ph.after) || rp.opsIn(rp.b2+1, p.T+1) == 0
	}
	return true
}

// resyncs runs the resyncs back to back from start until told to stop
// (at least one attempt), or until ctx ends.
func (rp *resyncParts) resyncs(ctx context.Context, adm *admin.Client) {
	defer close(rp.done)
	select {
	case <-ctx.Done():
		return
	case <-rp.start:
	}
	for {
		t := time.Now()
		rctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		n, err := adm.FromUEM(rctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		d := time.Since(t)
		rp.mu.Lock()
		if err != nil {
			rp.rep.Failures++
		} else {
			rp.rep.Resyncs++
			rp.rep.Listed = n.Count
			rp.total += d
			rp.rep.MaxMs = max(rp.rep.MaxMs, d.Milliseconds())
			if rp.rep.Resyncs == 1 {
				rp.rep.FirstMs = d.Milliseconds()
			}
		}
		stop := rp.stop
		rp.mu.Unlock()
		if stop {
			return
		}
	}
}

// windows sets the report's Before, During and After from the run's
// series. The second in which a part ended carries that part's tail and
// the next one's start: it counts in neither. A part the run's end cut
// off is empty.
func (rp *resyncParts) windows(series []Point) error {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	end := 0
	for _, p := range series {
		end = max(end, p.T+1)
	}
	from, b1, b2, a := rp.from, end, end, end
	if rp.b1 < 0 {
		from = min(max(1, seconds(rp.ph.before)-1), end)
	} else {
		b1 = rp.b1 + 1
	}
	if rp.b2 >= 0 {
		b2, a = rp.b2, rp.b2+1
	}
	var werr error
	for _, w := range []struct {
		w        *Window
		from, to int
	}{{&rp.rep.Before, from, b1}, {&rp.rep.During, b1, b2}, {&rp.rep.After, a, end}} {
		var e error
		*w.w, e = window(series, w.from, max(w.from, w.to))
		werr = errors.Join(werr, e)
	}
	return werr
}
