package loadgen

import (
	"math"
	"sync/atomic"
	"time"
)

// sendTally records when a bench's requests were actually sent, for
// BenchPacing: a count per whole second of the run and the first and
// last send.
type sendTally struct {
	secs        []atomic.Int64
	n           atomic.Int64 // every send, the late ones included
	first, last atomic.Int64 // send times, ns since the start
}

func newSendTally(d time.Duration) *sendTally {
	t := &sendTally{secs: make([]atomic.Int64, int(d/time.Second)+2)}
	t.first.Store(math.MaxInt64)
	return t
}

// add records a send at since the start. A send later than the seconds
// kept (a loaded machine runs the last ones seconds late) still counts.
func (t *sendTally) add(at time.Duration) {
	t.n.Add(1)
	if i := int64(at / time.Second); i < int64(len(t.secs)) {
		t.secs[i].Add(1)
	}
	for v := t.first.Load(); int64(at) < v && !t.first.CompareAndSwap(v, int64(at)); v = t.first.Load() {
	}
	for v := t.last.Load(); int64(at) > v && !t.last.CompareAndSwap(v, int64(at)); v = t.last.Load() {
	}
}

// pacing is how closely the sends held rate over a run of d.
func (t *sendTally) pacing(rate float64, d time.Duration) BenchPacing {
	p := BenchPacing{TargetRate: rate, Sent: t.n.Load()}
	if span := time.Duration(t.last.Load() - t.first.Load()); p.Sent > 1 && span > 0 {
		p.AchievedRate = math.Round(10*float64(p.Sent-1)/span.Seconds()) / 10
		p.ErrorPct = math.Round(1000*(p.AchievedRate-rate)/rate) / 10
	}
	// Whole seconds only: the first and the last are cut by the edges.
	for i := 1; i < int(d/time.Second)-1; i++ {
		p.WorstSecondPct = max(p.WorstSecondPct, math.Round(1000*math.Abs(float64(t.secs[i].Load())-rate)/rate)/10)
	}
	return p
}
