package apptunnel

import (
	"net"
	"sync/atomic"
	"time"
)

// splice copies both ways until one side ends or no byte moved either way
// for the idle timeout; then both connections are closed.
func (s *Server) splice(app, up net.Conn) {
	s.metrics.Open.Add(1)
	defer s.metrics.Open.Add(-1)
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn, n *atomic.Uint64) {
		buf := make([]byte, 32<<10)
		for {
			k, err := src.Read(buf)
			if k > 0 {
				last.Store(time.Now().UnixNano())
				if _, werr := dst.Write(buf[:k]); werr != nil {
					break
				}
				n.Add(uint64(k))
			}
			if err != nil {
				break
			}
		}
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite() // half-close: let the other way finish
		} else {
			dst.Close()
		}
		done <- struct{}{}
	}
	go cp(up, app, &s.metrics.BytesUp)
	go cp(app, up, &s.metrics.BytesDown)
	idle := s.cfg.IdleTimeout
	t := time.NewTimer(idle)
	defer t.Stop()
	for finished := 0; finished < 2; {
		select {
		case <-done:
			finished++
		case <-t.C:
			since := time.Since(time.Unix(0, last.Load()))
			if since >= idle {
				app.Close()
				up.Close()
				t.Reset(idle) // the copies now end on their closed sockets
				continue
			}
			t.Reset(idle - since)
		}
	}
}
