package scenarios_test

import (
	"bytes"
	"embed"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/internal/peers"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// The interop corpus (testdata/interop, README there) holds requests and
// responses modelled on the protocol examples of MS-ASCMD, MS-ASPROV and
// MS-ASHTTP. Placeholders ({{INBOX}}, {{SYNCKEY}}, ...) stand for what
// only a live mailbox knows; the specs (interop_test.go) fill them.

// The corpus is embedded: the compiled suite (scenarios.test in the
// image, the mutation runner's black-box mode, gatehouse conformance)
// runs without the source tree beside it.
//
//go:embed testdata/interop/*.xml
var interopCorpus embed.FS

const interopDir = "testdata/interop"

var placeholder = regexp.MustCompile(`\{\{[A-Z]+\}\}`)

// interopXML reads a corpus file with its placeholders filled by fill.
func interopXML(name string, fill func(string) string) (string, error) {
	b, err := interopCorpus.ReadFile(path.Join(interopDir, name))
	if err != nil {
		return "", err
	}
	return placeholder.ReplaceAllStringFunc(string(b), func(p string) string { return fill(strings.Trim(p, "{}")) }), nil
}

// libwbxmlKnows reports whether libwbxml 0.11 has the file's code pages
// (it has no Find page).
func libwbxmlKnows(name string) bool { return !strings.HasPrefix(name, "ascmd-find-") }

// libwbxmlEncodes reports whether xml2wbxml encodes the file right: it
// looks GAL:DisplayName up on the Email page (a name both pages have), so
// for GAL results only the decoding direction is checked.
func libwbxmlEncodes(name string) bool { return name != "ascmd-search-gal-response.xml" }

// Every corpus file encodes with our codec to a document libwbxml reads
// back as the same tree, and libwbxml's own encoding decodes with ours
// to the same tree.
func TestInteropCorpusAgreesWithLibwbxml(t *testing.T) {
	files, err := fs.Glob(interopCorpus, path.Join(interopDir, "*.xml"))
	if err != nil || len(files) < 40 {
		t.Fatalf("interop corpus: %d files (%v), want at least 40", len(files), err)
	}
	xml2wbxml := peers.Require(t, "xml2wbxml", "libwbxml2-utils")
	wbxml2xml := peers.Require(t, "wbxml2xml", "libwbxml2-utils")
	dummy := func(string) string { return "7" } // placeholders stand for ids, keys and names
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(strings.TrimSuffix(name, ".xml"), func(t *testing.T) {
			src, err := interopXML(name, dummy)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(src, "<!-- models: MS-AS") {
				t.Errorf("%s does not say which protocol example it models", name)
			}
			tree, err := wbxml.ParseXML(strings.NewReader(src))
			if err != nil {
				t.Fatalf("our ParseXML: %v", err)
			}
			ours, err := wbxml.Marshal(tree)
			if err != nil {
				t.Fatalf("our Marshal: %v", err)
			}
			doc, err := wbxml.Parse(ours, wbxml.DefaultLimits)
			if err != nil || wbxml.Diff(tree, doc.Root) != "" {
				t.Fatalf("our encoding does not round-trip: %v", err)
			}
			if !libwbxmlKnows(name) {
				return
			}
			dir := t.TempDir()
			in, enc, back := filepath.Join(dir, "in.xml"), filepath.Join(dir, "lib.wbxml"), filepath.Join(dir, "back.xml")
			oursFile := filepath.Join(dir, "ours.wbxml")
			if err := os.WriteFile(in, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(oursFile, ours, 0o644); err != nil {
				t.Fatal(err)
			}
			runPeer(t, wbxml2xml, "-l", "ACTIVESYNC", "-m", "0", "-o", back, oursFile)
			b, err := os.ReadFile(back)
			if err != nil {
				t.Fatal(err)
			}
			libTree, err := wbxml.ParseXML(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("wbxml2xml output: %v\n%s", err, b)
			}
			if d := wbxml.Diff(tree, libTree); d != "" {
				t.Errorf("libwbxml reads our encoding as another tree: %s", d)
			}
			if !libwbxmlEncodes(name) {
				return
			}
			runPeer(t, xml2wbxml, "-n", "-o", enc, in)
			lb, err := os.ReadFile(enc)
			if err != nil {
				t.Fatal(err)
			}
			libDoc, err := wbxml.Parse(lb, wbxml.DefaultLimits)
			if err != nil {
				t.Fatalf("decoding xml2wbxml's encoding: %v", err)
			}
			if d := wbxml.Diff(tree, libDoc.Root); d != "" {
				t.Errorf("libwbxml's encoding decodes to another tree: %s", d)
			}
		})
	}
}

func runPeer(t *testing.T, tool string, args ...string) {
	t.Helper()
	if out, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(tool), strings.Join(args, " "), err, out)
	}
}

// The specs read the corpus from the test binary, not from the working
// directory: run from anywhere else, every file still reads (the
// black-box mutation runs failed the interop specs on "no such file").
func TestInteropCorpusNeedsNoSourceTree(t *testing.T) {
	t.Chdir(t.TempDir())
	files, err := fs.Glob(interopCorpus, path.Join(interopDir, "*.xml"))
	if err != nil || len(files) < 40 {
		t.Fatalf("embedded interop corpus: %d files (%v), want at least 40", len(files), err)
	}
	for _, f := range files {
		if _, err := interopXML(path.Base(f), func(string) string { return "7" }); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
