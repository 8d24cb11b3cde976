package exchange

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

func setFaults(t *testing.T, srv *Server, f Faults) FaultsView {
	t.Helper()
	var v FaultsView
	if st := adminCall(t, srv, "PUT", "/admin/v1/faults", f, &v); st != 200 {
		t.Fatalf("PUT faults: HTTP %d", st)
	}
	return v
}

func health(srv *Server, hc *http.Client) (int, error) {
	resp, err := hc.Get(srv.URL() + "/health")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	return resp.StatusCode, err
}

func TestFaultDown(t *testing.T) {
	srv := startServer(t, Config{})
	hc := httpClient(srv)
	setFaults(t, srv, Faults{Down: true})
	hc.CloseIdleConnections()
	if _, err := health(srv, hc); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("down: err %v, want connection refused", err)
	}
	setFaults(t, srv, Faults{})
	if st, err := health(srv, hc); err != nil || st != 200 {
		t.Fatalf("up again: %d %v", st, err)
	}
}

func TestFaultErrorsLatencyResetsSlowBody(t *testing.T) {
	srv := startServer(t, Config{})
	hc := httpClient(srv)
	t.Run("5xx", func(t *testing.T) {
		setFaults(t, srv, Faults{ErrorRate: 1, ErrorStatus: 502})
		if st, _ := health(srv, hc); st != 502 {
			t.Fatalf("status %d", st)
		}
	})
	t.Run("latency", func(t *testing.T) {
		setFaults(t, srv, Faults{LatencyMs: 300})
		start := time.Now()
		if st, err := health(srv, hc); err != nil || st != 200 || time.Since(start) < 300*time.Millisecond {
			t.Fatalf("status %d err %v after %v", st, err, time.Since(start))
		}
	})
	t.Run("reset", func(t *testing.T) {
		setFaults(t, srv, Faults{ResetRate: 1})
		if _, err := health(srv, hc); err == nil {
			t.Fatal("request survived a reset")
		}
	})
	t.Run("slow body", func(t *testing.T) {
		c := newClient(t, srv, "user1", "DEVSLOW", eas.V161)
		setFaults(t, srv, Faults{})
		c.provision()
		setFaults(t, srv, Faults{SlowBodyBytesPerSec: 1000}) // 100-byte writes, 100 ms apart
		start := time.Now()
		resp, b := c.raw(eas.CmdFolderSync, nil, eas.ContentTypeWBXML, mustEncode(t, &eas.FolderSyncRequest{SyncKey: "0"}))
		took := time.Since(start)
		if resp.StatusCode != 200 || len(b) < 200 {
			t.Fatalf("HTTP %d, %d bytes", resp.StatusCode, len(b))
		}
		if want := time.Duration((len(b)-1)/100) * 100 * time.Millisecond; took < want*9/10 {
			t.Fatalf("%d bytes in %v, want at least %v", len(b), took, want)
		}
	})
	var v FaultsView
	adminCall(t, srv, "GET", "/admin/v1/faults", nil, &v)
	if v.Counters.Errors == 0 || v.Counters.Delayed == 0 || v.Counters.Resets == 0 || v.Counters.Throttle == 0 {
		t.Fatalf("counters: %+v", v.Counters)
	}
	setFaults(t, srv, Faults{})
	if st, err := health(srv, hc); err != nil || st != 200 {
		t.Fatalf("cleared: %d %v", st, err)
	}
	var e errorBody
	if st := adminCall(t, srv, "PUT", "/admin/v1/faults", map[string]any{"error_rate": 2}, &e); st != 400 || e.Error == nil || e.Error.Field != "error_rate" {
		t.Fatalf("invalid fault: HTTP %d %+v", st, e.Error)
	}
}

// With the gzip fault a client that accepts gzip gets compressed WBXML
// (Go's transport asks for and decodes it by itself); one that does not
// gets it plain, and error answers are never compressed.
func TestFaultGzip(t *testing.T) {
	srv := startServer(t, Config{})
	c := newClient(t, srv, "user1", "DEVGZIP", eas.V161)
	setFaults(t, srv, Faults{Gzip: true})
	c.provision() // Provision and its acknowledgement decode through gzip
	resp, b := c.raw(eas.CmdFolderSync, nil, eas.ContentTypeWBXML, mustEncode(t, &eas.FolderSyncRequest{SyncKey: "0"}))
	if resp.StatusCode != 200 || !resp.Uncompressed || len(b) == 0 {
		t.Fatalf("FolderSync: HTTP %d, uncompressed by the transport %v, %d bytes", resp.StatusCode, resp.Uncompressed, len(b))
	}

	req, _ := http.NewRequest(http.MethodPost, srv.EASURL()+"?Cmd=FolderSync&User=user1&DeviceId=DEVGZIP&DeviceType=TestPhone",
		bytes.NewReader(mustEncode(t, &eas.FolderSyncRequest{SyncKey: "0"})))
	req.SetBasicAuth(c.user.Name, c.password)
	req.Header.Set(eas.HeaderProtocolVersion, "16.1")
	req.Header.Set(eas.HeaderPolicyKey, c.policyKey)
	req.Header.Set("Content-Type", eas.ContentTypeWBXML)
	for _, tc := range []struct {
		accept, want string
		status       int
	}{{"gzip, deflate", "gzip", 200}, {"identity", "", 200}, {"gzip;q=0", "", 200}} {
		req.Header.Set("Accept-Encoding", tc.accept)
		req.Body = io.NopCloser(bytes.NewReader(mustEncode(t, &eas.FolderSyncRequest{SyncKey: "0"})))
		resp, err := c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || resp.Header.Get("Content-Encoding") != tc.want {
			t.Fatalf("Accept-Encoding %q: HTTP %d, Content-Encoding %q, want %q", tc.accept, resp.StatusCode, resp.Header.Get("Content-Encoding"), tc.want)
		}
		if tc.want == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("not gzip: %v", err)
			}
			if plain, err := io.ReadAll(zr); err != nil || len(plain) == 0 || plain[0] != 0x03 { // WBXML 1.3
				t.Fatalf("gunzipped body: %d bytes, %v", len(plain), err)
			}
		}
	}
	req.SetBasicAuth(c.user.Name, "wrong")
	req.Header.Set("Accept-Encoding", "gzip")
	req.Body = io.NopCloser(bytes.NewReader(nil))
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("401 answer: HTTP %d, Content-Encoding %q", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
	if v := setFaults(t, srv, Faults{}); v.Counters.Compressed < 3 {
		t.Fatalf("counters: %+v", v.Counters)
	}
}
