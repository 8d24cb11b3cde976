package exchange

import (
	"os"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// Responses are checked element by element against the MS-ASCMD / MS-ASPROV
// examples that protocol/eas keeps in testdata/spec: at every path the
// example has, our children come in the example's order, and the elements
// the specification requires are present.

func specTree(t *testing.T, file string) *wbxml.Node {
	t.Helper()
	f, err := os.Open("../../protocol/eas/testdata/spec/" + file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, err := wbxml.ParseXML(f)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func parseTree(t *testing.T, b []byte) *wbxml.Node {
	t.Helper()
	doc, err := wbxml.Parse(b, wbxml.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return doc.Root
}

// order records, per element path, the position of each child tag in the
// examples (the first example that has the path wins).
func order(n *wbxml.Node, path string, into map[string]map[wbxml.Tag]int) {
	p := path + "/" + n.Tag.Name()
	if _, ok := into[p]; !ok && len(n.Children) > 0 {
		m := map[wbxml.Tag]int{}
		for _, c := range n.Children {
			if _, seen := m[c.Tag]; !seen {
				m[c.Tag] = len(m)
			}
		}
		into[p] = m
	}
	for _, c := range n.Children {
		order(c, p, into)
	}
}

// checkShape reports children out of the examples' order and missing
// required paths (like "/Sync/Collections/Collection/SyncKey").
func checkShape(t errorfer, got *wbxml.Node, examples []*wbxml.Node, required ...string) {
	t.Helper()
	ord := map[string]map[wbxml.Tag]int{}
	for _, e := range examples {
		order(e, "", ord)
	}
	present := map[string]bool{}
	var walk func(n *wbxml.Node, path string)
	walk = func(n *wbxml.Node, path string) {
		p := path + "/" + n.Tag.Name()
		present[p] = true
		last, lastTag := -1, ""
		for _, c := range n.Children {
			if i, ok := ord[p][c.Tag]; ok {
				if i < last {
					t.Errorf("%s: %s comes after %s, the example has it before", p, c.Tag.Name(), lastTag)
				}
				last, lastTag = i, c.Tag.Name()
			}
			walk(c, p)
		}
	}
	walk(got, "")
	for _, r := range required {
		if !present[r] {
			t.Errorf("required element %s missing", r)
		}
	}
}

type errorfer interface {
	Helper()
	Errorf(format string, args ...any)
}

type recorder struct{ errs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, format)
}

func TestCheckShapeCatchesDisorderAndMissing(t *testing.T) {
	example := specTree(t, "foldersync-response.xml")
	bad := wbxml.NewElement(wbxml.MustTag("FolderHierarchy:FolderSync"),
		wbxml.NewText(wbxml.MustTag("FolderHierarchy:SyncKey"), "1"),
		wbxml.NewText(wbxml.MustTag("FolderHierarchy:Status"), "1"))
	var r recorder
	checkShape(&r, bad, []*wbxml.Node{example}, "/FolderSync/Changes/Count")
	if len(r.errs) != 2 {
		t.Fatalf("want one order and one missing error, got %v", r.errs)
	}
}

func provisioned(t *testing.T, v eas.Version) (*Server, *testClient) {
	srv := startServer(t, Config{MinHeartbeat: 1})
	c := newClient(t, srv, "user1", "DEVSPEC", v)
	c.provision()
	return srv, c
}

func TestSpecShapeProvision(t *testing.T) {
	srv := startServer(t, Config{})
	c := newClient(t, srv, "user1", "DEVSPEC", eas.V161)
	req := &eas.ProvisionRequest{DeviceInformation: &eas.DeviceInformation{Set: &eas.DeviceInformationSet{Model: "m"}}, Policies: []eas.PolicyRequest{{PolicyType: eas.PolicyTypeWBXML}}}
	_, b := c.raw(eas.CmdProvision, nil, eas.ContentTypeWBXML, mustEncode(t, req))
	got := parseTree(t, b)
	checkShape(t, got, []*wbxml.Node{specTree(t, "provision-response.xml")},
		"/Provision/DeviceInformation/Status", "/Provision/Status", "/Provision/Policies/Policy/PolicyType",
		"/Provision/Policies/Policy/Status", "/Provision/Policies/Policy/PolicyKey", "/Provision/Policies/Policy/Data/EASProvisionDoc/DevicePasswordEnabled")
	// The policy document's settings come in MS-ASPROV token order.
	doc := got.Find(wbxml.MustTag("Provision:Policies"), wbxml.MustTag("Provision:Policy"), wbxml.MustTag("Provision:Data"), wbxml.MustTag("Provision:EASProvisionDoc"))
	for i := 1; i < len(doc.Children); i++ {
		if doc.Children[i].Tag.Token <= doc.Children[i-1].Tag.Token {
			t.Errorf("EASProvisionDoc: %s after %s", doc.Children[i].Tag.Name(), doc.Children[i-1].Tag.Name())
		}
	}
}

func TestSpecShapeFolderSync(t *testing.T) {
	_, c := provisioned(t, eas.V161)
	_, b := c.raw(eas.CmdFolderSync, nil, eas.ContentTypeWBXML, mustEncode(t, &eas.FolderSyncRequest{SyncKey: "0"}))
	checkShape(t, parseTree(t, b), []*wbxml.Node{specTree(t, "foldersync-response.xml")},
		"/FolderSync/Status", "/FolderSync/SyncKey", "/FolderSync/Changes/Count", "/FolderSync/Changes/Add/ServerId",
		"/FolderSync/Changes/Add/ParentId", "/FolderSync/Changes/Add/DisplayName", "/FolderSync/Changes/Add/Type")
}

func TestSpecShapeSync(t *testing.T) {
	_, c := provisioned(t, eas.V161)
	in := inbox(t, c.folderSync("0"))
	key := c.syncOnce(in, "0", 0).SyncKey
	col := eas.SyncCollection{SyncKey: key, CollectionId: in, WindowSize: 3, GetChanges: eas.Ptr(""),
		Options: []eas.SyncOptions{{BodyPreference: []eas.BodyPreference{{Type: eas.BodyPlainText, TruncationSize: 200}}}}}
	_, b := c.raw(eas.CmdSync, nil, eas.ContentTypeWBXML, mustEncode(t, &eas.SyncRequest{Collections: []eas.SyncCollection{col}}))
	got := parseTree(t, b)
	const coll = "/Sync/Collections/Collection"
	checkShape(t, got, []*wbxml.Node{specTree(t, "sync-response-email.xml"), specTree(t, "sync-response-moreavailable.xml")},
		coll+"/SyncKey", coll+"/CollectionId", coll+"/Status", coll+"/Commands/Add/ServerId",
		coll+"/Commands/Add/ApplicationData/Subject", coll+"/Commands/Add/ApplicationData/Body/Type",
		coll+"/Commands/Add/ApplicationData/Body/Data", coll+"/MoreAvailable")
	if !strings.Contains(got.XML(), "<Truncated>1</Truncated>") {
		t.Error("TruncationSize 200 truncated no body")
	}
}

func TestSpecShapePing(t *testing.T) {
	srv, c := provisioned(t, eas.V161)
	in := inbox(t, c.folderSync("0"))
	c.syncOnce(in, "0", 0)
	if _, err := srv.Inject("user1", InjectRequest{Subject: "x", Body: "y"}); err != nil {
		t.Fatal(err)
	}
	_, b := c.raw(eas.CmdPing, nil, eas.ContentTypeWBXML, mustEncode(t, pingReq(5, in)))
	checkShape(t, parseTree(t, b), []*wbxml.Node{specTree(t, "ping-response.xml")}, "/Ping/Status", "/Ping/Folders/Folder")
}

func TestSpecShapeItemOperations(t *testing.T) {
	_, c := provisioned(t, eas.V161)
	in := inbox(t, c.folderSync("0"))
	r := c.syncOnce(in, c.syncOnce(in, "0", 0).SyncKey, 1)
	fetch := &eas.ItemOperationsRequest{Fetch: []eas.FetchRequest{{Store: "Mailbox", CollectionId: in, ServerId: r.Commands.Add[0].ServerId,
		Options: &eas.FetchOptions{BodyPreference: []eas.BodyPreference{{Type: eas.BodyPlainText}}}}}}
	_, b := c.raw(eas.CmdItemOperations, nil, eas.ContentTypeWBXML, mustEncode(t, fetch))
	const f = "/ItemOperations/Response/Fetch"
	checkShape(t, parseTree(t, b), []*wbxml.Node{specTree(t, "itemoperations-response.xml")},
		"/ItemOperations/Status", f+"/Status", f+"/CollectionId", f+"/ServerId", f+"/Class", f+"/Properties/Body/Type", f+"/Properties/Subject")
}
