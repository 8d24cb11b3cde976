package gateway

import (
	"context"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/upstream"
)

func (s *Server) currentRouter() *upstream.Router {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.router
}

// rememberRedirect keeps the 451 location the router followed for a
// device in its cache entry (RDR-04), or forgets a failed one.
func (s *Server) rememberRedirect(_ context.Context, d upstream.Device, url string) {
	s.cache.Update(devicecache.Key{DeviceID: d.ID, User: d.User}, func(e *devicecache.Entry, exists bool) bool {
		if !exists || e.RedirectURL == url {
			return false
		}
		e.RedirectURL = url
		return true
	})
}
