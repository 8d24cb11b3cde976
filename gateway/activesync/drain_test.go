package activesync

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync/uemsynctest"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// A stopping gateway answers hanging Pings at once with Status 1 (the
// device Pings again and finds the restarted gateway) and lets the
// server's side go; a Sync in flight runs to its end.
func TestDrainAnswersHangingPings(t *testing.T) {
	hanging := make(chan eas.Command, 2)
	syncGo := make(chan struct{})
	serverSawCancel := make(chan struct{}, 1)
	up := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			return // the gateway's credential check for a new device
		}
		q, _ := eas.ParseQuery(r.URL.RawQuery)
		hanging <- q.Cmd
		switch q.Cmd {
		case eas.CmdPing:
			select { // a Ping hangs until its heartbeat (here: never)
			case <-r.Context().Done():
				serverSawCancel <- struct{}{}
			case <-time.After(time.Minute):
			}
		case eas.CmdSync:
			<-syncGo
			writeStatus(w, eas.CmdSync, eas.StatusSuccess)
		}
	}))
	defer up.Close()
	upURL, _ := url.Parse(up.URL)
	cache := devicecache.New(nil)
	link, err := uemsync.New(uemsync.Config{UEM: uemsynctest.New(), Cache: cache, FailOpen: true, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{Upstream: upURL, Transport: up.Client().Transport, Link: link, Cache: cache, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	gw := httptest.NewTLSServer(h)
	defer gw.Close()

	type answer struct {
		code int
		body []byte
		err  error
	}
	send := func(cmd eas.Command, dev string) <-chan answer {
		out := make(chan answer, 1)
		go func() {
			q := &eas.Query{Cmd: cmd, User: "alice", DeviceID: dev, DeviceType: "iPhone"}
			req, _ := http.NewRequest(http.MethodPost, gw.URL+"/Microsoft-Server-ActiveSync?"+q.Encode(false), bytes.NewReader(nil))
			req.SetBasicAuth("alice", "pw")
			req.Header.Set(eas.HeaderProtocolVersion, "16.1")
			resp, err := gw.Client().Do(req)
			if err != nil {
				out <- answer{err: err}
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			out <- answer{resp.StatusCode, b, err}
		}()
		return out
	}
	ping, sync := send(eas.CmdPing, "DEVP"), send(eas.CmdSync, "DEVS")
	for range 2 { // both reached the server and hang there
		select {
		case <-hanging:
		case <-time.After(10 * time.Second):
			t.Fatal("the requests did not reach the server")
		}
	}

	h.Drain()
	a := <-ping
	if a.err != nil || a.code != http.StatusOK {
		t.Fatalf("drained Ping: %d %v", a.code, a.err)
	}
	d, err := wbxml.Parse(a.body, wbxml.Limits{})
	if err != nil || d.Root.Tag.String() != "Ping:Ping" || statusOf(d.Root) != "1" {
		t.Fatalf("drained Ping answered %x (%v), want Ping Status 1", a.body, err)
	}
	select {
	case <-serverSawCancel:
	case <-time.After(10 * time.Second):
		t.Fatal("the server's Ping was not released")
	}
	select {
	case s := <-sync:
		t.Fatalf("the Sync ended with the drain: %+v", s)
	default:
	}
	close(syncGo)
	if s := <-sync; s.err != nil || s.code != http.StatusOK {
		t.Fatalf("Sync after the drain: %d %v", s.code, s.err)
	}
	// A Ping arriving after the drain is answered at once too.
	if a := <-send(eas.CmdPing, "DEVP2"); a.err != nil || a.code != http.StatusOK {
		t.Fatalf("Ping after the drain: %d %v", a.code, a.err)
	}
}
