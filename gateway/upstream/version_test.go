package upstream

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

func limitedRouter(t *testing.T, limit string) (*Router, *exchange) {
	a := newExchange(t, "a", false)
	svc := service("default", a)
	svc.LimitProtocolVersion = limit
	return newRouter(t, asConfig(svc), defaultMgmt(), defaultTimeouts(), Options{}), a
}

func TestASC08_LimitProtocolVersionRewritesOptions(t *testing.T) {
	r, _ := limitedRouter(t, "14.1")
	req := httptest.NewRequest(http.MethodOptions, "http://gw/Microsoft-Server-ActiveSync", nil)
	req.RequestURI = ""
	resp, _ := mustDo(t, r, req)
	if got := resp.Header.Get(eas.HeaderProtocolVersions); got != "2.5,12.0,12.1,14.0,14.1" {
		t.Fatalf("MS-ASProtocolVersions = %q", got)
	}
	if got := resp.Header.Get(eas.HeaderProtocolCommands); got != "Sync,FolderSync,Ping" {
		t.Fatalf("commands changed: %q", got)
	}
	o, err := eas.ParseOptionsHeaders(resp.Header)
	if err != nil || o.Versions[len(o.Versions)-1] != eas.V141 {
		t.Fatalf("parsed %+v, %v", o, err)
	}
}

func TestASC08_CommandsAboveTheLimitAreRefusedEveryTime(t *testing.T) {
	r, a := limitedRouter(t, "14.0")
	reg := stats.NewRegistry()
	for range 3 {
		req, _ := withDevice(easRequest("gw", "Sync", "x"), reg) // MS-ASProtocolVersion 14.1
		resp, _ := mustDo(t, r, req)
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get(eas.HeaderProtocolVersions) != "12.0,12.1,14.0" {
			t.Fatalf("got %d %q", resp.StatusCode, resp.Header.Get(eas.HeaderProtocolVersions))
		}
	}
	if a.hits.Load() != 0 {
		t.Fatal("a refused command reached the server")
	}
	if d, _ := reg.Lookup("DEV1", "alice"); d.Get(stats.DHTTP400C2S) != 3 {
		t.Fatalf("d-http-400-c2s = %d", d.Get(stats.DHTTP400C2S))
	}
	// Base64 query form: the version is the query's byte.
	q := eas.Query{Cmd: eas.CmdSync, User: "alice", DeviceID: "DEV1", DeviceType: "iPhone", Base64: true, Version: eas.V160}
	req := httptest.NewRequest(http.MethodPost, "http://gw/Microsoft-Server-ActiveSync?"+q.Encode(true), nil)
	req.RequestURI = ""
	if resp, _ := mustDo(t, r, req); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("base64 16.0 got %d", resp.StatusCode)
	}
	// At or below the limit: relayed.
	ok := easRequest("gw", "Sync", "x")
	ok.Header.Set("MS-ASProtocolVersion", "14.0")
	if resp, _ := mustDo(t, r, ok); resp.StatusCode != http.StatusOK || a.hits.Load() != 1 {
		t.Fatalf("14.0 got %d", resp.StatusCode)
	}
}
