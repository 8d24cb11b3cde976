package gateway_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// sendAs sends a FolderSync for dev whose query names queryUser, with
// login's Basic credentials, and returns the HTTP and global statuses.
func (w *world) sendAs(dev, queryUser, login, password string) (int, string) {
	w.t.Helper()
	body, _ := wbxml.MarshalStruct(&eas.FolderSyncRequest{SyncKey: "0"})
	q := &eas.Query{Cmd: eas.CmdFolderSync, User: queryUser, DeviceID: dev, DeviceType: "iPhone"}
	req, _ := http.NewRequest(http.MethodPost, w.gw.DeviceURL()+"/Microsoft-Server-ActiveSync?"+q.Encode(false), bytes.NewReader(body))
	req.SetBasicAuth(login, password)
	req.Header.Set(eas.HeaderProtocolVersion, "14.1")
	req.Header.Set("Content-Type", eas.ContentTypeWBXML)
	resp, err := w.hc.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if d, err := wbxml.Parse(b, wbxml.Limits{}); err == nil {
		for _, c := range d.Root.Children {
			if c.Tag.Name() == "Status" {
				return resp.StatusCode, c.Text()
			}
		}
	}
	return resp.StatusCode, ""
}

func TestIdentityBindingEndToEnd(t *testing.T) {
	// Issue 18, against the fake Exchange (which logs "CORP\alice" and
	// "alice@corp.example" on as alice) and the fake UEM.
	w := newWorld(t)
	ctx := context.Background()

	// alice's password for bob's device and name: before, Exchange synced
	// alice's mailbox to BOBPHONE under bob's record.
	if code, _ := w.sendAs("BOBPHONE", "bob", "alice", "alice-pw"); code != http.StatusBadRequest {
		t.Fatalf("User=bob with alice's credentials: HTTP %d, want 400", code)
	}
	if partnered(w.exch, "BOBPHONE") {
		t.Fatal("Exchange partnered BOBPHONE")
	}
	if rows, _ := w.adm.ByDevice(ctx, "BOBPHONE"); len(rows) != 0 {
		t.Fatalf("cache rows for BOBPHONE: %+v", rows)
	}
	if cs, _ := w.adm.StatsGlobalDevice(ctx, "identity-mismatch"); len(cs) != 1 || cs[0].Value != 1 {
		t.Fatalf("identity-mismatch: %+v", cs)
	}

	// A device blocked for alice stays blocked whatever her name's spelling.
	w.provision("ALICEPHONE", "alice")
	a := w.association("ALICEPHONE", "alice")
	w.uemAdmin(http.MethodPost, "/associations/"+a["id"].(string)+"/actions", map[string]string{"action": "block", "note": "lost phone"}, nil)
	gomega.NewWithT(t).Eventually(func() bool { _, st := w.device("ALICEPHONE", "alice", eas.CmdSync); return st == "129" }).WithTimeout(20*time.Second).Should(gomega.BeTrue(), "block notification")
	for _, login := range []string{"alice@corp.example", `CORP\alice`, "Alice"} {
		if code, st := w.sendAs("ALICEPHONE", login, login, "alice-pw"); code != http.StatusOK || st != "129" {
			t.Errorf("%s: HTTP %d status %q, want blocked (129)", login, code, st)
		}
	}
	if rows, _ := w.adm.ByDevice(ctx, "ALICEPHONE"); len(rows) != 1 || rows[0].User != "alice" || rows[0].State != "B" {
		t.Fatalf("cache rows for ALICEPHONE: %+v", rows)
	}
}
