package apptunnel

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// TestIdleTunnelClosed: a CONNECT tunnel with no bytes either way for the
// idle timeout is closed, and the open-tunnel gauge goes back to zero.
func TestIdleTunnelClosed(t *testing.T) {
	w := newWorld(t, func(w *world) { w.idle = 200 * time.Millisecond })
	echo := echoServer(t)
	c := w.dial(false)
	resp, br := w.send(c, "CONNECT "+echo+" HTTP/1.1\r\nHost: "+echo+"\r\n"+HeaderAppID+": com.idle\r\n\r\n")
	if resp.StatusCode != http.StatusOK {
		t.Fatal(resp.StatusCode)
	}
	// Reading blocks until the gateway closes the idle tunnel: EOF, not a
	// deadline of ours (the 10 s deadline only bounds a broken test).
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("idle tunnel: read %v, want EOF from the gateway", err)
	}
	for i := 0; w.srv.Metrics().Open.Load() != 0 && i < 1000; i++ {
		w.dial(false).Close() // a round trip; the splice's exit is ordered before the next accept is served
	}
	if n := w.srv.Metrics().Open.Load(); n != 0 {
		t.Fatalf("open tunnels %d", n)
	}
}
