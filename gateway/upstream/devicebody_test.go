package upstream

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// brokenBody is a device body that fails after its first bytes: the
// device hung up mid-body, sent a malformed chunk, or was cut by the
// gateway's body deadline.
type brokenBody struct {
	data string
	err  error
}

func (b *brokenBody) Read(p []byte) (int, error) {
	if b.data == "" {
		return 0, b.err
	}
	n := copy(p, b.data)
	b.data = b.data[n:]
	return n, nil
}

func (b *brokenBody) Close() error { return nil }

// A device whose body breaks is the device's fault, not the server's: the
// server must not be counted as failed (a device could otherwise declare
// the Exchange servers dead by sending large bodies and hanging up), no
// other server is tried, and the error says it was the device's body.
func TestDeviceBodyErrorIsNotBlamedOnTheServer(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int // the body's length before it breaks; MaxReplayBody is 16
	}{
		{"streamed past the replay limit", 100},
		{"buffered within the replay limit", 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newExchange(t, "a", false), newExchange(t, "b", false)
			r := newRouter(t, asConfig(service("default", a, b)), defaultMgmt(), defaultTimeouts(), Options{MaxReplayBody: 16})
			broken := errors.New("invalid byte in chunk length")
			for range 5 { // the default policy declares a server dead after fewer failures
				req := easRequest("gw", "SendMail", "")
				req.Body, req.ContentLength = &brokenBody{data: strings.Repeat("x", tc.size), err: broken}, -1
				_, _, err := do(t, r, req)
				var be *DeviceBodyError
				if !errors.As(err, &be) || !errors.Is(err, broken) {
					t.Fatalf("err = %v, want a DeviceBodyError wrapping the body's error", err)
				}
			}
			for _, x := range []*exchange{a, b} {
				if st := serverStatus(t, r, "default", x.addr()); st.FailureCount != 0 || !st.Reachable {
					t.Fatalf("server %s: failures %d, reachable %v: a broken device body was blamed on it", x.name, st.FailureCount, st.Reachable)
				}
			}
		})
	}
}

// The error of a device body that ends early (io.ErrUnexpectedEOF) is the
// device's too, although a server closing the connection gives the same
// error value.
func TestDeviceBodyCutShortIsTheDevices(t *testing.T) {
	a := newExchange(t, "a", false)
	r := newRouter(t, asConfig(service("default", a)), defaultMgmt(), defaultTimeouts(), Options{MaxReplayBody: 16})
	req := easRequest("gw", "SendMail", "")
	req.Body, req.ContentLength = &brokenBody{data: strings.Repeat("x", 40), err: io.ErrUnexpectedEOF}, 80
	_, _, err := do(t, r, req)
	var be *DeviceBodyError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v, want a DeviceBodyError", err)
	}
	if st := serverStatus(t, r, "default", a.addr()); st.FailureCount != 0 {
		t.Fatalf("failures = %d", st.FailureCount)
	}
}

// Over HTTP/2 to the server the device's broken body is the device's
// too.
func TestDeviceBodyErrorOverHTTP2(t *testing.T) {
	release := make(chan struct{})
	close(release)
	x, _ := newH2Exchange(t, release)
	r := newRouter(t, asConfig(service("default", x)), defaultMgmt(), defaultTimeouts(), Options{HTTP2: true, MaxReplayBody: 16}, x)
	broken := errors.New("invalid byte in chunk length")
	req := easRequest("gw", "SendMail", "")
	req.Body, req.ContentLength = &brokenBody{data: strings.Repeat("x", 100), err: broken}, -1
	_, _, err := do(t, r, req)
	var be *DeviceBodyError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v, want a DeviceBodyError", err)
	}
	if st := serverStatus(t, r, "default", x.addr()); st.FailureCount != 0 {
		t.Fatalf("failures = %d", st.FailureCount)
	}
}
