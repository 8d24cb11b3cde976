package exchange

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/internal/peers"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

func TestJournalRecordsWhatWasReceivedAndSent(t *testing.T) {
	srv := startServer(t, Config{JournalEntries: 4, JournalBodyBytes: 4096})
	c := newClient(t, srv, "user1", "DEVJRNL", eas.V141)
	c.provision()
	body := xmlBody(t, `<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>`)
	resp, got := c.raw(eas.CmdFolderSync, nil, eas.ContentTypeWBXML, body)

	es := srv.Requests(JournalFilter{Device: "DEVJRNL", Cmd: "FolderSync"})
	if len(es) != 1 {
		t.Fatalf("journal has %d FolderSync entries, want 1", len(es))
	}
	e := es[0]
	if e.User != "user1" || e.Version != "14.1" || e.Method != http.MethodPost || e.Path != EASPath || !strings.Contains(e.Query, "Cmd=FolderSync") {
		t.Errorf("entry identity: %+v", e)
	}
	if !bytes.Equal(e.RequestBody, body) || e.RequestBodyLen != int64(len(body)) || e.RequestTruncated {
		t.Errorf("request body %x (len %d), sent %x", e.RequestBody, e.RequestBodyLen, body)
	}
	if e.Status != resp.StatusCode || !bytes.Equal(e.ResponseBody, got) || e.ResponseHeader.Get("Content-Type") != eas.ContentTypeWBXML {
		t.Errorf("answer: status %d, header %v, body equal %v", e.Status, e.ResponseHeader, bytes.Equal(e.ResponseBody, got))
	}
	if e.RequestHeader.Get(eas.HeaderPolicyKey) != c.policyKey || e.RequestHeader.Get(eas.HeaderProtocolVersion) != "14.1" {
		t.Errorf("request headers: %v", e.RequestHeader)
	}
	if e.RequestHeader.Get("Authorization") != "" {
		t.Fatal("the journal keeps the Authorization header")
	}
	req, _ := http.NewRequest(http.MethodPost, "https://x", nil)
	req.SetBasicAuth(c.user.Name, c.password)
	sum := sha256.Sum256([]byte(req.Header.Get("Authorization")))
	if e.AuthorizationSHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("authorization hash %q", e.AuthorizationSHA256)
	}

	// Bounded by count: 2 Provisions + FolderSync + 3 more = 6, 4 kept.
	for range 3 {
		c.raw(eas.CmdPing, nil, eas.ContentTypeWBXML, nil)
	}
	all := srv.Requests(JournalFilter{})
	if len(all) != 4 || all[0].Seq != 3 || all[3].Seq != 6 || all[0].Cmd != "FolderSync" {
		t.Fatalf("kept %d entries (first seq %d), want the last 4", len(all), all[0].Seq)
	}
	if got := srv.Requests(JournalFilter{After: 4, Limit: 1}); len(got) != 1 || got[0].Seq != 6 {
		t.Errorf("after 4, limit 1: %+v", got)
	}

	// Bounded per body: a long body is kept truncated, its length counted.
	big := bytes.Repeat([]byte("x"), 10000)
	c.raw(eas.CmdSendMail, nil, eas.ContentTypeMessage, big)
	last := srv.Requests(JournalFilter{Cmd: "SendMail"})
	if len(last) != 1 || len(last[0].RequestBody) != 4096 || last[0].RequestBodyLen != 10000 || !last[0].RequestTruncated {
		t.Fatalf("long body: kept %d of %d, truncated %v", len(last[0].RequestBody), last[0].RequestBodyLen, last[0].RequestTruncated)
	}

	// The admin API and its client give the same entries.
	ac := NewAdminClient(srv.AdminURL(), srv.AdminToken(), httpClient(srv))
	viaAPI, err := ac.Requests(context.Background(), JournalFilter{User: "USER1", Cmd: "SendMail", Limit: 10})
	if err != nil || len(viaAPI) != 1 || viaAPI[0].Seq != last[0].Seq || !bytes.Equal(viaAPI[0].RequestBody, last[0].RequestBody) {
		t.Fatalf("admin client: %v %d entries", err, len(viaAPI))
	}
	if st := adminCall(t, srv, http.MethodGet, "/admin/v1/requests?colour=red", nil, nil); st != http.StatusBadRequest {
		t.Errorf("unknown filter: HTTP %d, want 400", st)
	}
}

func TestJournalOff(t *testing.T) {
	srv := startServer(t, Config{JournalEntries: -1})
	c := newClient(t, srv, "user1", "DEVNOJ", eas.V141)
	c.provision()
	if got := srv.Requests(JournalFilter{}); got != nil {
		t.Fatalf("journal off kept %d entries", len(got))
	}
	var v RequestsView
	if st := adminCall(t, srv, http.MethodGet, "/admin/v1/requests", nil, &v); st != 200 || v.Enabled || len(v.Requests) != 0 {
		t.Fatalf("HTTP %d %+v", st, v)
	}
}

// The answers of the added commands decode with libwbxml (Debian
// libwbxml2-utils) to the tree our codec reads. libwbxml has no Find code
// page, so Find is checked by the Go round trip only.
func TestAddedCommandsAnswersDecodeWithLibwbxml(t *testing.T) {
	wbxml2xml := peers.Require(t, "wbxml2xml", "libwbxml2-utils")
	srv := startServer(t, Config{})
	c := newClient(t, srv, "user1", "DEVLIB", eas.V141)
	c.provision()
	key := c.folderSync("0").SyncKey
	for _, tc := range []struct {
		cmd eas.Command
		req string
	}{
		{eas.CmdFolderCreate, `<FolderCreate xmlns="FolderHierarchy:"><SyncKey>` + key + `</SyncKey><ParentId>0</ParentId><DisplayName>Lib</DisplayName><Type>12</Type></FolderCreate>`},
		{eas.CmdSearch, `<Search xmlns="Search:"><Store><Name>GAL</Name><Query>user</Query><Options><Range>0-9</Range></Options></Store></Search>`},
		{eas.CmdSearch, `<Search xmlns="Search:"><Store><Name>Mailbox</Name><Query><And><CollectionId xmlns="AirSync:">1</CollectionId><FreeText>a</FreeText></And></Query></Store></Search>`},
		{eas.CmdResolveRecipients, `<ResolveRecipients xmlns="ResolveRecipients:"><To>user</To><Options><CertificateRetrieval>2</CertificateRetrieval></Options></ResolveRecipients>`},
		{eas.CmdValidateCert, `<ValidateCert xmlns="ValidateCert:"><Certificates><Certificate>bm90IGEgY2VydA==</Certificate></Certificates></ValidateCert>`},
		{eas.CmdMeetingResponse, `<MeetingResponse xmlns="MeetingResponse:"><Request><UserResponse>1</UserResponse><CollectionId>1</CollectionId><RequestId>1:1</RequestId></Request></MeetingResponse>`},
	} {
		r, st := c.tree(tc.cmd, tc.req)
		if st != 200 || r == nil {
			t.Fatalf("%s: HTTP %d", tc.cmd, st)
		}
		raw, _ := wbxml.Marshal(r)
		dir := t.TempDir()
		in, out := filepath.Join(dir, "in.wbxml"), filepath.Join(dir, "out.xml")
		if err := os.WriteFile(in, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		if b, err := exec.Command(wbxml2xml, "-l", "ACTIVESYNC", "-m", "0", "-o", out, in).CombinedOutput(); err != nil {
			t.Fatalf("%s: wbxml2xml: %v\n%s", tc.cmd, err, b)
		}
		back, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		tree, err := wbxml.ParseXML(bytes.NewReader(back))
		if err != nil {
			t.Fatalf("%s: wbxml2xml output: %v\n%s", tc.cmd, err, back)
		}
		if d := wbxml.Diff(r, tree); d != "" {
			t.Errorf("%s: libwbxml reads another tree: %s", tc.cmd, d)
		}
	}
}
