package discovery

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/messages"

	"github.com/gatehouse-lab/gatehouse/internal/loopback"
	"github.com/gatehouse-lab/gatehouse/protocol/kerberos"
)

// stubKDC answers every UDP datagram with udpReply and every TCP frame with tcpReply.
func stubKDC(t *testing.T, udpReply, tcpReply []byte) int {
	t.Helper()
	var (
		tl   net.Listener
		pc   net.PacketConn
		port int
		err  error
	)
	// The UDP port bind(0) gave TCP may be some program's (a resolver's
	// socket): try another, as the fake KDC's Start does.
	for range 20 {
		if tl, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		port = tl.Addr().(*net.TCPAddr).Port
		if pc, err = net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			break
		}
		tl.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tl.Close(); pc.Close() })
	go func() {
		for {
			c, err := tl.Accept()
			if err != nil {
				return
			}
			if _, err := kerberos.ReadFrame(c, 1<<16); err == nil {
				c.Write(kerberos.FrameTCP(tcpReply))
			}
			c.Close()
		}
	}()
	go func() {
		buf := make([]byte, 65536)
		for {
			_, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(udpReply, from)
		}
	}()
	return port
}

// deadPort is a port with nothing listening, held until the test ends so
// that no other test package's server answers there.
func deadPort(t *testing.T) int {
	addr, release, err := loopback.Refusing()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = release() })
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}

// Unreachable KDCs are skipped (KDC-04); a UDP RESPONSE_TOO_BIG is retried over TCP.
func TestKDC04_TransportSkipsDeadKDCsAndRetriesTooBigOverTCP(t *testing.T) {
	tooBig, err := (&messages.KRBError{PVNO: 5, MsgType: 30, ErrorCode: 52, Realm: "CORP.EXAMPLE", STime: time.Now().UTC().Truncate(time.Second)}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	good := []byte("tcp-answer")
	port := stubKDC(t, tooBig, good)
	r := &fakeResolver{srv: map[string][]*net.SRV{
		"_kerberos._udp.corp.example": {{Target: "live.corp.example.", Port: uint16(port), Priority: 1}},
	}, hosts: map[string][]string{"live.corp.example": {"127.0.0.1"}}}
	l, err := New(Config{Realm: "CORP.EXAMPLE", KDCs: []string{"127.0.0.1:" + strconv.Itoa(deadPort(t))}}, r)
	if err != nil {
		t.Fatal(err)
	}
	tr := &Transport{Locator: l, PerTarget: time.Second}
	// Own realm: the configured KDC is dead, so RoundTrip fails naming it.
	if _, err := tr.RoundTrip(context.Background(), "CORP.EXAMPLE", []byte("req")); err == nil {
		t.Fatal("RoundTrip to a dead configured KDC succeeded")
	}
	// Other-case realm goes to DNS (INC-10): UDP target answers TOO_BIG, TCP retry answers.
	rep, err := tr.RoundTrip(context.Background(), "corp.example", []byte("req"))
	if err != nil || !bytes.Equal(rep, good) {
		t.Fatalf("RoundTrip = %q, %v; want the TCP answer", rep, err)
	}
}
