package exchange

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

func TestProvisionFolderSyncSyncEndToEnd(t *testing.T) {
	for _, v := range []eas.Version{eas.V121, eas.V141, eas.V161} {
		t.Run(v.String(), func(t *testing.T) {
			srv := startServer(t, Config{})
			c := newClient(t, srv, "user1", "DEV"+v.String()[:2], v)
			c.provision()

			fs := c.folderSync("0")
			if fs.Status != 1 || fs.SyncKey == "" || fs.Changes == nil || *fs.Changes.Count != len(defaultFolders) {
				t.Fatalf("FolderSync: %+v", fs)
			}
			types := map[int]string{}
			for _, f := range fs.Changes.Add {
				types[f.Type] = f.DisplayName
				if f.ParentId != "0" {
					t.Errorf("folder %s has ParentId %q", f.DisplayName, f.ParentId)
				}
			}
			for typ := 2; typ <= 10; typ++ {
				if types[typ] == "" {
					t.Errorf("no folder of type %d", typ)
				}
			}
			again := c.folderSync(fs.SyncKey)
			if again.Status != 1 || *again.Changes.Count != 0 {
				t.Errorf("FolderSync with current key: %+v", again)
			}
			if bad := c.folderSync("bogus"); bad.Status != 9 {
				t.Errorf("FolderSync with bad key: status %d, want 9", bad.Status)
			}

			in := inbox(t, fs)
			r0 := c.syncOnce(in, "0", 0)
			if r0.Status != 1 || r0.SyncKey == "0" || r0.Commands != nil {
				t.Fatalf("initial sync: %+v", r0)
			}
			// WindowSize smaller than the Inbox: MoreAvailable, then the rest.
			gen := srv.Generated("user1")
			r1 := c.syncOnce(in, r0.SyncKey, 5)
			if r1.Status != 1 || r1.Commands == nil || len(r1.Commands.Add) != 5 || !r1.MoreAvailable {
				t.Fatalf("first window: status %d, more %v, %d adds", r1.Status, r1.MoreAvailable, countAdds(r1))
			}
			r2 := c.syncOnce(in, r1.SyncKey, 50)
			if r2.Commands == nil || len(r2.Commands.Add) != len(gen)-5 || r2.MoreAvailable {
				t.Fatalf("second window: more %v, %d adds, want %d", r2.MoreAvailable, countAdds(r2), len(gen)-5)
			}
			seen := map[string]bool{}
			for _, a := range append(r1.Commands.Add, r2.Commands.Add...) {
				seen[a.ApplicationData.Subject] = true
				b := a.ApplicationData.Body
				if b == nil || b.Type != eas.BodyMIME || b.Data == nil {
					t.Fatalf("%s: body %+v, want MIME", a.ServerId, b)
				}
			}
			for _, g := range gen {
				if !seen[g.Subject] {
					t.Errorf("generated %q not synced", g.Subject)
				}
			}
			// Nothing new: no commands. Then inject one: only it comes back.
			r3 := c.syncOnce(in, r2.SyncKey, 50)
			if r3.Commands != nil {
				t.Fatalf("idle sync returned commands: %+v", r3.Commands)
			}
			if _, err := srv.Inject("user1", InjectRequest{Subject: "fresh", Body: "new mail"}); err != nil {
				t.Fatal(err)
			}
			r4 := c.syncOnce(in, r3.SyncKey, 50)
			if r4.Commands == nil || len(r4.Commands.Add) != 1 || r4.Commands.Add[0].ApplicationData.Subject != "fresh" {
				t.Fatalf("incremental sync: %+v", r4.Commands)
			}
			// A stale key: Status 3 with SyncKey 0.
			if r := c.syncOnce(in, r1.SyncKey, 50); r.Status != 3 || r.SyncKey != "0" {
				t.Fatalf("stale key: status %d key %q", r.Status, r.SyncKey)
			}
		})
	}
}

func countAdds(r *eas.SyncCollectionResponse) int {
	if r.Commands == nil {
		return 0
	}
	return len(r.Commands.Add)
}

func TestSyncClientChangesAndDeletes(t *testing.T) {
	srv := startServer(t, Config{})
	c := newClient(t, srv, "user2", "DEVCHG", eas.V161)
	c.provision()
	in := inbox(t, c.folderSync("0"))
	key := c.syncOnce(in, "0", 0).SyncKey
	r := c.syncOnce(in, key, 100)
	first, second := r.Commands.Add[0].ServerId, r.Commands.Add[1].ServerId
	col := eas.SyncCollection{SyncKey: r.SyncKey, CollectionId: in, Commands: &eas.SyncCommands{
		Change: []eas.SyncItem{{ServerId: first, ApplicationData: &eas.EmailData{Read: eas.Ptr(true)}}, {ServerId: "1:999999", ApplicationData: &eas.EmailData{Read: eas.Ptr(true)}}},
		Delete: []eas.SyncItem{{ServerId: second}},
	}}
	var resp eas.SyncResponse
	c.call(eas.CmdSync, &eas.SyncRequest{Collections: []eas.SyncCollection{col}}, &resp)
	cr := resp.Collections[0]
	if cr.Status != 1 || cr.Responses == nil || len(cr.Responses.Change) != 1 || cr.Responses.Change[0].Status != 8 {
		t.Fatalf("responses: %+v", cr.Responses)
	}
	if cr.Commands != nil {
		t.Errorf("the device's own changes came back: %+v", cr.Commands)
	}
	mi := srv.mailbox("user2").info()
	var read, inTrash bool
	for _, f := range mi.Folders {
		for _, m := range f.Messages {
			if m.ServerID == first {
				read = m.Read
			}
			if f.Type == FolderTypeDeleted && m.Subject == r.Commands.Add[1].ApplicationData.Subject {
				inTrash = true
			}
		}
	}
	if !read || !inTrash {
		t.Errorf("read=%v, deleted item in Deleted Items=%v", read, inTrash)
	}
}

func TestAttachmentFetchMatchesGenerator(t *testing.T) {
	srv := startServer(t, Config{})
	c := newClient(t, srv, "user1", "DEVATT", eas.V161)
	c.provision()
	in := inbox(t, c.folderSync("0"))
	key := c.syncOnce(in, "0", 0).SyncKey
	r := c.syncOnce(in, key, 100)
	want := map[string][]byte{} // attachment name → generated bytes
	for _, g := range srv.Generated("user1") {
		for _, a := range g.Attachments {
			if a.Data != nil {
				want[a.Name] = a.Data
			}
		}
	}
	checked := 0
	for _, add := range r.Commands.Add {
		for _, a := range add.ApplicationData.Attachments {
			exp, ok := want[a.DisplayName]
			if !ok {
				continue
			}
			fetch := &eas.ItemOperationsRequest{Fetch: []eas.FetchRequest{{Store: "Mailbox", FileReference: a.FileReference}}}
			// Inline: base64 in Properties/Data.
			c.multipart = false
			var io eas.ItemOperationsResponse
			c.call(eas.CmdItemOperations, fetch, &io)
			got, err := base64.StdEncoding.DecodeString(*io.Response.Fetch[0].Properties.Data)
			if err != nil || !bytes.Equal(got, exp) {
				t.Fatalf("%s inline: %d bytes, want %d (err %v)", a.DisplayName, len(got), len(exp), err)
			}
			// Multipart: raw bytes in the part Properties/Part names.
			c.multipart = true
			body, _ := eas.EncodeMessage(fetch)
			resp, b := c.raw(eas.CmdItemOperations, nil, eas.ContentTypeWBXML, body)
			if ct := resp.Header.Get("Content-Type"); ct != eas.ContentTypeMultipart {
				t.Fatalf("multipart Content-Type %q", ct)
			}
			parts, err := eas.ParseMultipart(b, eas.MultipartLimits{})
			if err != nil {
				t.Fatal(err)
			}
			var mio eas.ItemOperationsResponse
			msg, err := eas.DecodeAs(parts[0], wbxml.DefaultLimits, eas.ServerToClient)
			if err != nil {
				t.Fatal(err)
			}
			mio = *msg.(*eas.ItemOperationsResponse)
			p := mio.Response.Fetch[0].Properties
			if p.Part < 1 || p.Part >= len(parts) || !bytes.Equal(parts[p.Part], exp) {
				t.Fatalf("%s multipart: part %d mismatch", a.DisplayName, p.Part)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no generated attachment found in the Inbox")
	}
	// 12.1 GetAttachment returns the raw bytes.
	c12 := newClient(t, srv, "user1", "DEVATT12", eas.V121)
	c12.provision()
	for _, add := range r.Commands.Add {
		for _, a := range add.ApplicationData.Attachments {
			if exp, ok := want[a.DisplayName]; ok {
				resp, b := c12.raw(eas.CmdGetAttachment, map[string][]string{"AttachmentName": {a.FileReference}}, "", nil)
				if resp.StatusCode != http.StatusOK || !bytes.Equal(b, exp) {
					t.Fatalf("GetAttachment %s: HTTP %d, %d bytes", a.DisplayName, resp.StatusCode, len(b))
				}
				return
			}
		}
	}
}

// A fetch of an attachment the mailbox does not have is answered as
// Exchange answers it (MS-ASCMD): ItemOperations keeps HTTP 200 and says
// so in the Fetch's Status, 15 for an attachment (2.2.3.177.7, "attachment
// or attachment ID is invalid"; MS-ASAIRS 2.2.2.24.1) and 6 for a mailbox
// item; GetAttachment answers HTTP 500, which MS-ASCMD 2.2.2.6 specifies
// for an attachment deleted on the server.
func TestMissingAttachmentAnswersAsExchange(t *testing.T) {
	srv := startServer(t, Config{})
	c := newClient(t, srv, "user1", "DEVMISS", eas.V161)
	c.provision()
	in := inbox(t, c.folderSync("0"))
	missing := []eas.FetchRequest{
		{Store: "Mailbox", FileReference: in + ":999999:0"},
		{Store: "Mailbox", FileReference: "no-such-reference"},
		{Store: "Mailbox", CollectionId: in, ServerId: in + ":999999"},
	}
	want := []int{15, 15, 6}
	for _, multipart := range []bool{false, true} {
		c.multipart = multipart
		body, _ := eas.EncodeMessage(&eas.ItemOperationsRequest{Fetch: missing})
		resp, b := c.raw(eas.CmdItemOperations, nil, eas.ContentTypeWBXML, body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("multipart=%v: HTTP %d", multipart, resp.StatusCode)
		}
		if multipart {
			parts, err := eas.ParseMultipart(b, eas.MultipartLimits{})
			if err != nil || len(parts) != 1 {
				t.Fatalf("multipart: %v, %d parts", err, len(parts))
			}
			b = parts[0]
		}
		var r eas.ItemOperationsResponse
		if err := wbxml.UnmarshalStruct(b, &r, wbxml.DefaultLimits); err != nil || r.Status != 1 || r.Response == nil || len(r.Response.Fetch) != len(want) {
			t.Fatalf("multipart=%v: %v %+v", multipart, err, r)
		}
		for i, f := range r.Response.Fetch {
			if f.Status != want[i] || f.Properties != nil {
				t.Errorf("multipart=%v fetch %d: Status %d with properties %v, want %d and none", multipart, i, f.Status, f.Properties != nil, want[i])
			}
		}
	}
	c12 := newClient(t, srv, "user1", "DEVMISS12", eas.V121)
	c12.provision()
	resp, _ := c12.raw(eas.CmdGetAttachment, map[string][]string{"AttachmentName": {in + ":999999:0"}}, "", nil)
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("GetAttachment of a missing attachment: HTTP %d, want 500 (MS-ASCMD 2.2.2.6)", resp.StatusCode)
	}
}
