package eas

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/internal/peers"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// The differential test checks our WBXML codec and message types against
// libwbxml (Debian libwbxml2-utils), a real ActiveSync WBXML implementation,
// on every file of testdata/corpus.

// libwbxmlTool returns the path of a libwbxml command-line tool. A missing
// tool skips the test loudly, or fails it under GATEHOUSE_REQUIRE_PEERS=1
// (.ci/run): the differential test must never pass silently in CI.
func libwbxmlTool(t *testing.T, name string) string {
	t.Helper()
	return peers.Require(t, name, "libwbxml2-utils")
}

func corpusFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/corpus/*.xml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 32 {
		t.Fatalf("corpus has %d files, want at least 32", len(files))
	}
	return files
}

// runTool runs a libwbxml tool that writes its result to out and returns it.
func runTool(t *testing.T, out string, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseWBXML(t *testing.T, what string, b []byte) *wbxml.Document {
	t.Helper()
	doc, err := wbxml.Parse(b, wbxml.DefaultLimits)
	if err != nil {
		t.Fatalf("decoding %s: %v", what, err)
	}
	return doc
}

// normalizeEOL applies XML end-of-line handling (CR LF to LF) to text
// content, for comparing with a tree that went through an XML parser.
func normalizeEOL(n *wbxml.Node) *wbxml.Node {
	c := *n
	if !c.Opaque && c.Content != nil {
		c.Content = bytes.ReplaceAll(c.Content, []byte("\r\n"), []byte("\n"))
	}
	c.Children = make([]*wbxml.Node, len(n.Children))
	for i, ch := range n.Children {
		c.Children[i] = normalizeEOL(ch)
	}
	return &c
}

func TestDifferentialLibwbxml(t *testing.T) {
	xml2wbxml := libwbxmlTool(t, "xml2wbxml")
	wbxml2xml := libwbxmlTool(t, "wbxml2xml")
	var withStringTable, withCR int
	for _, file := range corpusFiles(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".xml")
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			want, err := wbxml.ParseXML(bytes.NewReader(src))
			if err != nil {
				t.Fatalf("our ParseXML: %v", err)
			}
			ours, err := wbxml.Marshal(want)
			if err != nil {
				t.Fatalf("our Marshal: %v", err)
			}
			ourDoc := parseWBXML(t, "our encoding", ours)
			if d := wbxml.Diff(want, ourDoc.Root); d != "" {
				t.Fatalf("our encoding does not decode to the XML's tree: %s", d)
			}

			// (a) libwbxml's encoding without a string table decodes to our tree.
			libOut := filepath.Join(dir, "lib.wbxml")
			lib := runTool(t, libOut, xml2wbxml, "-n", "-o", libOut, file)
			libDoc := parseWBXML(t, "xml2wbxml -n output", lib)
			if d := wbxml.Diff(libDoc.Root, ourDoc.Root); d != "" {
				t.Errorf("(a) xml2wbxml -n vs ours: %s", d)
			}
			if got := libDoc.Header.PublicIDString(); got != "-//MICROSOFT//DTD ActiveSync//EN" {
				t.Errorf("(a) xml2wbxml public id %q", got)
			}

			// (b) libwbxml decodes our bytes to the same tree.
			ourFile := filepath.Join(dir, "ours.wbxml")
			if err := os.WriteFile(ourFile, ours, 0o644); err != nil {
				t.Fatal(err)
			}
			xmlOut := filepath.Join(dir, "back.xml")
			back := runTool(t, xmlOut, wbxml2xml, "-l", "ACTIVESYNC", "-m", "0", "-o", xmlOut, ourFile)
			backTree, err := wbxml.ParseXML(bytes.NewReader(back))
			if err != nil {
				t.Fatalf("(b) parsing wbxml2xml output: %v\n%s", err, back)
			}
			// wbxml2xml writes CR bytes raw, and XML parsers turn CR LF into LF.
			if d := wbxml.Diff(normalizeEOL(ourDoc.Root), backTree); d != "" {
				t.Errorf("(b) wbxml2xml of our bytes: %s", d)
			}
			if bytes.Contains(src, []byte("&#13;")) {
				withCR++
			}

			// (c) with the string table on, our decoder resolves STR_T.
			stOut := filepath.Join(dir, "st.wbxml")
			st := runTool(t, stOut, xml2wbxml, "-o", stOut, file)
			stDoc := parseWBXML(t, "xml2wbxml output", st)
			if d := wbxml.Diff(stDoc.Root, ourDoc.Root); d != "" {
				t.Errorf("(c) xml2wbxml (string table) vs ours: %s", d)
			}
			if len(stDoc.Header.StringTable) > len(libDoc.Header.StringTable) {
				withStringTable++
			}

			// (d) the typed message re-encodes to the same tree.
			msg, err := DecodeNode(ourDoc.Root, Guess)
			if err != nil {
				t.Fatalf("(d) Decode: %v", err)
			}
			typeName := strings.TrimPrefix(strings.TrimPrefix(typeOf(msg), "*eas."), "eas.")
			isResp := strings.HasSuffix(typeName, "Response")
			if wantResp := strings.Contains(name, "-response"); isResp != wantResp {
				t.Errorf("(d) Decode picked %s for a %s", typeName, map[bool]string{true: "response", false: "request"}[wantResp])
			}
			re, err := EncodeMessage(msg)
			if err != nil {
				t.Fatalf("(d) Encode %s: %v", typeName, err)
			}
			if d := wbxml.Diff(ourDoc.Root, parseWBXML(t, "re-encoded message", re).Root); d != "" {
				t.Errorf("(d) %s round trip: %s", typeName, d)
			}
		})
	}
	t.Logf("corpus: %d files used the string table (STR_T), %d carried CR LF text", withStringTable, withCR)
	if withStringTable < 5 {
		t.Errorf("only %d corpus files made xml2wbxml use its string table; (c) covers too little", withStringTable)
	}
}

// Unknown elements (other classes' ApplicationData, email elements the
// struct does not model) are kept in Unknown and re-emitted.
func TestCorpusUnknownElementsKept(t *testing.T) {
	src, err := os.ReadFile("testdata/corpus/43-sync-response-unknown-elements.xml")
	if err != nil {
		t.Fatal(err)
	}
	tree, err := wbxml.ParseXML(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := DecodeNode(tree, Guess)
	if err != nil {
		t.Fatal(err)
	}
	resp := msg.(*SyncResponse)
	adds := resp.Collections[0].Commands.Add
	var names []string
	for _, n := range adds[0].ApplicationData.Unknown {
		names = append(names, n.Tag.String())
	}
	want := "Email:MeetingRequest Email:Categories Email2:UmUserNotes Email2:Sender"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("email Unknown = %s, want %s", got, want)
	}
	if got := len(adds[1].ApplicationData.Unknown); got != 5 {
		t.Errorf("calendar item kept %d unknown elements, want 5", got)
	}
	if adds[0].ApplicationData.Subject != "Design review" {
		t.Errorf("known fields lost beside unknown ones: Subject %q", adds[0].ApplicationData.Subject)
	}
}
