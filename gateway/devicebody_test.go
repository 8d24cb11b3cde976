package gateway_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// A device body that breaks mid-way (a malformed chunk, here after more
// than the 1 MiB the gateway buffers, so that it is already streaming to
// the server) is the device's error: 400, and the ActiveSync server is
// not counted as failed. Before, the device got 502 and the server a
// failure, so that a few such requests declared every server dead.
func TestMalformedDeviceBodyIs400AndNotTheServersFault(t *testing.T) {
	w := newWorld(t)
	w.provision("BADCHUNK", "alice")
	q := &eas.Query{Cmd: eas.CmdSendMail, User: "alice", DeviceID: "BADCHUNK", DeviceType: "iPhone"}
	head := "POST /Microsoft-Server-ActiveSync?" + q.Encode(false) + " HTTP/1.1\r\nHost: gw\r\n" +
		"Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("alice:alice-pw")) + "\r\n" +
		eas.HeaderProtocolVersion + ": 14.1\r\n" + eas.HeaderPolicyKey + ": " + w.keys["BADCHUNK"] + "\r\n" +
		"Content-Type: message/rfc822\r\nTransfer-Encoding: chunked\r\n\r\n"
	chunk := strings.Repeat("a", 64<<10)
	for _, tc := range []struct {
		name   string
		chunks int // good chunks before the bad one
	}{{"buffered", 1}, {"streamed", 20}} {
		t.Run(tc.name, func(t *testing.T) {
			for i := range 4 { // more than the default dead threshold
				var b strings.Builder
				b.WriteString(head)
				for range tc.chunks {
					fmt.Fprintf(&b, "%x\r\n%s\r\n", len(chunk), chunk)
				}
				b.WriteString("ffffffffffffffffff\r\nabc")
				if got := rawExchange(t, w.gw.DeviceURL(), b.String()); !strings.HasPrefix(got, "HTTP/1.1 400 ") {
					t.Fatalf("request %d: answered %q, want 400", i, firstLine(got))
				}
			}
		})
	}
	st, err := w.adm.Servers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range st {
		for _, s := range svc.Servers {
			if s.FailureCount != 0 || !s.Reachable {
				t.Fatalf("server %s: %d failures, reachable %v: a device's malformed body was blamed on it", s.Address, s.FailureCount, s.Reachable)
			}
		}
	}
}

// rawExchange writes req over TLS to the gateway and returns its answer
// up to the connection's close (the gateway closes after a bad body).
func rawExchange(t *testing.T, rawURL, req string) string {
	t.Helper()
	c := dialTLS(t, rawURL)
	defer c.Close()
	go io.WriteString(c, req) // the gateway may answer before it read everything
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, _ := io.ReadAll(c)
	return string(got)
}

// A Provision whose Content-Length is over the gateway's bound is refused
// 413 from its head: a device that asked "Expect: 100-continue" is not
// told to send a body the gateway would refuse anyway (RFC 9110 10.1.1),
// and nothing waits for it.
func TestOversizedProvisionIsRefusedBeforeItsBody(t *testing.T) {
	w := newWorld(t)
	q := &eas.Query{Cmd: eas.CmdProvision, User: "alice", DeviceID: "EXPECTPHONE", DeviceType: "iPhone"}
	head := "POST /Microsoft-Server-ActiveSync?" + q.Encode(false) + " HTTP/1.1\r\nHost: gw\r\n" +
		"Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("alice:alice-pw")) + "\r\n" +
		eas.HeaderProtocolVersion + ": 14.1\r\nContent-Type: " + eas.ContentTypeWBXML + "\r\n" +
		"Expect: 100-continue\r\nContent-Length: 10000000000\r\nConnection: close\r\n\r\n"
	if got := rawExchange(t, w.gw.DeviceURL(), head); !strings.HasPrefix(got, "HTTP/1.1 413 ") {
		t.Fatalf("answered %q, want 413 at once", firstLine(got))
	}
}
