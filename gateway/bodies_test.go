package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/gateway"
	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// slowBodyWorld is a world whose timeouts for request bodies are short:
// the UEM's socket read/write timeout for devices (ASC-20), the
// bootstrap control_read_timeout for notifications and the admin API.
func slowBodyWorld(t *testing.T) *world {
	return newWorld(t, func(w *world) {
		w.newExchange = func(t *testing.T) *exchange.Server {
			x, err := exchange.New(exchange.Config{Users: []exchange.User{
				{Name: "alice", Email: "alice@corp.example", Password: "alice-pw"},
			}, MessagesPerUser: 1, Seed: 7, MinHeartbeat: 1})
			if err != nil {
				t.Fatal(err)
			}
			if err := x.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { x.Shutdown(context.Background()) })
			return x
		}
		w.gwConfig = func(gc *uemapi.GatewayConfig) { gc.Timeouts.SocketReadWriteMs = 300 }
		w.gwBoot = func(c *gateway.Config) { c.ControlReadTimeout = 500 * time.Millisecond }
	})
}

// dialTLS opens a TLS connection to the host of rawURL (the gateway's
// test certificate is not checked), for tests that write raw bytes.
func dialTLS(t *testing.T, rawURL string) *tls.Conn {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tls.Dial("tcp", u.Host, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // the gateway's test certificate
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// dribble sends a request head over TLS, then its body one byte every
// gap (stall: one byte, then nothing), never finishing it, and returns
// what the gateway answered once it closed the connection. It fails the
// test if the connection is still open after bound: the gateway held it
// for a client that sends nothing worth waiting for.
func dribble(t *testing.T, rawURL, head string, gap time.Duration, stall bool) string {
	t.Helper()
	const bound = 20 * time.Second
	c := dialTLS(t, rawURL)
	defer c.Close()
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		tick := time.NewTicker(gap)
		defer tick.Stop()
		for i := 0; i < int(bound/gap)+1; i++ {
			if _, err := c.Write([]byte("x")); err != nil || stall {
				return
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	c.SetReadDeadline(time.Now().Add(bound))
	var got bytes.Buffer
	_, err := io.Copy(&got, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the gateway still held the connection after %v (answered %q)", bound, firstLine(got.String()))
	}
	return got.String()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}

// Bodies that never finish are cut on every listener: on the device side
// a read must bring data within the socket timeout and the body must
// keep a minimum rate (so a trickle that always comes just in time is cut
// too); on the control plane the body must be in within the overall
// limit. A Ping's long wait for its answer is not a slow body: its body
// is read at once, and the deadline ends with it.
func TestSlowRequestBodiesAreCut(t *testing.T) {
	w := slowBodyWorld(t)
	w.provision("SLOWPHONE", "alice")
	q := &eas.Query{Cmd: eas.CmdSync, User: "alice", DeviceID: "SLOWPHONE", DeviceType: "iPhone"}
	deviceHead := "POST /Microsoft-Server-ActiveSync?" + q.Encode(false) + " HTTP/1.1\r\nHost: gw\r\n" +
		"Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("alice:alice-pw")) + "\r\n" +
		eas.HeaderProtocolVersion + ": 14.1\r\n" + eas.HeaderPolicyKey + ": " + w.keys["SLOWPHONE"] + "\r\n" +
		"Content-Type: " + eas.ContentTypeWBXML + "\r\nContent-Length: 100000\r\n\r\n"
	notifyHead := "POST " + gateway.NotificationPath + " HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
	adminHead := "POST " + admin.Prefix + "device-cache/purge HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer admin-token\r\n" +
		"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
	for _, tc := range []struct {
		name, url, head string
		gap             time.Duration
		stall           bool
	}{
		{"device, stalled", w.gw.DeviceURL(), deviceHead, time.Second, true},
		{"device, a byte every 100ms", w.gw.DeviceURL(), deviceHead, 100 * time.Millisecond, false},
		{"notify, a byte every 100ms", w.gw.NotifyURL(), notifyHead, 100 * time.Millisecond, false},
		{"admin, a byte every 100ms", w.gw.AdminURL(), adminHead, 100 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := dribble(t, tc.url, tc.head, tc.gap, tc.stall)
			if strings.HasPrefix(got, "HTTP/1.1 2") {
				t.Fatalf("an unfinished body was answered %q", firstLine(got))
			}
		})
	}

	// A Ping waits for its answer (a heartbeat of 1 s) longer than the
	// socket timeout; its small body arrived at once and the deadline
	// ended with it, so nothing cuts the wait.
	fs, _ := wbxml.MarshalStruct(&eas.FolderSyncRequest{SyncKey: "0"})
	_, root := w.post("SLOWPHONE", "alice", eas.CmdFolderSync, fs)
	var fr eas.FolderSyncResponse
	if root == nil || wbxml.NodeToStruct(root, &fr) != nil || fr.Changes == nil || len(fr.Changes.Add) == 0 {
		t.Fatal("FolderSync failed")
	}
	ping, _ := wbxml.MarshalStruct(&eas.PingRequest{HeartbeatInterval: 1, Folders: []eas.PingFolder{{Id: fr.Changes.Add[0].ServerId, Class: "Email"}}})
	code, root := w.post("SLOWPHONE", "alice", eas.CmdPing, ping)
	var pr eas.PingResponse
	if code != http.StatusOK || root == nil || wbxml.NodeToStruct(root, &pr) != nil || pr.Status != 1 {
		t.Fatalf("a Ping held longer than the socket timeout: HTTP %d, status %d, want 200 and 1 (heartbeat expired)", code, pr.Status)
	}
}

// Bodies refused for their size are answered 413, not 400: Provision
// over its bound, a notification over MaxNotificationBody, an admin body
// over its bound.
func TestOversizedBodiesAre413(t *testing.T) {
	w := newWorld(t)
	w.provision("BIGPHONE", "alice")
	big := bytes.Repeat([]byte{0}, 2<<20)
	if code, _ := w.post("BIGPHONE", "alice", eas.CmdProvision, big); code != http.StatusRequestEntityTooLarge {
		t.Errorf("Provision of 2 MiB: HTTP %d, want 413", code)
	}
	// JSON that is well formed as far as a reader gets: only its size is wrong.
	bigJSON := append([]byte(`{"device_id":"`), bytes.Repeat([]byte("x"), 2<<20)...)
	for _, tc := range []struct{ name, url, token string }{
		{"notification", w.gw.NotifyURL(), ""},
		{"admin", w.gw.AdminURL() + admin.Prefix + "device-cache/purge", "admin-token"},
	} {
		for _, chunked := range []bool{false, true} {
			var body io.Reader = bytes.NewReader(bigJSON)
			if chunked {
				body = bufio.NewReader(body) // no length known: sent chunked
			}
			req, _ := http.NewRequest(http.MethodPost, tc.url, body)
			req.Header.Set("Content-Type", "application/json")
			if tc.token == "" {
				// Signed as a UEM would: the headers pass their checks,
				// which come before the body is read; only the size fails.
				ts := time.Now().Unix()
				req.Header.Set(uemapi.HeaderTimestamp, strconv.FormatInt(ts, 10))
				req.Header.Set(uemapi.HeaderSignature, uemapi.Sign([]byte(gwSecret), ts, bigJSON))
			}
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			resp, err := w.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("%s of 2 MiB (chunked %v): HTTP %d, want 413", tc.name, chunked, resp.StatusCode)
			}
		}
	}
}
