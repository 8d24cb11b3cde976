package wbxml

import (
	"strings"
	"testing"
)

// FuzzParse checks that the decoder never panics and that whatever it
// accepts re-encodes to a document that decodes to the same tree.
func FuzzParse(f *testing.F) {
	f.Add(doc(0x45, 0x4B, tokStrI, '0', 0, tokEnd, tokEnd))
	f.Add(doc(0x45, tokSwitchPage, 17, 0x4A, 0x4B, tokOpaque, 2, 'h', 'i', tokEnd, tokEnd, tokEnd))
	f.Add([]byte{3, 0, 0, 0x6A, 3, 'a', 0, 0, 0x4B, tokStrT, 0, tokEnd})
	f.Add(doc(0x45, 0x05, 0x7E, tokOpaque, 0x81, 0x00, tokEnd, tokEnd))
	lim := Limits{MaxSize: 1 << 20, MaxDepth: 32, MaxElements: 10000}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data, lim)
		if err != nil {
			return
		}
		out, err := Marshal(d.Root)
		if err != nil {
			t.Fatalf("accepted tree does not re-encode: %v", err)
		}
		d2, err := Parse(out, lim)
		if err != nil {
			t.Fatalf("re-encoded document does not parse: %v", err)
		}
		if diff := Diff(d.Root, d2.Root); diff != "" {
			t.Fatalf("round trip differs: %s", diff)
		}
	})
}

// FuzzParseXML checks the XML reader: no panic, and accepted documents
// survive WBXML encoding.
func FuzzParseXML(f *testing.F) {
	f.Add(`<Sync xmlns="AirSync:"><SyncKey>0</SyncKey></Sync>`)
	f.Add(`<SendMail xmlns="ComposeMail:"><Mime>aGk=</Mime><SaveInSentItems/></SendMail>`)
	f.Add(`<Sync xmlns="AirSync:"><Body xmlns="AirSyncBase:" ><Data content="base64">AA==</Data></Body></Sync>`)
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseXML(strings.NewReader(s))
		if err != nil {
			return
		}
		data, err := Marshal(n)
		if err != nil {
			return // text with NUL cannot be a WBXML string; Marshal says so
		}
		d, err := Parse(data, Limits{})
		if err != nil {
			t.Fatalf("encoded XML does not parse: %v", err)
		}
		if diff := Diff(n, d.Root); diff != "" {
			t.Fatalf("XML -> WBXML -> tree differs: %s", diff)
		}
	})
}
