package upstream

import (
	"sync/atomic"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// selector picks the server for the next attempt of a request (ASC-15).
type selector interface {
	// pick returns the first available server in the policy's order that
	// is not in tried, or nil.
	pick(servers []*Server, tried []*Server, available func(*Server) bool) *Server
}

func newSelector(s uemapi.Scheduling) selector {
	if s == uemapi.ScheduleRoundRobin {
		return &roundRobin{}
	}
	return priority{}
}

// priority: the first available server in list order, so that the rest
// are used only while it is not available.
type priority struct{}

func (priority) pick(servers, tried []*Server, available func(*Server) bool) *Server {
	for _, s := range servers {
		if !contains(tried, s) && available(s) {
			return s
		}
	}
	return nil
}

// roundRobin: each server in turn. A request starts at the next position
// of a shared counter and walks the list from there, skipping servers
// that are dead or already tried.
type roundRobin struct{ next atomic.Uint64 }

func (rr *roundRobin) pick(servers, tried []*Server, available func(*Server) bool) *Server {
	n := uint64(len(servers))
	if n == 0 {
		return nil
	}
	start := rr.next.Add(1) - 1
	for i := range n {
		s := servers[(start+i)%n]
		if !contains(tried, s) && available(s) {
			return s
		}
	}
	return nil
}

func contains(list []*Server, s *Server) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
