package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// chartPoints is how many samples the charts keep.
const chartPoints = 240

// chart is the series the page plots: request rate, mean latency and
// cache size over time.
type chart struct {
	T       []int64   `json:"t"`       // unix seconds
	Rate    []float64 `json:"rate"`    // the lab's own devices
	GWRate  []float64 `json:"gw_rate"` // every device, from the gateway's statistics
	Latency []float64 `json:"latency_ms"`
	Cache   []float64 `json:"cache"`
}

// publisher holds the latest state document and wakes the event streams
// when it changes.
type publisher struct {
	mu       sync.Mutex
	doc      []byte
	changed  chan struct{} // closed and replaced on every change
	chart    *chart
	lastSeq  int64
	lastAt   time.Time
	lastGW   uint64 // the gateway's request counter at lastAt
	lastGWOK bool
}

func newPublisher() *publisher { return &publisher{changed: make(chan struct{}), chart: &chart{}} }

func (p *publisher) current() ([]byte, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.doc, p.changed
}

func (p *publisher) set(doc []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if bytes.Equal(doc, p.doc) {
		return
	}
	p.doc = doc
	close(p.changed)
	p.changed = make(chan struct{})
}

// sample builds the state every Interval until Shutdown.
func (s *Server) sample() {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		s.tick()
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) tick() {
	s.tickMu.Lock()
	defer s.tickMu.Unlock()
	snap := s.build(s.ctx)
	p := s.state
	now := time.Now()
	xs := s.rec.since(p.lastSeq)
	var sum float64
	for _, x := range xs {
		sum += x.Millis
	}
	rate, lat := 0.0, 0.0
	if !p.lastAt.IsZero() {
		rate = float64(len(xs)) / now.Sub(p.lastAt).Seconds()
	}
	if len(xs) > 0 {
		lat = sum / float64(len(xs))
		p.lastSeq = xs[len(xs)-1].Seq
	}
	gw := snap.Gateway
	gwRate := counterRate(p.lastGW, gw.Requests, p.lastGWOK, gw.RequestsOK, now.Sub(p.lastAt))
	p.lastAt, p.lastGW, p.lastGWOK = now, gw.Requests, gw.RequestsOK
	c := &chart{T: append(p.chart.T, now.Unix()), Rate: append(p.chart.Rate, rate), GWRate: append(p.chart.GWRate, gwRate),
		Latency: append(p.chart.Latency, lat), Cache: append(p.chart.Cache, float64(snap.Gateway.Cached))}
	if n := len(c.T); n > chartPoints {
		c.T, c.Rate, c.GWRate = c.T[n-chartPoints:], c.Rate[n-chartPoints:], c.GWRate[n-chartPoints:]
		c.Latency, c.Cache = c.Latency[n-chartPoints:], c.Cache[n-chartPoints:]
	}
	p.chart, snap.Chart = c, c
	doc, err := json.Marshal(snap)
	if err != nil {
		s.cfg.Logger.Warn("dashboard: state", "error", err)
		return
	}
	p.set(doc)
}

// handleEvents streams the state as server-sent events: the whole
// document each time it changes, and a comment every 15 s to keep
// proxies from closing an idle stream.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	keep := time.NewTicker(15 * time.Second)
	defer keep.Stop()
	var sent []byte
	for {
		doc, changed := s.state.current()
		if doc != nil && !bytes.Equal(doc, sent) {
			if _, err := fmt.Fprintf(w, "event: state\ndata: %s\n\n", doc); err != nil {
				return
			}
			fl.Flush()
			sent = doc
		}
		select {
		case <-r.Context().Done():
			return
		case <-s.ctx.Done():
			return
		case <-keep.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			fl.Flush()
		case <-changed:
		}
	}
}
