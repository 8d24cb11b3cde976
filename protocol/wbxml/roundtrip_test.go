package wbxml

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// randomTree builds a tree of known and unknown tags with text, opaque and
// empty leaves, deterministic for a seed.
func randomTree(r *rand.Rand, depth int) *Node {
	page := uint8(r.IntN(len(codePages) + 1)) // one past the last page: unknown page
	tag := Tag{Page: page, Token: uint8(0x05 + r.IntN(59))}
	if depth == 0 || r.IntN(3) == 0 {
		switch r.IntN(4) {
		case 0:
			return &Node{Tag: tag}
		case 1:
			b := make([]byte, r.IntN(300))
			for i := range b {
				b[i] = byte(r.IntN(256))
			}
			return NewOpaque(tag, b)
		default:
			s := make([]byte, r.IntN(40))
			for i := range s {
				s[i] = byte(1 + r.IntN(255)) // any byte but NUL
			}
			return &Node{Tag: tag, Content: s}
		}
	}
	n := &Node{Tag: tag}
	for i := 0; i < 1+r.IntN(5); i++ {
		n.Children = append(n.Children, randomTree(r, depth-1))
	}
	return n
}

func TestRoundTripProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		tree := randomTree(r, 5)
		data, err := Marshal(tree)
		if err != nil {
			t.Fatalf("case %d: marshal: %v", i, err)
		}
		d, err := Parse(data, Limits{})
		if err != nil {
			t.Fatalf("case %d: parse: %v", i, err)
		}
		if diff := Diff(tree, d.Root); diff != "" {
			t.Fatalf("case %d: decode(encode(t)) differs: %s", i, diff)
		}
		again, err := Marshal(d.Root)
		if err != nil {
			t.Fatal(err)
		}
		if string(again) != string(data) {
			t.Fatalf("case %d: encode is not stable", i)
		}
	}
}

func TestXMLRoundTripProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 500; i++ {
		tree := randomTree(r, 4)
		if tree.Tag.Page >= uint8(len(codePages)) {
			continue // the XML form names pages; unknown pages have no namespace
		}
		dropUnknownPages(tree)
		sanitizeForXML(tree)
		back, err := ParseXML(strings.NewReader(tree.XML()))
		if err != nil {
			t.Fatalf("case %d: %v\n%s", i, err, tree.XML())
		}
		if diff := Diff(tree, back); diff != "" {
			t.Fatalf("case %d: %s\n%s", i, diff, tree.XML())
		}
	}
}

func dropUnknownPages(n *Node) {
	kept := n.Children[:0]
	for _, c := range n.Children {
		if c.Tag.Page < uint8(len(codePages)) {
			dropUnknownPages(c)
			kept = append(kept, c)
		}
	}
	n.Children = kept
}

// sanitizeForXML turns text that XML cannot carry into opaque data, which
// the XML form writes as base64, and drops text that is only whitespace
// where the reader could not tell it from indentation.
func sanitizeForXML(n *Node) {
	if !n.Opaque && n.Content != nil && !printable(n.Content) {
		n.Opaque = true
	}
	if n.Opaque && printable(n.Content) && strings.TrimSpace(string(n.Content)) != string(n.Content) {
		n.Content = []byte(strings.TrimSpace(string(n.Content)) + "x")
	}
	for _, c := range n.Children {
		sanitizeForXML(c)
	}
}

func TestXMLForm(t *testing.T) {
	tree := NewElement(MustTag("ComposeMail:SendMail"),
		NewText(MustTag("ComposeMail:ClientId"), "a<b&c"),
		NewElement(MustTag("ComposeMail:SaveInSentItems")),
		NewOpaque(MustTag("ComposeMail:Mime"), []byte("Subject: hi\r\n\r\nbody")),
		NewOpaque(MustTag("AirSyncBase:Data"), []byte{0, 1, 2}),
		NewText(MustTag("Email2:ConversationId"), "textual"),
	)
	x := tree.XML()
	for _, want := range []string{
		`<SendMail xmlns="ComposeMail:">`,
		`<ClientId>a&lt;b&amp;c</ClientId>`,
		`<SaveInSentItems/>`,
		`<Mime>U3ViamVjdDogaGkNCg0KYm9keQ==</Mime>`,
		`<Data xmlns="AirSyncBase:" content="base64">AAEC</Data>`,
		`<ConversationId xmlns="Email2:" content="string">textual</ConversationId>`,
	} {
		if !strings.Contains(x, want) {
			t.Errorf("XML lacks %s\n%s", want, x)
		}
	}
	back, err := ParseXML(strings.NewReader(x))
	if err != nil {
		t.Fatal(err)
	}
	if d := Diff(tree, back); d != "" {
		t.Fatal(d)
	}
}

func TestParseXMLErrors(t *testing.T) {
	for _, tt := range []struct{ xml, want string }{
		{`<Sync xmlns="Nope:"/>`, `unknown namespace "Nope:"`},
		{`<Sync xmlns="AirSync:"><Bogus/></Sync>`, "not in code page AirSync"},
		{`<Sync xmlns="AirSync:">x<SyncKey/></Sync>`, "mixes text"},
		{`<Mime xmlns="ComposeMail:">!!!</Mime>`, "not base64"},
		{`<Sync xmlns="AirSync:"/><Sync xmlns="AirSync:"/>`, "more than one root"},
		{``, "no root element"},
	} {
		_, err := ParseXML(strings.NewReader(tt.xml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseXML(%q) = %v, want %q", tt.xml, err, tt.want)
		}
	}
}

func TestTagNames(t *testing.T) {
	for _, tt := range []struct {
		name        string
		page, token uint8
	}{
		{"AirSync:Sync", 0, 0x05},
		{"AirSync:HeartbeatInterval", 0, 0x29},
		{"Email:Status", 2, 0x3B},
		{"FolderHierarchy:FolderSync", 7, 0x16},
		{"Ping:Ping", 13, 0x05},
		{"Provision:RemoteWipe", 14, 0x0C},
		{"Provision:AccountOnlyRemoteWipe", 14, 0x3B},
		{"AirSyncBase:FileReference", 17, 0x11},
		{"AirSyncBase:InstanceId", 17, 0x2D},
		{"Settings:DeviceInformation", 18, 0x16},
		{"ItemOperations:Part", 20, 0x11},
		{"ComposeMail:Mime", 21, 0x10},
		{"Email2:Send", 22, 0x17},
		{"RightsManagement:RemoveRightsManagementDistribution", 24, 0x18},
		{"Find:GalSearchCriterion", 25, 0x19},
	} {
		got, ok := TagByName(tt.name)
		if !ok || got != (Tag{tt.page, tt.token}) {
			t.Errorf("TagByName(%s) = %v %v, want page %d token 0x%02X", tt.name, got, ok, tt.page, tt.token)
		}
		if got.String() != tt.name {
			t.Errorf("Tag%v.String() = %s", got, got.String())
		}
	}
	if len(Pages()) != 26 {
		t.Errorf("%d code pages, want 26 (0 AirSync to 25 Find)", len(Pages()))
	}
}
