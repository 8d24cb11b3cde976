package attachments

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// patternReader yields n pseudo-random bytes without holding them.
type patternReader struct {
	pat []byte
	off int
	n   int64
}

func newPattern(n int64) *patternReader {
	return &patternReader{pat: pseudoRandom(64<<10+7, 42), n: n}
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.n {
		b = b[:p.n]
	}
	k := 0
	for k < len(b) {
		c := copy(b[k:], p.pat[p.off:])
		k += c
		p.off = (p.off + c) % len(p.pat)
	}
	p.n -= int64(k)
	return k, nil
}

// BenchmarkATT07_EncryptStream: throughput and allocation per stream; B/op
// must not grow from 1 MiB to 100 MiB.
func BenchmarkATT07_EncryptStream(b *testing.B) {
	k := testKey("k1", uemapi.AES256GCM)
	for _, size := range []int64{1 << 20, 100 << 20} {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				if err := EncryptStream(io.Discard, newPattern(size), &k); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkATT07_DecryptStream decrypts what a concurrent encryption
// streams through a pipe, so 100 MiB never sits in memory.
func BenchmarkATT07_DecryptStream(b *testing.B) {
	k := testKey("k1", uemapi.AES256GCM)
	kr := testRing(b, k)
	for _, size := range []int64{1 << 20, 100 << 20} {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				pr, pw := io.Pipe()
				go func() { pw.CloseWithError(EncryptStream(pw, newPattern(size), &k)) }()
				if err := DecryptStream(io.Discard, bufio.NewReaderSize(pr, 64<<10), kr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkATT07_RewriteMIME rewrites a message with one attachment
// (base64 in, decrypt-able base64 out); allocation must not grow with the
// attachment.
func BenchmarkATT07_RewriteMIME(b *testing.B) {
	kr := testRing(b, testKey("k1", uemapi.AES256GCM))
	p := mustPolicy(b, allOptions(uemapi.AttachEncrypt, uemapi.AttachRemove, uemapi.AttachRemove))
	rw := NewRewriter(p, kr)
	for _, size := range []int{1 << 20, 16 << 20} {
		msg := buildMessage("bench", []file{{"big.pdf", "application/pdf", pseudoRandom(size, 5)}}, nil)
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rw.RewriteMIME(bytes.NewReader(msg), io.Discard, Encrypt, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// openSSLSpeed runs `openssl speed -evp aes-256-gcm` on 16 KiB blocks and
// returns its MB/s (10^6 bytes).
func openSSLSpeed(tb testing.TB) float64 {
	out, err := exec.Command("openssl", "speed", "-evp", "aes-256-gcm", "-bytes", "16384", "-seconds", "2").Output()
	if err != nil {
		tb.Fatalf("openssl speed (apt-get install openssl): %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && strings.EqualFold(f[0], "AES-256-GCM") {
			v, err := strconv.ParseFloat(strings.TrimSuffix(f[len(f)-1], "k"), 64)
			if err == nil {
				return v * 1000 / 1e6
			}
		}
	}
	tb.Fatalf("no AES-256-GCM figure in openssl output:\n%s", out)
	return 0
}

// BenchmarkATT07_VsOpenSSL measures EncryptStream (64 MiB streams for 2 s) and openssl's
// 16 KiB-block AES-256-GCM figure in the same run and reports both and
// their ratio (target: ratio ≥ 0.5).
func BenchmarkATT07_VsOpenSSL(b *testing.B) {
	k := testKey("k1", uemapi.AES256GCM)
	const size = 64 << 20
	for b.Loop() {
		// Encrypt for about as long as openssl measures (2 s).
		start, n := time.Now(), 0
		for ; time.Since(start) < 2*time.Second; n++ {
			if err := EncryptStream(io.Discard, newPattern(size), &k); err != nil {
				b.Fatal(err)
			}
		}
		goMBs := float64(n) * size / time.Since(start).Seconds() / 1e6
		sslMBs := openSSLSpeed(b)
		b.ReportMetric(goMBs, "go-MB/s")
		b.ReportMetric(sslMBs, "openssl-MB/s")
		b.ReportMetric(goMBs/sslMBs, "ratio")
	}
}
