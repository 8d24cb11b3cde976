package exchange

import (
	"bytes"
	"net/http"
	"strconv"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

func TestBase64Query(t *testing.T) {
	srv := startServer(t, Config{})
	c := newClient(t, srv, "user1", "DEVB64", eas.V141)
	c.provision()
	key, _ := strconv.ParseUint(c.policyKey, 10, 32)
	q := &eas.Query{Cmd: eas.CmdFolderSync, User: "user1", DeviceID: "DEVB64", DeviceType: "TestPhone", Version: eas.V141,
		Locale: 0x0409, PolicyKey: uint32(key), HasPolicyKey: true}
	req, _ := http.NewRequest("POST", srv.EASURL()+"?"+q.Encode(true), bytes.NewReader(mustEncode(t, &eas.FolderSyncRequest{SyncKey: "0"})))
	req.SetBasicAuth("user1", c.password)
	req.Header.Set("Content-Type", eas.ContentTypeWBXML)
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var fs eas.FolderSyncResponse
	buf := new(bytes.Buffer)
	_, _ = buf.ReadFrom(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	msg, err := eas.DecodeAs(buf.Bytes(), wbxml.DefaultLimits, eas.ServerToClient)
	if err != nil {
		t.Fatal(err)
	}
	fs = *msg.(*eas.FolderSyncResponse)
	if fs.Status != 1 || *fs.Changes.Count != len(defaultFolders) {
		t.Fatalf("%+v", fs)
	}
}

func TestBadRequests(t *testing.T) {
	srv := startServer(t, Config{MaxRequestBody: 4096})
	c := newClient(t, srv, "user1", "DEVBAD", eas.V161)
	c.provision()
	for _, tc := range []struct {
		name string
		cmd  eas.Command
		body []byte
		want int
	}{
		{"oversized body", eas.CmdSendMail, bytes.Repeat([]byte("x"), 5000), http.StatusRequestEntityTooLarge},
		{"not WBXML", eas.CmdFolderSync, []byte("<FolderSync/>"), http.StatusBadRequest},
		{"empty Search request", eas.CmdSearch, nil, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := c.raw(tc.cmd, nil, eas.ContentTypeWBXML, tc.body)
			if resp.StatusCode != tc.want {
				t.Fatalf("HTTP %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	req, _ := http.NewRequest("POST", srv.EASURL()+"?Cmd=Sync", nil)
	req.SetBasicAuth("user1", c.password)
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("query without DeviceId: HTTP %d", resp.StatusCode)
	}
}
