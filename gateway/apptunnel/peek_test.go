package apptunnel

import (
	"bytes"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// clientHello returns the first flight of a TLS client for sni.
func clientHello(t testing.TB, sni string) []byte {
	a, b := net.Pipe()
	go func() {
		_ = tls.Client(a, &tls.Config{ServerName: sni, InsecureSkipVerify: true}).Handshake() //nolint:gosec // never completes
		a.Close()
	}()
	buf := make([]byte, 4096)
	n, _ := b.Read(buf)
	b.Close()
	return buf[:n]
}

func TestATC12SniffHost(t *testing.T) {
	hello := clientHello(t, "Wiki.Corp.Example")
	cases := []struct {
		name string
		in   []byte
		host string
	}{
		{"tls sni", hello, "wiki.corp.example"},
		{"tls no sni", clientHello(t, ""), ""},
		{"http host", []byte("GET / HTTP/1.1\r\nHost: intranet:8080\r\n\r\n"), "intranet"},
		{"raw tcp", []byte("\x00\x01binary"), ""},
		{"empty", nil, ""},
	}
	for _, c := range cases {
		host, consumed := sniffHost(bytes.NewReader(c.in))
		if host != c.host {
			t.Errorf("%s: host %q, want %q", c.name, host, c.host)
		}
		if !bytes.HasPrefix(c.in, consumed) {
			t.Errorf("%s: consumed bytes are not the stream's start", c.name)
		}
	}
}

// TestWriteFuzzCorpus keeps testdata/fuzz/FuzzSniffHost's seeds in step
// with the helper; run with GATEHOUSE_WRITE_CORPUS=1 to rewrite them.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("GATEHOUSE_WRITE_CORPUS") == "" {
		t.Skip("set GATEHOUSE_WRITE_CORPUS=1 to rewrite the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzSniffHost")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	seeds := map[string][]byte{"tls-sni": clientHello(t, "a.corp.example"), "tls-nosni": clientHello(t, ""),
		"http": []byte("GET / HTTP/1.1\r\nHost: h\r\n\r\n")}
	for name, b := range seeds {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("go test fuzz v1\n[]byte("+quoteGo(b)+")\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func quoteGo(b []byte) string {
	var out bytes.Buffer
	out.WriteByte('"')
	for _, c := range b {
		out.WriteString("\\x")
		out.WriteByte("0123456789abcdef"[c>>4])
		out.WriteByte("0123456789abcdef"[c&15])
	}
	out.WriteByte('"')
	return out.String()
}

// FuzzSniffHost: any client stream: no panic, the consumed bytes are the
// stream's prefix and at most maxPeek long.
func FuzzSniffHost(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: h\r\n\r\n"))
	f.Add([]byte{0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, in []byte) {
		_, consumed := sniffHost(bytes.NewReader(in))
		if !bytes.HasPrefix(in, consumed) || len(consumed) > maxPeek {
			t.Fatalf("consumed %d bytes, not a prefix of the input", len(consumed))
		}
	})
}
