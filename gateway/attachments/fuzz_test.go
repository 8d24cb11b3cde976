package attachments

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// FuzzDecryptStream: any input is rejected or decrypted without panics,
// and output never exceeds input (memory is one chunk).
func FuzzDecryptStream(f *testing.F) {
	k := testKey("k1", uemapi.AES256GCM)
	legacy := testKey("k2", uemapi.AES128ECB)
	kr := testRing(f, legacy, k)
	for _, n := range []int{0, 1, 100, 1024, 1025, 3000} {
		f.Add(encrypt(f, pseudoRandom(n, uint64(n)), k, 10))
		f.Add(encrypt(f, pseudoRandom(n, uint64(n)), legacy, 10))
	}
	ct := encrypt(f, pseudoRandom(5000, 1), k, 10)
	f.Add(ct[:len(ct)-1])
	f.Add(ct[:60])
	f.Add([]byte(Magic))
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		err := DecryptStream(&out, bytes.NewReader(in), kr)
		if out.Len() > len(in) {
			t.Fatalf("%d bytes out of %d in", out.Len(), len(in))
		}
		if err != nil && !errors.Is(err, ErrAuth) && !errors.Is(err, ErrFormat) && !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}

// boundedWriter fails the test if a rewrite writes far more than its input.
type boundedWriter struct {
	t     *testing.T
	n, mx int
}

func (b *boundedWriter) Write(p []byte) (int, error) {
	b.n += len(p)
	if b.n > b.mx {
		b.t.Fatalf("output exceeds %d bytes", b.mx)
	}
	return len(p), nil
}

// FuzzRewriteMIME: any message is rewritten or rejected without panics,
// under every option and outbound, and output stays proportional to input.
func FuzzRewriteMIME(f *testing.F) {
	kr := testRing(f, testKey("k1", uemapi.AES256GCM))
	p := mustPolicy(f, allOptions(uemapi.AttachEncrypt, uemapi.AttachSecureApp, uemapi.AttachRemove), "work.example")
	small := file{"a.pdf", "application/pdf", []byte("%PDF-1.4 tiny")}
	f.Add(buildMessage("seed", []file{small, txt}, nil), uint8(0))
	f.Add(nested(3, []file{small, {"p.jpg", "image/jpeg", []byte{1, 2}}}), uint8(1))
	f.Add(nested(6, []file{small}), uint8(2))
	f.Add([]byte("Content-Type: multipart/signed; boundary=s\r\n\r\n--s\r\nContent-Type: application/pdf\r\n\r\nx\r\n--s--\r\n"), uint8(0))
	f.Add([]byte("Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n\r\nMIAG"), uint8(1))
	f.Add([]byte("Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nQ29udGVudC1UeXBlOiBhcHBsaWNhdGlvbi9wZGYNCg0KeA==\r\n"), uint8(0))
	f.Add(withRecipients(encryptedMessage(f, kr, []file{small}), "eve@home.example"), uint8(3))
	rw := NewRewriter(p, kr).WithLimits(Limits{MaxNesting: 16, MaxHeaderBytes: 8192})
	f.Fuzz(func(t *testing.T, in []byte, mode uint8) {
		bw := &boundedWriter{t: t, mx: 64*len(in) + 4096}
		switch mode % 4 {
		case 0:
			_, _ = rw.RewriteMIME(bytes.NewReader(in), bw, Encrypt, "")
		case 1:
			_, _ = rw.RewriteMIME(bytes.NewReader(in), bw, Remove, "de")
		case 2:
			_, _, _ = rw.RewriteAttachment(bw, bytes.NewReader(in), AttachmentInfo{Name: "x.eml", ContentType: "message/rfc822"}, Encrypt, "")
		case 3:
			_, _ = rw.RewriteOutbound(bytes.NewReader(in), bw, Outbound{Option: Encrypt})
		}
	})
}
