package wbxml

import (
	"strings"
	"testing"
)

type testBody struct {
	Type uint8  `wbxml:"Type"`
	Data string `wbxml:"Data,omitempty"`
}

type testFolder struct {
	ServerID    string `wbxml:"ServerId"`
	DisplayName string `wbxml:"DisplayName"`
}

type testMsg struct {
	XMLName    struct{}     `wbxml:"AirSync:Sync"`
	SyncKey    string       `wbxml:"SyncKey"`
	Status     *int         `wbxml:"Status,omitempty"`
	WindowSize int          `wbxml:"WindowSize,omitempty"`
	GetChanges bool         `wbxml:"GetChanges"`
	More       bool         `wbxml:"MoreAvailable,empty"`
	Bodies     []testBody   `wbxml:"AirSyncBase:Body"`
	Folders    []testFolder `wbxml:"FolderHierarchy:Changes>Add,omitempty"`
	Mime       []byte       `wbxml:"ComposeMail:Mime,omitempty"`
	Raw        *Node        `wbxml:"ApplicationData"`
	Unknown    []*Node      `wbxml:",any"`
}

func TestBindRoundTrip(t *testing.T) {
	status := 1
	in := testMsg{
		SyncKey: "42", Status: &status, GetChanges: true, More: true,
		Bodies:  []testBody{{Type: 4, Data: "MIME"}, {Type: 1}},
		Folders: []testFolder{{"1", "Inbox"}, {"2", "Sent Items"}},
		Mime:    []byte{0, 1, 2},
		Raw:     NewElement(MustTag("AirSync:ApplicationData"), NewText(MustTag("Email:Subject"), "hi")),
	}
	n, err := StructToNode(&in)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"AirSync:SyncKey", "AirSync:Status", "AirSync:GetChanges", "AirSync:MoreAvailable",
		"AirSyncBase:Body", "AirSyncBase:Body", "FolderHierarchy:Changes", "ComposeMail:Mime", "AirSync:ApplicationData"}
	if len(n.Children) != len(want) {
		t.Fatalf("%d children, want %d:\n%s", len(n.Children), len(want), n.XML())
	}
	for i, w := range want {
		if got := n.Children[i].Tag.String(); got != w {
			t.Errorf("child %d = %s, want %s (declaration order)", i, got, w)
		}
	}
	if g := n.Find(MustTag("AirSync:MoreAvailable")); g.Content != nil {
		t.Errorf("presence element has content %q", g.Content)
	}
	if g := n.Find(MustTag("AirSync:GetChanges")); g.Text() != "1" {
		t.Errorf("bool encodes as %q", g.Text())
	}
	if g := n.Find(MustTag("ComposeMail:Mime")); !g.Opaque {
		t.Error("[]byte is not opaque")
	}

	data, err := Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	var out testMsg
	if err := UnmarshalStruct(data, &out, Limits{}); err != nil {
		t.Fatal(err)
	}
	if out.SyncKey != "42" || out.Status == nil || *out.Status != 1 || !out.GetChanges || !out.More ||
		len(out.Bodies) != 2 || out.Bodies[0].Data != "MIME" || out.Bodies[1].Type != 1 ||
		len(out.Folders) != 2 || out.Folders[1].DisplayName != "Sent Items" || string(out.Mime) != "\x00\x01\x02" ||
		out.Raw.Find(MustTag("Email:Subject")).Text() != "hi" {
		t.Fatalf("decoded %+v", out)
	}
}

func TestBindKeepsUnknownAndDuplicates(t *testing.T) {
	n := NewElement(MustTag("AirSync:Sync"),
		NewText(MustTag("AirSync:SyncKey"), "1"),
		NewText(Tag{0, 0x3E}, "future element"),
		NewText(MustTag("AirSync:SyncKey"), "2"),
	)
	var m testMsg
	if err := NodeToStruct(n, &m); err != nil {
		t.Fatal(err)
	}
	if m.SyncKey != "1" || len(m.Unknown) != 2 || m.Unknown[1].Text() != "2" {
		t.Fatalf("SyncKey %q, unknown %d", m.SyncKey, len(m.Unknown))
	}
	back, err := StructToNode(&m)
	if err != nil {
		t.Fatal(err)
	}
	if last := back.Children[len(back.Children)-1]; last.Text() != "2" {
		t.Errorf("unknown children are not re-emitted last: %s", back.XML())
	}
}

func TestBindErrors(t *testing.T) {
	var m testMsg
	for _, tt := range []struct {
		n    *Node
		want string
	}{
		{NewElement(MustTag("Ping:Ping")), "root is Ping:Ping, want AirSync:Sync"},
		{NewElement(MustTag("AirSync:Sync"), NewText(MustTag("AirSync:WindowSize"), "ten")), "not an integer"},
		{NewElement(MustTag("AirSync:Sync"), NewText(MustTag("AirSync:GetChanges"), "2")), "not a boolean"},
		{NewElement(MustTag("AirSync:Sync"), NewElement(MustTag("AirSync:SyncKey"), NewText(MustTag("AirSync:Status"), "1"))), "expected content"},
		{NewElement(MustTag("AirSync:Sync"), NewText(MustTag("AirSyncBase:Body"), "x")), "expected child elements"},
	} {
		err := NodeToStruct(tt.n, &m)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("got %v, want %q", err, tt.want)
		}
	}
	type bad struct {
		XMLName struct{} `wbxml:"AirSync:Sync"`
		X       string   `wbxml:"NoSuchTag"`
	}
	if _, err := StructToNode(bad{}); err == nil || !strings.Contains(err.Error(), `unknown tag "NoSuchTag" in code page AirSync`) {
		t.Errorf("bad tag: %v", err)
	}
	if _, err := StructToNode(struct{ A int }{}); err == nil || !strings.Contains(err.Error(), "no XMLName") {
		t.Errorf("no root: %v", err)
	}
}
