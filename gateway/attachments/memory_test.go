package attachments

import (
	"encoding/base64"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// streamedMessage is a MIME message with one attachment of size bytes,
// generated on the fly (base64 through a pipe), never held in memory.
func streamedMessage(size int64, name string, content io.Reader) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		enc := base64.NewEncoder(base64.StdEncoding, &lineWriter{w: pw})
		_, err := io.Copy(enc, content)
		if err == nil {
			err = enc.Close()
		}
		pw.CloseWithError(err)
	}()
	head := "From: a@work.example\r\nTo: eve@home.example\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=mem\r\n\r\n" +
		"--mem\r\nContent-Type: text/plain\r\n\r\nbody\r\n--mem\r\nContent-Type: application/octet-stream; name=\"" + name + "\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n"
	return io.MultiReader(strings.NewReader(head), pr, strings.NewReader("\r\n--mem--\r\n"))
}

// allocated runs fn and returns the bytes it allocated (all goroutines).
func allocated(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// ATT-07, ATT-14: a 24 MiB attachment (4 MiB under -race) goes down (encrypted) and back up
// (decrypted) allocating well under a megabyte in total: memory does not
// grow with the attachment.
func TestATT07_BoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 24 MiB twice")
	}
	size := int64(24 << 20)
	if raceEnabled {
		size = 4 << 20
	}
	kr := testRing(t, testKey("k1", uemapi.AES256GCM))
	p := mustPolicy(t, allOptions(uemapi.AttachEncrypt, uemapi.AttachRemove, uemapi.AttachRemove), "work.example")
	rw := NewRewriter(p, kr)
	const limit = 2 << 20
	var res Result
	var err error
	down := allocated(func() {
		res, err = rw.RewriteMIME(streamedMessage(size, "big.bin", newPattern(size)), io.Discard, Encrypt, "")
	})
	if err != nil || res.Encrypted != 1 || res.Bytes != size {
		t.Fatalf("down: %v %+v", err, res)
	}
	// Up: the encrypted file, produced on the fly, in a message to a
	// non-work recipient.
	k, _ := kr.Current()
	cpr, cpw := io.Pipe()
	go func() { cpw.CloseWithError(EncryptStream(cpw, newPattern(size), k)) }()
	up := allocated(func() {
		res, err = rw.RewriteOutbound(streamedMessage(size, "big.bin.attachctrl", cpr), io.Discard, Outbound{Option: Encrypt})
	})
	if err != nil || res.Decrypted != 1 || res.Bytes != size {
		t.Fatalf("up: %v %+v", err, res)
	}
	t.Logf("allocated for %d MiB: down %d KiB, up %d KiB", size>>20, down>>10, up>>10)
	if down > limit || up > limit {
		t.Fatalf("allocated down %d, up %d bytes for a %d-byte attachment", down, up, size)
	}
}
