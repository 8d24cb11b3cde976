package exchange

import (
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"
)

// Faults is the fault injection state of the ActiveSync listener (the
// admin API is never affected).
type Faults struct {
	// Down closes the listener: connections are refused until cleared.
	Down bool `json:"down"`
	// LatencyMs delays every request (0-600000).
	LatencyMs int `json:"latency_ms"`
	// ErrorRate answers this fraction of requests (0-1) with ErrorStatus.
	ErrorRate float64 `json:"error_rate"`
	// ErrorStatus is the 5xx status of injected errors; default 503.
	ErrorStatus int `json:"error_status,omitempty"`
	// ResetRate resets this fraction of connections (0-1): the request is
	// read, then the TCP connection is closed with RST and no answer.
	ResetRate float64 `json:"reset_rate"`
	// SlowBodyBytesPerSec throttles response bodies to this rate (0 off).
	SlowBodyBytesPerSec int `json:"slow_body_bytes_per_sec"`
	// Gzip compresses the bodies of successful ActiveSync responses for
	// requests that accept gzip, as IIS's dynamic compression does in
	// front of a real Exchange (compress.go). Not a failure, but a
	// response shape a gateway that rewrites bodies must handle.
	Gzip bool `json:"gzip,omitempty"`
}

func (f Faults) validate() error {
	switch {
	case f.LatencyMs < 0 || f.LatencyMs > 600000:
		return fieldErr("latency_ms", "must be 0-600000")
	case f.ErrorRate < 0 || f.ErrorRate > 1:
		return fieldErr("error_rate", "must be 0-1")
	case f.ResetRate < 0 || f.ResetRate > 1:
		return fieldErr("reset_rate", "must be 0-1")
	case f.ErrorStatus != 0 && (f.ErrorStatus < 500 || f.ErrorStatus > 599):
		return fieldErr("error_status", "must be a 5xx status")
	case f.SlowBodyBytesPerSec < 0:
		return fieldErr("slow_body_bytes_per_sec", "must not be negative")
	}
	return nil
}

// FaultCounters count what the faults did, so tests can observe them.
type FaultCounters struct {
	Delayed  int64 `json:"delayed"`
	Errors   int64 `json:"errors"`
	Resets   int64 `json:"resets"`
	Throttle int64 `json:"throttled"`
	// Compressed counts responses sent gzip-compressed (Faults.Gzip).
	Compressed int64 `json:"compressed"`
}

type faultState struct {
	mu      sync.Mutex
	cur     Faults
	counts  FaultCounters
	rng     *rand.Rand
	stopped chan struct{}
	once    sync.Once
}

func newFaultState(seed uint64) *faultState {
	return &faultState{rng: rand.New(rand.NewPCG(seed, seed^0x3c6ef372fe94f82b)), stopped: make(chan struct{})}
}

func (f *faultState) get() Faults {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cur
}

func (f *faultState) set(nf Faults) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cur = nf
}

func (f *faultState) counters() FaultCounters {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts
}

func (f *faultState) stop() { f.once.Do(func() { close(f.stopped) }) }

func (f *faultState) roll(rate float64, counter *int64) bool {
	if rate <= 0 {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rng.Float64() < rate {
		*counter++
		return true
	}
	return false
}

func (f *faultState) count(counter *int64) {
	f.mu.Lock()
	*counter++
	f.mu.Unlock()
}

// middleware applies the faults to the ActiveSync listener.
func (f *faultState) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := f.get()
		if f.roll(cur.ResetRate, &f.counts.Resets) {
			reset(w)
			return
		}
		if cur.LatencyMs > 0 {
			f.count(&f.counts.Delayed)
			if !f.sleep(r.Context(), time.Duration(cur.LatencyMs)*time.Millisecond) {
				return
			}
		}
		if f.roll(cur.ErrorRate, &f.counts.Errors) {
			st := cur.ErrorStatus
			if st == 0 {
				st = http.StatusServiceUnavailable
			}
			w.Header().Set("Retry-After", "1")
			http.Error(w, "injected fault", st)
			return
		}
		if cur.SlowBodyBytesPerSec > 0 {
			f.count(&f.counts.Throttle)
			w = &slowWriter{ResponseWriter: w, rate: cur.SlowBodyBytesPerSec, ctx: r.Context(), stopped: f.stopped}
		}
		if cur.Gzip && r.Method == http.MethodPost && acceptsGzip(r) {
			gw := &gzipWriter{ResponseWriter: w, compressed: func() { f.count(&f.counts.Compressed) }}
			defer gw.close()
			w = gw
		}
		next.ServeHTTP(w, r)
	})
}

func (f *faultState) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-f.stopped:
		return false
	case <-t.C:
		return true
	}
}

// reset closes the connection with a TCP RST (SO_LINGER 0) and no answer.
func reset(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	conn, _, err := rc.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if nc := underlyingTCP(conn); nc != nil {
		_ = nc.SetLinger(0)
	}
	_ = conn.Close()
}

func underlyingTCP(c net.Conn) *net.TCPConn {
	for {
		switch v := c.(type) {
		case *net.TCPConn:
			return v
		case interface{ NetConn() net.Conn }: // *tls.Conn
			c = v.NetConn()
		default:
			return nil
		}
	}
}

// slowWriter writes the body in small chunks at a limited rate.
type slowWriter struct {
	http.ResponseWriter
	rate    int
	ctx     context.Context
	stopped chan struct{}
}

func (s *slowWriter) Write(p []byte) (int, error) {
	chunk := max(1, s.rate/10) // ten writes a second
	n := 0
	for len(p) > 0 {
		c := min(chunk, len(p))
		m, err := s.ResponseWriter.Write(p[:c])
		n += m
		if err != nil {
			return n, err
		}
		_ = http.NewResponseController(s.ResponseWriter).Flush()
		p = p[c:]
		if len(p) == 0 {
			break
		}
		t := time.NewTimer(time.Duration(c) * time.Second / time.Duration(s.rate))
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return n, s.ctx.Err()
		case <-s.stopped:
			t.Stop()
		}
	}
	return n, nil
}

func (s *slowWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
