package gateway_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/gateway/alerts"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// ALR-03, STA-04: statuses inside the fake Exchange's bodies. A Ping
// answered Status 2 (changes found) raises AS_PING, as the seeds say the
// appliance does although it is no error; a FolderSync answered Status 9
// (bad sync key) counts in active-sync-status-reports and raises
// AS_FOLDERSYNC. Success (Status 1) raises nothing.
func TestALR03StatusesInsideExchangeBodies(t *testing.T) {
	w, _ := alertWorld(t, nil)
	w.provision("ALICEPHONE", "alice")
	fs, _ := wbxml.MarshalStruct(&eas.FolderSyncRequest{SyncKey: "0"})
	code, root := w.post("ALICEPHONE", "alice", eas.CmdFolderSync, fs)
	var fr eas.FolderSyncResponse
	if code != http.StatusOK || root == nil || wbxml.NodeToStruct(root, &fr) != nil || fr.Changes == nil {
		t.Fatalf("FolderSync: HTTP %d", code)
	}
	inbox := ""
	for _, f := range fr.Changes.Add {
		if f.Type == 2 {
			inbox = f.ServerId
		}
	}
	reports := func() uint64 { return w.entry("ALICEPHONE", "alice")["active-sync-status-reports"] }
	if n := reports(); n != 0 {
		t.Fatalf("a FolderSync with Status 1: %d status reports", n)
	}
	first, _ := wbxml.MarshalStruct(&eas.SyncRequest{Collections: []eas.SyncCollection{{SyncKey: "0", CollectionId: inbox}}})
	w.post("ALICEPHONE", "alice", eas.CmdSync, first) // a sync key for the Inbox, its mail still to come
	ping, _ := wbxml.MarshalStruct(&eas.PingRequest{HeartbeatInterval: 480, Folders: []eas.PingFolder{{Id: inbox, Class: "Email"}}})
	if _, root := w.post("ALICEPHONE", "alice", eas.CmdPing, ping); root == nil || statusOf(root) != "2" {
		t.Fatalf("Ping on an Inbox with unsynced mail: %v, want Status 2", root)
	}
	bad, _ := wbxml.MarshalStruct(&eas.FolderSyncRequest{SyncKey: "no-such-key"})
	if _, root := w.post("ALICEPHONE", "alice", eas.CmdFolderSync, bad); root == nil || statusOf(root) == "1" {
		t.Fatal("FolderSync with a bad key: Status 1")
	}
	if n := reports(); n != 1 {
		t.Errorf("active-sync-status-reports = %d after one FolderSync error, want 1", n)
	}
	gomega.NewWithT(t).Eventually(func() []string {
		as, err := viewAlerts(w, "")
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, a := range as {
			if a.ID != alerts.IDRestart { // the gateway's start (ALR-04)
				ids = append(ids, a.ID)
			}
		}
		return ids
	}).WithTimeout(20 * time.Second).Should(gomega.ConsistOf(alerts.CommandID("Ping"), alerts.CommandID("FolderSync")))
}

func statusOf(root *wbxml.Node) string {
	for _, c := range root.Children {
		if c.Tag.Name() == "Status" {
			return c.Text()
		}
	}
	return ""
}
