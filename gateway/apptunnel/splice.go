package apptunnel

import (
	"errors"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

// spliceBuffer is each direction's copy buffer. Idle tunnels hold theirs
// while they wait, so it is what a tunnel costs: 8 KiB each way keeps an
// idle tunnel small and still moves a TLS record in two reads.
const spliceBuffer = 8 << 10

// splice copies both ways until both directions end, or no byte moved
// either way for the idle timeout; then both connections are closed. The
// caller's goroutine copies one way and one more goroutine the other, and
// the idle timeout rides on read deadlines: no timer goroutine per tunnel.
func (s *Server) splice(app, up net.Conn, dev *stats.Device) {
	s.metrics.Open.Add(1)
	defer s.metrics.Open.Add(-1)
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.copyIdle(app, up, &last, &s.metrics.BytesDown, dev, stats.TunnelBytesDown)
	}()
	s.copyIdle(up, app, &last, &s.metrics.BytesUp, dev, stats.TunnelBytesUp)
	<-done
}

// copyIdle copies src to dst. A read deadline of the idle timeout ends the
// copy only if neither direction moved a byte since: then both sides are
// closed. EOF half-closes dst so the other direction can finish.
func (s *Server) copyIdle(dst, src net.Conn, last *atomic.Int64, n *atomic.Uint64, dev *stats.Device, ctr stats.Counter) {
	idle := s.cfg.IdleTimeout
	buf := make([]byte, spliceBuffer)
	for {
		_ = src.SetReadDeadline(time.Now().Add(idle))
		k, err := src.Read(buf)
		if k > 0 {
			last.Store(time.Now().UnixNano())
			if _, werr := dst.Write(buf[:k]); werr != nil {
				src.Close()
				dst.Close()
				return
			}
			n.Add(uint64(k))
			if dev != nil {
				dev.Add(ctr, uint64(k)) // per (device, user) and global (statistics CSV)
			}
		}
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if time.Since(time.Unix(0, last.Load())) < idle {
				continue // the other direction is busy: not idle
			}
			src.Close()
			dst.Close()
			return
		}
		if cw, ok := dst.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
			return // half-close: let the other way finish
		}
		dst.Close()
		return
	}
}
