package attachments

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"

	"strings"
	"testing"

	"github.com/emersion/go-message/textproto"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// file is one attachment of a test message.
type file struct {
	name string
	ct   string
	data []byte
}

// buildMessage writes a multipart/mixed message with a text body, the
// files, and (when inner is not nil) an embedded message.
func buildMessage(subject string, files []file, inner []byte) []byte {
	var b bytes.Buffer
	boundary := "b-" + strings.ReplaceAll(subject, " ", "-")
	fmt.Fprintf(&b, "From: alice@work.example\r\nTo: bob@work.example\r\nSubject: %s\r\nMIME-Version: 1.0\r\n", subject)
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=%q\r\n\r\n", boundary)
	fmt.Fprintf(&b, "preamble\r\n--%s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello %s.\r\n", boundary, subject)
	for _, f := range files {
		fmt.Fprintf(&b, "--%s\r\nContent-Type: %s; name=%q\r\nContent-Disposition: attachment; filename=%q\r\nContent-Transfer-Encoding: base64\r\n\r\n",
			boundary, f.ct, f.name, f.name)
		enc := base64.StdEncoding.EncodeToString(f.data)
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\r\n")
	}
	if inner != nil {
		fmt.Fprintf(&b, "--%s\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"fwd.eml\"\r\n\r\n", boundary)
		b.Write(inner)
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.Bytes()
}

// nested builds a message whose attachments sit at embedding level depth
// (0: in the top-level message).
func nested(depth int, files []file) []byte {
	msg := buildMessage(fmt.Sprintf("level %d", depth), files, nil)
	for l := depth - 1; l >= 0; l-- {
		msg = buildMessage(fmt.Sprintf("level %d", l), nil, msg)
	}
	return msg
}

// leaf is an attachment found in a rewritten message.
type leaf struct {
	level int
	name  string
	ct    string
	data  []byte
}

// leaves parses a message and returns its attachments with their level.
func leaves(t testing.TB, msg []byte) []leaf {
	t.Helper()
	var out []leaf
	var walkEntity func(h textproto.Header, body io.Reader, level int)
	walkMsg := func(r io.Reader, level int) {
		br := bufio.NewReader(r)
		h, err := textproto.ReadHeader(br)
		if err != nil {
			t.Fatalf("output header: %v", err)
		}
		walkEntity(h, br, level)
	}
	walkEntity = func(h textproto.Header, body io.Reader, level int) {
		mt, params := contentType(&h)
		switch {
		case strings.HasPrefix(mt, "multipart/"):
			mr := textproto.NewMultipartReader(body, params["boundary"])
			for {
				p, err := mr.NextPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatalf("output multipart: %v", err)
				}
				walkEntity(p.Header, p, level)
			}
		case mt == "message/rfc822":
			walkMsg(body, level+1)
		default:
			name, disp := fileName(&h, params)
			if !isAttachment(mt, name, disp) {
				return
			}
			data, err := io.ReadAll(transferDecoder(h.Get("Content-Transfer-Encoding"), body))
			if err != nil {
				t.Fatalf("output body of %q: %v", name, err)
			}
			out = append(out, leaf{level, name, mt, data})
		}
	}
	walkMsg(bytes.NewReader(msg), 0)
	return out
}

func mustPolicy(t testing.TB, ac uemapi.AttachmentControl, work ...string) *Policy {
	t.Helper()
	p, err := NewPolicy(ac, work)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// allOptions is a policy whose three classes have the given options.
func allOptions(ios, secure, other uemapi.AttachmentOption, excl ...string) uemapi.AttachmentControl {
	return uemapi.AttachmentControl{Enabled: true, IOSNative: ios, SecureApps: secure, OtherPlatforms: other, ExclusionList: excl}
}

func rewrite(t testing.TB, rw *Rewriter, msg []byte, opt Option, lang string) ([]byte, Result) {
	t.Helper()
	var out bytes.Buffer
	res, err := rw.RewriteMIME(bytes.NewReader(msg), &out, opt, lang)
	if err != nil {
		t.Fatalf("RewriteMIME: %v", err)
	}
	return out.Bytes(), res
}

func decryptBytes(t testing.TB, kr *Keyring, ct []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := DecryptStream(&out, bytes.NewReader(ct), kr); err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	return out.Bytes()
}

func newStats() *stats.Device { return stats.NewRegistry().Device("dev1", "user1") }
