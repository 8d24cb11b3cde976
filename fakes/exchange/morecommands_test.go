package exchange

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// xmlBody encodes a request written in the XML form (xmlns="Page:").
func xmlBody(t testing.TB, x string) []byte {
	t.Helper()
	n, err := wbxml.ParseXML(strings.NewReader(x))
	if err != nil {
		t.Fatalf("parsing %s: %v", x, err)
	}
	b, err := wbxml.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tree posts an XML-form request and returns the response tree (nil for
// an empty body) with the HTTP status.
func (c *testClient) tree(cmd eas.Command, x string) (*wbxml.Node, int) {
	c.t.Helper()
	resp, b := c.raw(cmd, nil, eas.ContentTypeWBXML, xmlBody(c.t, x))
	if len(b) == 0 || resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode
	}
	doc, err := wbxml.Parse(b, wbxml.DefaultLimits)
	if err != nil {
		c.t.Fatalf("%s: response: %v", cmd, err)
	}
	return doc.Root, resp.StatusCode
}

// at follows "Page:Name" tags from n; "" when absent.
func at(n *wbxml.Node, path ...string) string {
	for _, p := range path {
		n = kid(n, p)
	}
	if n == nil {
		return ""
	}
	return n.Text()
}

func TestFolderCreateUpdateDelete(t *testing.T) {
	srv := startServer(t, Config{})
	c := newClient(t, srv, "user1", "DEVFOLD", eas.V141)
	c.provision()
	key := c.folderSync("0").SyncKey
	create := func(key, parent, name, typ string) *wbxml.Node {
		r, _ := c.tree(eas.CmdFolderCreate, `<FolderCreate xmlns="FolderHierarchy:"><SyncKey>`+key+`</SyncKey><ParentId>`+parent+
			`</ParentId><DisplayName>`+name+`</DisplayName><Type>`+typ+`</Type></FolderCreate>`)
		return r
	}
	r := create(key, "1", "Projects", "12")
	if at(r, "FolderHierarchy:Status") != "1" || at(r, "FolderHierarchy:ServerId") == "" || at(r, "FolderHierarchy:SyncKey") == key {
		t.Fatalf("create: %s", r.XML())
	}
	id, key := at(r, "FolderHierarchy:ServerId"), at(r, "FolderHierarchy:SyncKey")
	if fs := c.folderSync(key); fs.Status != 1 || *fs.Changes.Count != 0 {
		t.Fatalf("the creating device's next FolderSync echoes its own change: %+v", fs.Changes)
	}
	for _, tc := range []struct {
		name, key, parent, dname, typ, want string
	}{
		{"duplicate name", key, "1", "projects", "12", "2"},
		{"no such parent", key, "77", "X", "12", "5"},
		{"stale sync key", "1", "1", "Y", "12", "9"},
		{"default folder type", key, "1", "Z", "2", "10"},
	} {
		if got := at(create(tc.key, tc.parent, tc.dname, tc.typ), "FolderHierarchy:Status"); got != tc.want {
			t.Errorf("create %s: Status %s, want %s", tc.name, got, tc.want)
		}
	}
	update := func(id, parent, name string) *wbxml.Node {
		r, _ := c.tree(eas.CmdFolderUpdate, `<FolderUpdate xmlns="FolderHierarchy:"><SyncKey>`+key+`</SyncKey><ServerId>`+id+
			`</ServerId><ParentId>`+parent+`</ParentId><DisplayName>`+name+`</DisplayName></FolderUpdate>`)
		return r
	}
	if got := at(update("1", "0", "Post"), "FolderHierarchy:Status"); got != "2" {
		t.Errorf("renaming the Inbox: Status %s, want 2", got)
	}
	if got := at(update("404", "0", "Post"), "FolderHierarchy:Status"); got != "4" {
		t.Errorf("updating a missing folder: Status %s, want 4", got)
	}
	if got := at(update(id, id, "Loop"), "FolderHierarchy:Status"); got != "5" {
		t.Errorf("moving a folder under itself: Status %s, want 5", got)
	}
	r = update(id, "0", "Archive")
	if at(r, "FolderHierarchy:Status") != "1" {
		t.Fatalf("update: %s", r.XML())
	}
	key = at(r, "FolderHierarchy:SyncKey")
	del := func(id string) *wbxml.Node {
		r, _ := c.tree(eas.CmdFolderDelete, `<FolderDelete xmlns="FolderHierarchy:"><SyncKey>`+key+`</SyncKey><ServerId>`+id+`</ServerId></FolderDelete>`)
		return r
	}
	if got := at(del("4"), "FolderHierarchy:Status"); got != "3" {
		t.Errorf("deleting Sent Items: Status %s, want 3", got)
	}
	if got := at(del("404"), "FolderHierarchy:Status"); got != "4" {
		t.Errorf("deleting a missing folder: Status %s, want 4", got)
	}
	// Another device sees the renamed folder, then its deletion.
	other := newClient(t, srv, "user1", "DEVFOLD2", eas.V141)
	other.provision()
	fs := other.folderSync("0")
	found := false
	for _, f := range fs.Changes.Add {
		found = found || (f.ServerId == id && f.DisplayName == "Archive" && f.ParentId == "0" && f.Type == 12)
	}
	if !found {
		t.Fatalf("the other device does not see the folder: %+v", fs.Changes.Add)
	}
	if r := del(id); at(r, "FolderHierarchy:Status") != "1" {
		t.Fatalf("delete: %s", r.XML())
	}
	fs2 := other.folderSync(fs.SyncKey)
	if len(fs2.Changes.Delete) != 1 || fs2.Changes.Delete[0].ServerId != id {
		t.Fatalf("the other device is not told of the deletion: %+v", fs2.Changes)
	}
}

func TestSearchMailboxAndGAL(t *testing.T) {
	srv := startServer(t, Config{})
	c := newClient(t, srv, "user1", "DEVSRCH", eas.V140)
	c.provision()
	if _, err := srv.Inject("user1", InjectRequest{From: "carol@elsewhere.example", To: []string{"user1@example.test"}, Subject: "Quarterly zebra report", Body: "numbers"}); err != nil {
		t.Fatal(err)
	}
	r, _ := c.tree(eas.CmdSearch, `<Search xmlns="Search:"><Store><Name>Mailbox</Name><Query><And><CollectionId xmlns="AirSync:">1</CollectionId>`+
		`<FreeText>zebra</FreeText></And></Query><Options><Range>0-9</Range></Options></Store></Search>`)
	store := kid(kid(r, "Search:Response"), "Search:Store")
	if at(r, "Search:Status") != "1" || at(store, "Search:Status") != "1" || at(store, "Search:Total") != "1" || at(store, "Search:Range") != "0-0" {
		t.Fatalf("mailbox search: %s", r.XML())
	}
	if got := at(kid(store, "Search:Result"), "Search:Properties", "Email:Subject"); got != "Quarterly zebra report" {
		t.Errorf("result subject %q", got)
	}
	r, _ = c.tree(eas.CmdSearch, `<Search xmlns="Search:"><Store><Name>GAL</Name><Query>user</Query><Options><Range>0-1</Range></Options></Store></Search>`)
	store = kid(kid(r, "Search:Response"), "Search:Store")
	if at(store, "Search:Total") != "3" || len(kids(store, "Search:Result")) != 2 || at(store, "Search:Range") != "0-1" {
		t.Fatalf("GAL search: %s", r.XML())
	}
	if got := at(kids(store, "Search:Result")[0], "Search:Properties", "GAL:EmailAddress"); got != "user1@example.test" {
		t.Errorf("first GAL entry %q", got)
	}
	r, _ = c.tree(eas.CmdSearch, `<Search xmlns="Search:"><Store><Name>DocumentLibrary</Name><Query>x</Query></Store></Search>`)
	if got := at(r, "Search:Response", "Search:Store", "Search:Status"); got != "2" {
		t.Errorf("DocumentLibrary store: Status %q, want 2", got)
	}
}

func TestFindOnlyIn161(t *testing.T) {
	srv := startServer(t, Config{})
	if _, err := srv.Inject("user1", InjectRequest{From: "carol@elsewhere.example", To: []string{"user1@example.test"}, Subject: "Find the walrus", Body: "tusks"}); err != nil {
		t.Fatal(err)
	}
	req := `<Find xmlns="Find:"><SearchId>1</SearchId><ExecuteSearch><MailBoxSearchCriterion><Query><Class xmlns="AirSync:">Email</Class>` +
		`<FreeText>walrus</FreeText></Query><Options><Range>0-4</Range></Options></MailBoxSearchCriterion></ExecuteSearch></Find>`
	old := newClient(t, srv, "user1", "DEVFIND16", eas.V160)
	old.provision()
	if _, st := old.tree(eas.CmdFind, req); st != http.StatusNotImplemented {
		t.Errorf("Find at 16.0: HTTP %d, want 501", st)
	}
	c := newClient(t, srv, "user1", "DEVFIND", eas.V161)
	c.provision()
	r, st := c.tree(eas.CmdFind, req)
	resp := kid(r, "Find:Response")
	if st != 200 || at(r, "Find:Status") != "1" || at(resp, "ItemOperations:Store") != "Mailbox" || at(resp, "Find:Total") != "1" {
		t.Fatalf("Find: HTTP %d %s", st, r.XML())
	}
	if got := at(kid(resp, "Find:Result"), "Find:Properties", "Email:Subject"); got != "Find the walrus" {
		t.Errorf("Find result subject %q", got)
	}
	r, _ = c.tree(eas.CmdFind, `<Find xmlns="Find:"><ExecuteSearch><MailBoxSearchCriterion><Query><FreeText>x</FreeText></Query></MailBoxSearchCriterion></ExecuteSearch></Find>`)
	if got := at(r, "Find:Status"); got != "2" {
		t.Errorf("Find without SearchId: Status %q, want 2", got)
	}
}

func TestResolveRecipients(t *testing.T) {
	srv := startServer(t, Config{})
	c := newClient(t, srv, "user1", "DEVRES", eas.V121)
	c.provision()
	r, _ := c.tree(eas.CmdResolveRecipients, `<ResolveRecipients xmlns="ResolveRecipients:"><To>user2@example.test</To><To>user</To><To>nobody</To>`+
		`<Options><CertificateRetrieval>2</CertificateRetrieval><MaxAmbiguousRecipients>2</MaxAmbiguousRecipients></Options></ResolveRecipients>`)
	rs := kids(r, "ResolveRecipients:Response")
	if at(r, "ResolveRecipients:Status") != "1" || len(rs) != 3 {
		t.Fatalf("ResolveRecipients: %s", r.XML())
	}
	for i, want := range []struct{ status, count, first string }{{"1", "1", "user2@example.test"}, {"3", "2", "user1@example.test"}, {"4", "0", ""}} {
		if at(rs[i], "ResolveRecipients:Status") != want.status || at(rs[i], "ResolveRecipients:RecipientCount") != want.count ||
			at(rs[i], "ResolveRecipients:Recipient", "ResolveRecipients:EmailAddress") != want.first {
			t.Errorf("To %d: %s", i, rs[i].XML())
		}
	}
	if got := at(rs[0], "ResolveRecipients:Recipient", "ResolveRecipients:Certificates", "ResolveRecipients:Status"); got != "7" {
		t.Errorf("certificates of a user without one: Status %q, want 7", got)
	}
	r, _ = c.tree(eas.CmdResolveRecipients, `<ResolveRecipients xmlns="ResolveRecipients:"><Options><CertificateRetrieval>1</CertificateRetrieval></Options></ResolveRecipients>`)
	if got := at(r, "ResolveRecipients:Status"); got != "5" {
		t.Errorf("no To: Status %q, want 5", got)
	}
}

// smimeCert makes a certificate for S/MIME, valid from nb to na.
func smimeCert(t testing.TB, nb, na time.Time) *x509.Certificate {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "alice"}, NotBefore: nb, NotAfter: na,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		BasicConstraintsValid: true, IsCA: true, EmailAddresses: []string{"alice@example.test"}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func TestValidateCert(t *testing.T) {
	now := time.Now()
	good, expired := smimeCert(t, now.Add(-time.Hour), now.Add(time.Hour)), smimeCert(t, now.Add(-2*time.Hour), now.Add(-time.Hour))
	pool := x509.NewCertPool()
	pool.AddCert(good)
	b64 := func(c *x509.Certificate) string { return base64.StdEncoding.EncodeToString(c.Raw) }
	req := `<ValidateCert xmlns="ValidateCert:"><Certificates><Certificate>` + b64(good) + `</Certificate><Certificate>` + b64(expired) +
		`</Certificate><Certificate>bm90IGEgY2VydA==</Certificate></Certificates><CheckCRL>1</CheckCRL></ValidateCert>`
	for _, tc := range []struct {
		name  string
		roots *x509.CertPool
		want  []string
	}{{"trusted root", pool, []string{"1", "7", "17"}}, {"no trusted roots", nil, []string{"4", "7", "17"}}} {
		srv := startServer(t, Config{TrustedCAs: tc.roots})
		c := newClient(t, srv, "user1", "DEVCERT", eas.V141)
		c.provision()
		r, _ := c.tree(eas.CmdValidateCert, req)
		var got []string
		for _, n := range kids(r, "ValidateCert:Certificate") {
			got = append(got, at(n, "ValidateCert:Status"))
		}
		if at(r, "ValidateCert:Status") != "1" || strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: %s, want certificate statuses %v", tc.name, r.XML(), tc.want)
		}
	}
}

func TestMeetingResponse(t *testing.T) {
	srv := startServer(t, Config{})
	c := newClient(t, srv, "user1", "DEVMEET", eas.V160)
	c.provision()
	invite := func(subject string) string {
		ics := "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nSUMMARY:" + subject + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
		res, err := srv.Inject("user1", InjectRequest{From: "boss@example.test", To: []string{"user1@example.test"}, Subject: subject, Body: "come",
			Attachments: []InjectAttachment{{Name: "invite.ics", ContentType: "text/calendar", Data: []byte(ics)}}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Message.ServerID
	}
	accept, decline := invite("Planning"), invite("Retro")
	plain, err := srv.Inject("user1", InjectRequest{From: "x@example.test", To: []string{"user1@example.test"}, Subject: "not a meeting", Body: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	reqXML := func(answer, id string) string {
		return `<Request><UserResponse>` + answer + `</UserResponse><CollectionId>1</CollectionId><RequestId>` + id + `</RequestId></Request>`
	}
	r, _ := c.tree(eas.CmdMeetingResponse, `<MeetingResponse xmlns="MeetingResponse:">`+reqXML("1", accept)+reqXML("3", decline)+
		reqXML("1", plain.Message.ServerID)+reqXML("9", accept)+`</MeetingResponse>`)
	res := kids(r, "MeetingResponse:Result")
	if len(res) != 4 {
		t.Fatalf("MeetingResponse: %s", r.XML())
	}
	if at(res[0], "MeetingResponse:Status") != "1" || !strings.HasPrefix(at(res[0], "MeetingResponse:CalendarId"), "6:") || at(res[0], "MeetingResponse:RequestId") != accept {
		t.Errorf("accept: %s", res[0].XML())
	}
	if at(res[1], "MeetingResponse:Status") != "1" || at(res[1], "MeetingResponse:CalendarId") != "" {
		t.Errorf("decline: %s", res[1].XML())
	}
	if at(res[2], "MeetingResponse:Status") != "2" || at(res[3], "MeetingResponse:Status") != "2" {
		t.Errorf("a plain mail and an answered or bad request: %s %s", res[2].XML(), res[3].XML())
	}
}

func TestOptionsAdvertisesAddedCommands(t *testing.T) {
	srv := startServer(t, Config{})
	c := newClient(t, srv, "user1", "DEVOPT", eas.V161)
	req, _ := http.NewRequest(http.MethodOptions, srv.EASURL(), nil)
	req.SetBasicAuth(c.user.Name, c.password)
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cmds := resp.Header.Get(eas.HeaderProtocolCommands)
	for _, want := range []string{"Search", "FolderCreate", "FolderUpdate", "FolderDelete", "MeetingResponse", "ResolveRecipients", "ValidateCert", "Find"} {
		if !strings.Contains(","+cmds+",", ","+want+",") {
			t.Errorf("OPTIONS does not advertise %s: %s", want, cmds)
		}
	}
}

// An attachment's content type keeps its parameters: a meeting
// invitation is "text/calendar; method=REQUEST". BuildMIME used to write
// an empty Content-Type for any type with parameters.
func TestBuildMIMEKeepsContentTypeParameters(t *testing.T) {
	raw, err := BuildMIME(Compose{From: "boss@example.test", To: []string{"user1@example.test"}, Subject: "Planning", Text: "come",
		Attachments: []MailAttachment{{Name: "invite.ics", ContentType: "text/calendar; method=REQUEST", Data: []byte("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	pm, err := ParseMIME(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(pm.Attachments) != 1 || pm.Attachments[0].ContentType != "text/calendar" || !isMeetingRequest(pm) {
		t.Fatalf("attachments %+v", pm.Attachments)
	}
	if !strings.Contains(string(raw), "method=REQUEST") || !strings.Contains(string(raw), `name=invite.ics`) {
		t.Errorf("the parameters are lost:\n%s", raw)
	}
	if _, err := BuildMIME(Compose{Subject: "x", Attachments: []MailAttachment{{Name: "a", ContentType: "not a type;;"}}}); err == nil {
		t.Error("a malformed content type is accepted")
	}
}
