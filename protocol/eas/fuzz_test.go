package eas

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// fuzzLimits keep each fuzz input cheap.
var fuzzLimits = wbxml.Limits{MaxSize: 1 << 16, MaxDepth: 32, MaxElements: 4096}

// corpusWBXML encodes every corpus file with our codec.
func corpusWBXML(tb testing.TB) map[string][]byte {
	tb.Helper()
	files, err := filepath.Glob("testdata/corpus/*.xml")
	if err != nil {
		tb.Fatal(err)
	}
	out := make(map[string][]byte, len(files))
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		n, err := wbxml.ParseXML(bytes.NewReader(src))
		if err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		b, err := wbxml.Marshal(n)
		if err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".xml")] = b
	}
	return out
}

// FuzzDecodeMessage feeds arbitrary bytes to Decode, in both directions.
// Whatever decodes must re-encode, and decoding that encoding must give the
// same encoding again (decode, encode, decode is stable).
func FuzzDecodeMessage(f *testing.F) {
	for _, b := range corpusWBXML(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, dir := range []Direction{Guess, ClientToServer, ServerToClient} {
			msg, err := DecodeAs(data, fuzzLimits, dir)
			if err != nil {
				continue
			}
			enc, err := EncodeMessage(msg)
			if err != nil {
				t.Fatalf("direction %d: %T decoded but does not encode: %v", dir, msg, err)
			}
			// Re-decode in the direction that was picked: a guess may
			// rest on elements the typed struct drops (a wrapper's
			// non-item children), so it is not itself stable.
			dir2 := dir
			if dir == Guess {
				dir2 = ClientToServer
				if strings.HasSuffix(fmt.Sprintf("%T", msg), "Response") {
					dir2 = ServerToClient
				}
			}
			msg2, err := DecodeAs(enc, wbxml.DefaultLimits, dir2)
			if err != nil {
				t.Fatalf("direction %d: re-encoded %T does not decode: %v", dir, msg, err)
			}
			if fmt.Sprintf("%T", msg) != fmt.Sprintf("%T", msg2) {
				t.Fatalf("direction %d: %T became %T", dir, msg, msg2)
			}
			enc2, err := EncodeMessage(msg2)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc, enc2) {
				d1, _ := wbxml.Parse(enc, wbxml.DefaultLimits)
				d2, _ := wbxml.Parse(enc2, wbxml.DefaultLimits)
				t.Fatalf("direction %d: %T not stable: %s", dir, msg, wbxml.Diff(d1.Root, d2.Root))
			}
		}
	})
}

// FuzzMultipart parses arbitrary bodies; whatever parses must rebuild into
// a body that parses to the same parts.
func FuzzMultipart(f *testing.F) {
	for _, b := range multipartSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		parts, err := ParseMultipart(data, MultipartLimits{MaxParts: 64, MaxSize: 1 << 20})
		if err != nil {
			return
		}
		if len(parts) == 0 {
			t.Fatal("no error and no parts")
		}
		rebuilt, err := BuildMultipart(parts)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseMultipart(rebuilt, MultipartLimits{MaxParts: 64, MaxSize: 1 << 21})
		if err != nil {
			t.Fatalf("rebuilt body does not parse: %v", err)
		}
		if len(again) != len(parts) {
			t.Fatalf("%d parts became %d", len(parts), len(again))
		}
		for i := range parts {
			if !bytes.Equal(parts[i], again[i]) {
				t.Fatalf("part %d changed", i)
			}
		}
	})
}

func multipartSeeds(tb testing.TB) [][]byte {
	c := corpusWBXML(tb)
	pdf := bytes.Repeat([]byte("%PDF-1.4 binary \x00\x01\xff"), 20)
	var seeds [][]byte
	for _, parts := range [][][]byte{
		{c["30-itemoperations-response-multipart"], pdf, []byte("From: a@b\r\n\r\nhi\r\n")},
		{c["27-itemoperations-response-inline"]},
		{c["30-itemoperations-response-multipart"], {}},
	} {
		b, err := BuildMultipart(parts)
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	// Malformed: truncated header, negative count, offset into the header.
	seeds = append(seeds, []byte{1, 0, 0}, []byte{0xff, 0xff, 0xff, 0xff},
		[]byte{1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 'x'})
	return seeds
}

// TestWriteFuzzSeeds regenerates testdata/fuzz from the corpus when
// GATEHOUSE_WRITE_SEEDS=1; otherwise it checks the committed seeds exist.
func TestWriteFuzzSeeds(t *testing.T) {
	write := os.Getenv("GATEHOUSE_WRITE_SEEDS") == "1"
	sets := map[string][][]byte{"FuzzMultipart": multipartSeeds(t)}
	var names []string
	for name, b := range corpusWBXML(t) {
		sets["FuzzDecodeMessage"] = append(sets["FuzzDecodeMessage"], b)
		names = append(names, name)
	}
	for target, seeds := range sets {
		dir := filepath.Join("testdata", "fuzz", target)
		if !write {
			got, _ := filepath.Glob(filepath.Join(dir, "*"))
			if len(got) < len(seeds) {
				t.Errorf("%s has %d committed seeds, want at least %d (GATEHOUSE_WRITE_SEEDS=1 go test -run TestWriteFuzzSeeds)", dir, len(got), len(seeds))
			}
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, b := range seeds {
			name := "seed-" + strconv.Itoa(i)
			if target == "FuzzDecodeMessage" {
				name = "seed-" + names[i]
			}
			body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
