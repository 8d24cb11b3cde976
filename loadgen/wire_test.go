package loadgen

import (
	"context"
	"io"
	"net"
	"testing"
	"time"
)

// TestCloseReadsWhatALateGatewaySends: a connection the fleet closes
// reads what the gateway still sends until the gateway closes, however
// late: a loaded gateway answers a request the end of a run cut seconds
// later, and counts those bytes as sent (d-bytes-sent). Close read for
// 3 s at most: the fleet counted less than the gateway under load.
func TestCloseReadsWhatALateGatewaySends(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const late = 4096
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.Copy(io.Discard, c) // until the fleet's half-close
		// The answer of a loaded gateway (the stimulus, not a wait).
		time.Sleep(3500 * time.Millisecond)
		_, _ = c.Write(make([]byte, late))
	}()
	m := &wireMeter{}
	c, err := m.dial((&net.Dialer{}).DialContext)(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	m.waitClosed(drainMax + 5*time.Second)
	if got := m.counts(); got.BytesRcvd != late || m.open.Load() != 0 {
		t.Errorf("read %d bytes after the close, want %d (%d connections open)", got.BytesRcvd, late, m.open.Load())
	}
}
