package faults

import (
	"bytes"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
)

// accept accepts one connection from l in the background.
func accept(l net.Listener) <-chan net.Conn {
	out := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			close(out)
			return
		}
		out <- c
	}()
	return out
}

func TestDownRefusesClosesOpenConnectionsAndListensAgain(t *testing.T) {
	in := New(1)
	l := listen(t, in)
	addr := l.Addr().String()
	got := accept(l)
	c, err := dial(t, l)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	server := <-got
	defer server.Close()

	mustSet(t, in, Spec{Toxic: Down{}})
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("an open connection survived down")
	}
	if _, err := dial(t, l); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial while down: %v, want connection refused", err)
	}

	got = accept(l) // Accept waits while down
	if err := in.Clear(); err != nil {
		t.Fatal(err)
	}
	if l.Addr().String() != addr {
		t.Fatalf("address changed: %s, was %s", l.Addr(), addr)
	}
	c2, err := dial(t, l)
	if err != nil {
		t.Fatalf("dial after clearing: %v", err)
	}
	defer c2.Close()
	s2 := <-got
	if s2 == nil {
		t.Fatal("Accept failed after clearing")
	}
	s2.Close()
}

func TestDownBeforeListenKeepsTheAddressAndRefuses(t *testing.T) {
	in := New(1)
	mustSet(t, in, Spec{Toxic: Down{Mode: Refuse}})
	l := listen(t, in)
	if _, err := dial(t, l); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial: %v, want connection refused", err)
	}
	got := accept(l)
	mustSet(t, in)
	c, err := dial(t, l)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if s := <-got; s != nil {
		s.Close()
	}
}

func TestDownCloseAcceptsAndClosesAtOnce(t *testing.T) {
	in := New(1)
	l := listen(t, in)
	mustSet(t, in, Spec{Toxic: Down{Mode: CloseConns}})
	got := accept(l)
	c, err := dial(t, l)
	if err != nil {
		t.Fatalf("close mode refused: %v", err)
	}
	defer c.Close()
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("read from a connection the fault closed")
	}
	if n := in.Counters()["down"]; n != 1 {
		t.Fatalf("down counter %d, want 1", n)
	}
	l.Close() // ends the Accept, which never returned the closed connection
	if s, ok := <-got; ok {
		t.Fatalf("Accept returned %v", s)
	}
}

// pair dials l and returns the client and server ends.
func pair(t *testing.T, l net.Listener) (client, server net.Conn) {
	t.Helper()
	got := accept(l)
	c, err := dial(t, l)
	if err != nil {
		t.Fatal(err)
	}
	s := <-got
	if s == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c, s
}

func TestResetPeerByDirection(t *testing.T) {
	for _, dir := range directions {
		t.Run(string(dir), func(t *testing.T) {
			in := New(1)
			l := listen(t, in)
			mustSet(t, in, Spec{Direction: dir, Toxic: ResetPeer{}})
			c, s := pair(t, l)
			if _, err := c.Write([]byte("hello")); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 5)
			_, rerr := io.ReadFull(s, buf)
			if dir == Upstream {
				if rerr == nil {
					t.Fatal("the server read what the client sent across an upstream reset")
				}
			} else {
				if rerr != nil || string(buf) != "hello" {
					t.Fatalf("server read %q, %v", buf, rerr)
				}
				if _, err := s.Write([]byte("answer")); err == nil {
					t.Fatal("the server wrote across a downstream reset")
				}
			}
			if _, err := c.Read(make([]byte, 16)); !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("client read: %v, want connection reset", err)
			}
		})
	}
}

func TestSlicerByDirection(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789"), 10)
	for _, dir := range directions {
		t.Run(string(dir), func(t *testing.T) {
			in := New(1)
			l := listen(t, in)
			mustSet(t, in, Spec{Direction: dir, Toxic: Slicer{AverageSize: 7, SizeVariation: 3, DelayUs: 100}})
			c, s := pair(t, l)
			from, to := s, c // downstream: the server writes
			if dir == Upstream {
				from, to = c, s
			}
			go func() { _, _ = from.Write(payload) }()
			got := make([]byte, 0, len(payload))
			buf := make([]byte, 64)
			for len(got) < len(payload) {
				n, err := to.Read(buf)
				if err != nil {
					t.Fatal(err)
				}
				if dir == Upstream && (n < 1 || n > 10) {
					t.Fatalf("the server read %d bytes at once, want slices of 4-10", n)
				}
				got = append(got, buf[:n]...)
			}
			if !bytes.Equal(got, payload) {
				t.Fatalf("data changed: %q", got)
			}
		})
	}
}

// Downstream slices are seen exactly on a synchronous pipe: every write
// of the server's is one piece.
func TestSlicerCutsWritesIntoPieces(t *testing.T) {
	in := New(3)
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	sc := Slicer{AverageSize: 5, SizeVariation: 2}.Apply(a, Env{Direction: Downstream, Done: make(chan struct{}), rand: in.float64})
	go func() { _, _ = sc.Write(bytes.Repeat([]byte("x"), 50)) }()
	total, buf := 0, make([]byte, 64)
	for total < 50 {
		n, err := b.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		if n < 3 || n > 7 {
			if total+n != 50 { // the last piece may be short
				t.Fatalf("piece of %d bytes, want 3-7", n)
			}
		}
		total += n
	}
}

// A bandwidth fault throttles its direction until it ends; then the
// rest flows at once.
func TestBandwidthByDirection(t *testing.T) {
	for _, dir := range directions {
		t.Run(string(dir), func(t *testing.T) {
			in := New(1)
			l := listen(t, in)
			mustSet(t, in, Spec{Direction: dir, Toxic: Bandwidth{BytesPerSec: 1}}) // one byte a second
			c, s := pair(t, l)
			from, to := s, c
			if dir == Upstream {
				from, to = c, s
			}
			go func() { _, _ = from.Write([]byte("abcdef")) }()
			first := make([]byte, 16)
			n, err := to.Read(first)
			if err != nil || n != 1 || first[0] != 'a' {
				t.Fatalf("first read: %q, %v; want one byte", first[:n], err)
			}
			mustSet(t, in) // the fault ends: no more waiting
			rest := make([]byte, 5)
			if _, err := io.ReadFull(to, rest); err != nil || string(rest) != "bcdef" {
				t.Fatalf("rest: %q, %v", rest, err)
			}
		})
	}
}
