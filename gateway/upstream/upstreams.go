package upstream

import (
	"sync"
	"sync/atomic"
	"time"
)

// healthPolicy is what decides a server's state: the global server
// configuration (ASC-14 to ASC-18) and the service's health check
// (ASC-11 to ASC-13).
type healthPolicy struct {
	deadThreshold int
	failureWindow time.Duration
	deadTime      time.Duration
	checkEnabled  bool
	liveThreshold int
}

// Server is one ActiveSync server of a service and its health. Servers
// are shared between configurations by Update, so that a server whose
// entry did not change keeps its state.
//
// The state machine (ASC-14, docs/upstreams.md):
//   - live: gets traffic. Each failed request (connection refused or
//     reset, connect or response timeout) and each failed health check is
//     a failure; Dead Threshold failures within Failure Window make it
//     dead.
//   - dead (Unreachable): gets no traffic for at least Dead Time. With the
//     health check off it is live again when Dead Time is over. With the
//     health check on it is live again when Dead Time is over and the
//     last Live Threshold health checks in a row succeeded.
type Server struct {
	addr serverAddr

	inflight atomic.Int64

	mu          sync.Mutex
	failures    []time.Time // within the failure window, oldest first
	dead        bool
	deadSince   time.Time
	okStreak    int // consecutive successful health checks
	lastSuccess time.Time
	lastFailure time.Time
	failCount   uint64
}

func newServer(a serverAddr) *Server { return &Server{addr: a} }

// Addr returns the server's host:port.
func (s *Server) Addr() string { return s.addr.hostport }

// recordFailure counts a failure at now and reports whether it made the
// server dead.
func (s *Server) recordFailure(now time.Time, p healthPolicy) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastFailure = now
	s.failCount++
	s.okStreak = 0
	if s.dead {
		return false
	}
	cut := now.Add(-p.failureWindow)
	keep := s.failures[:0]
	for _, t := range s.failures {
		if t.After(cut) {
			keep = append(keep, t)
		}
	}
	s.failures = append(keep, now)
	if len(s.failures) < p.deadThreshold {
		return false
	}
	s.dead, s.deadSince, s.failures = true, now, s.failures[:0]
	return true
}

// recordSuccess notes a successful request or health check.
func (s *Server) recordSuccess(now time.Time, check bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastSuccess = now
	if check {
		s.okStreak++
	}
}

// available reports whether the server may get traffic at now, reviving
// a dead server whose time is up (it reports true exactly once for the
// revival with revived).
func (s *Server) available(now time.Time, p healthPolicy) (ok, revived bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.dead {
		return true, false
	}
	if now.Sub(s.deadSince) < p.deadTime {
		return false, false
	}
	if p.checkEnabled && s.okStreak < p.liveThreshold {
		return false, false
	}
	s.dead, s.okStreak, s.failures = false, 0, s.failures[:0]
	return true, true
}

// snapshot returns the state for Status.
func (s *Server) snapshot() ServerStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := ServerStatus{
		Address:      s.addr.hostport,
		TLS:          s.addr.tls,
		Reachable:    !s.dead,
		LastSuccess:  s.lastSuccess,
		LastFailure:  s.lastFailure,
		FailureCount: s.failCount,
		InFlight:     s.inflight.Load(),
	}
	if s.dead {
		st.DeadSince = s.deadSince
	}
	return st
}
