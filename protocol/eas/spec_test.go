package eas

import (
	"os"
	"reflect"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// Golden tests: examples from the MS-AS* specifications (testdata/spec,
// each file names its section) decode into the typed structs field by
// field, and the typed struct re-encodes to the example's tree.

func decodeSpec(t *testing.T, file string, dir Direction) (any, *wbxml.Node) {
	t.Helper()
	f, err := os.Open("testdata/spec/" + file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tree, err := wbxml.ParseXML(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := wbxml.Marshal(tree)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := DecodeAs(b, wbxml.DefaultLimits, dir)
	if err != nil {
		t.Fatal(err)
	}
	guessed, err := Decode(b, wbxml.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.TypeOf(guessed) != reflect.TypeOf(msg) {
		t.Errorf("Decode guessed %T, want %T", guessed, msg)
	}
	re, err := EncodeMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := wbxml.Parse(re, wbxml.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if d := wbxml.Diff(tree, doc.Root); d != "" {
		t.Errorf("re-encoded %T differs from the spec example: %s", msg, d)
	}
	return msg, tree
}

func check[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestSpecFolderSync(t *testing.T) {
	req, _ := decodeSpec(t, "foldersync-request.xml", ClientToServer)
	check(t, "request SyncKey", req.(*FolderSyncRequest).SyncKey, "0")

	msg, _ := decodeSpec(t, "foldersync-response.xml", ServerToClient)
	r := msg.(*FolderSyncResponse)
	check(t, "Status", r.Status, 1)
	check(t, "SyncKey", r.SyncKey, "1")
	if r.Changes == nil || r.Changes.Count == nil {
		t.Fatal("Changes/Count missing")
	}
	check(t, "Count", *r.Changes.Count, 13)
	check(t, "len(Add)", len(r.Changes.Add), 6)
	want := []Folder{
		{ServerId: "1", ParentId: "0", DisplayName: "Calendar", Type: 8},
		{ServerId: "2", ParentId: "0", DisplayName: "Contacts", Type: 9},
		{ServerId: "3", ParentId: "0", DisplayName: "Deleted Items", Type: 4},
		{ServerId: "4", ParentId: "0", DisplayName: "Drafts", Type: 3},
		{ServerId: "5", ParentId: "0", DisplayName: "Inbox", Type: 2},
		{ServerId: "12", ParentId: "5", DisplayName: "NewFolder", Type: 12},
	}
	if !reflect.DeepEqual(r.Changes.Add, want) {
		t.Errorf("Add = %+v\nwant %+v", r.Changes.Add, want)
	}
}

func TestSpecItemOperations(t *testing.T) {
	msg, _ := decodeSpec(t, "itemoperations-request.xml", ClientToServer)
	req := msg.(*ItemOperationsRequest)
	if len(req.Fetch) != 1 {
		t.Fatalf("%d Fetch, want 1", len(req.Fetch))
	}
	f := req.Fetch[0]
	check(t, "Store", f.Store, "Mailbox")
	check(t, "CollectionId", f.CollectionId, "11")
	check(t, "ServerId", f.ServerId, "11:1")
	if f.Options == nil || len(f.Options.BodyPreference) != 1 {
		t.Fatal("Options/BodyPreference missing")
	}
	bp := f.Options.BodyPreference[0]
	check(t, "BodyPreference.Type", bp.Type, BodyPlainText)
	check(t, "TruncationSize", bp.TruncationSize, uint32(256))
	if bp.AllOrNone == nil || *bp.AllOrNone {
		t.Errorf("AllOrNone = %v, want present and false", bp.AllOrNone)
	}

	msg, _ = decodeSpec(t, "itemoperations-response.xml", ServerToClient)
	resp := msg.(*ItemOperationsResponse)
	check(t, "Status", resp.Status, 1)
	fr := resp.Response.Fetch[0]
	check(t, "Fetch.Status", fr.Status, 1)
	check(t, "Fetch.ServerId", fr.ServerId, "11:1")
	check(t, "Fetch.Class", fr.Class, "Tasks")
	// The item's elements stay in order in Properties.Unknown.
	var names []string
	for _, n := range fr.Properties.Unknown {
		names = append(names, n.Tag.String())
	}
	check(t, "Properties children", len(names), 3)
	check(t, "first property", names[0], "AirSyncBase:Body")
	check(t, "second property", names[1], "Tasks:Subject")
	item, err := fr.Properties.Email()
	if err != nil {
		t.Fatal(err)
	}
	if item.Body == nil || item.Body.Type != BodyPlainText || item.Body.EstimatedDataSize != 0 {
		t.Errorf("Body = %+v", item.Body)
	}
}

func TestSpecSyncEmail(t *testing.T) {
	msg, _ := decodeSpec(t, "sync-response-email.xml", ServerToClient)
	r := msg.(*SyncResponse)
	c := r.Collections[0]
	check(t, "SyncKey", c.SyncKey, "1336143213")
	check(t, "CollectionId", c.CollectionId, "20")
	check(t, "Status", c.Status, 1)
	add := c.Commands.Add[0]
	check(t, "ServerId", add.ServerId, "20:2")
	e := add.ApplicationData
	check(t, "To", e.To, `"Device User" <someone@example.com>`)
	check(t, "From", e.From, `"7125550123" <7125550123>`)
	check(t, "Subject", e.Subject, "Voice Mail from 7125550123 (3 seconds)")
	check(t, "DateReceived", e.DateReceived, "2007-11-06T23:42:16.829Z")
	check(t, "DisplayTo", e.DisplayTo, "Device User")
	check(t, "ThreadTopic", e.ThreadTopic, "Voice Mail from 7125550123 (3 seconds)")
	check(t, "Importance", *e.Importance, 1)
	check(t, "Read", *e.Read, true)
	check(t, "attachments", len(e.Attachments), 1)
	a := e.Attachments[0]
	check(t, "DisplayName", a.DisplayName, "7125550123 (3 seconds) Voice Mail.wma")
	check(t, "FileReference", a.FileReference, "20%3a2%3a0")
	check(t, "Method", a.Method, 1)
	check(t, "unknown", len(e.Unknown), 0)

	msg, _ = decodeSpec(t, "sync-response-moreavailable.xml", ServerToClient)
	c = msg.(*SyncResponse).Collections[0]
	check(t, "MoreAvailable", c.MoreAvailable, true)
	check(t, "Delete", c.Commands.Delete[0].ServerId, "1:1")
}

func TestSpecPing(t *testing.T) {
	msg, _ := decodeSpec(t, "ping-response.xml", ServerToClient)
	r := msg.(*PingResponse)
	check(t, "Status", r.Status, 2)
	if !reflect.DeepEqual(r.Folders, []string{"5"}) {
		t.Errorf("Folders = %q", r.Folders)
	}
}

func TestSpecProvision(t *testing.T) {
	msg, _ := decodeSpec(t, "provision-response.xml", ServerToClient)
	r := msg.(*ProvisionResponse)
	check(t, "DeviceInformation.Status", r.DeviceInformation.Status, 1)
	check(t, "Status", r.Status, 1)
	p := r.Policies[0]
	check(t, "PolicyType", p.PolicyType, PolicyTypeWBXML)
	check(t, "Policy.Status", p.Status, 1)
	check(t, "PolicyKey", p.PolicyKey, "1307199584")
	doc := p.Data.EASProvisionDoc
	check(t, "DevicePasswordEnabled", *doc.DevicePasswordEnabled, true)
	check(t, "MinDevicePasswordLength", *doc.MinDevicePasswordLength, "4")
	if doc.MaxAttachmentSize == nil || *doc.MaxAttachmentSize != "" {
		t.Errorf("MaxAttachmentSize = %v, want the empty element", doc.MaxAttachmentSize)
	}
	if doc.AllowCamera != nil {
		t.Error("AllowCamera set though absent")
	}
}
