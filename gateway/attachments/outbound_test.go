package attachments

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// withRecipients rewrites the To header of a test message.
func withRecipients(msg []byte, to string) []byte {
	return bytes.Replace(msg, []byte("To: bob@work.example"), []byte("To: "+to), 1)
}

// encryptedMessage is what a device sends back: a message whose
// attachment is encrypted (by this gateway on the way down, or by
// Docs@Work).
func encryptedMessage(t testing.TB, kr *Keyring, files []file) []byte {
	t.Helper()
	p := mustPolicy(t, allOptions(uemapi.AttachEncrypt, uemapi.AttachRemove, uemapi.AttachRemove))
	out, _ := rewrite(t, NewRewriter(p, kr), buildMessage("out", files, nil), Encrypt, "")
	return out
}

// ATT-14, ATT-15, ATT-16, ATT-17, ATT-20: outbound mail keeps encrypted
// attachments for work recipients and decrypts them when any recipient is
// outside the work domains; only under Encrypt; SmartForward/SmartReply
// count as forwarded-restored.
func TestATT14_Outbound(t *testing.T) {
	kr := testRing(t, testKey("k1", uemapi.AES256GCM))
	p := mustPolicy(t, allOptions(uemapi.AttachEncrypt, uemapi.AttachRemove, uemapi.AttachRemove), "work.example", "corp.example")
	// Docs@Work encrypts excluded types too (ATT-16): encrypt txt by hand.
	var txtCT bytes.Buffer
	k, _ := kr.Current()
	if err := EncryptStream(&txtCT, bytes.NewReader(txt.data), k); err != nil {
		t.Fatal(err)
	}
	sent := encryptedMessage(t, kr, []file{pdf, {"notes.txt.attachctrl", "application/octet-stream", txtCT.Bytes()}})
	cases := []struct {
		name    string
		to      string
		extra   []string
		opt     Option
		forward bool
		decrypt bool
	}{
		{"work colleague", "bob@work.example", nil, Encrypt, false, false},
		{"work subdomain and second domain", "bob@eu.work.example, Carol <carol@CORP.example>", nil, Encrypt, false, false},
		{"non-work recipient", "eve@home.example", nil, Encrypt, false, true},
		{"mixed recipients", "bob@work.example, eve@home.example", nil, Encrypt, false, true},
		{"non-work recipient only in the request", "bob@work.example", []string{"eve@home.example"}, Encrypt, false, true},
		{"forward to non-work", "eve@home.example", nil, Encrypt, true, true},
		{"option no longer Encrypt (ATT-17)", "eve@home.example", nil, Remove, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := newStats()
			msg := withRecipients(sent, c.to)
			var out bytes.Buffer
			res, err := NewRewriter(p, kr).WithStats(st).RewriteOutbound(bytes.NewReader(msg), &out, Outbound{Option: c.opt, Recipients: c.extra, Forward: c.forward})
			if err != nil {
				t.Fatal(err)
			}
			if !c.decrypt {
				if !bytes.Equal(out.Bytes(), msg) || !res.Untouched {
					t.Fatal("message changed")
				}
				return
			}
			ls := leaves(t, out.Bytes())
			if ls[0].name != "report.pdf" || !bytes.Equal(ls[0].data, pdf.data) || ls[0].ct != "application/pdf" {
				t.Fatalf("pdf: %q %q", ls[0].name, ls[0].ct)
			}
			if ls[1].name != "notes.txt" || !bytes.Equal(ls[1].data, txt.data) {
				t.Fatalf("txt: %q", ls[1].name)
			}
			counter, other := stats.AttachmentsConverted, stats.AttachmentsFwdRestored
			if c.forward {
				counter, other = other, counter
			}
			if res.Decrypted != 2 || st.Get(counter) != 2 || st.Get(other) != 0 {
				t.Fatalf("%+v %s=%d", res, counter, st.Get(counter))
			}
		})
	}
	// ATT-20: a forwarded .removed.html replacement passes as it is.
	removed, _ := rewrite(t, NewRewriter(p, kr), buildMessage("rm", []file{pdf}, nil), Remove, "")
	removed = withRecipients(removed, "eve@home.example")
	var out bytes.Buffer
	if _, err := NewRewriter(p, kr).RewriteOutbound(bytes.NewReader(removed), &out, Outbound{Option: Encrypt, Forward: true}); err != nil {
		t.Fatal(err)
	}
	if ls := leaves(t, out.Bytes()); ls[0].name != "report.pdf.removed.html" || !strings.Contains(string(ls[0].data), "removed") {
		t.Fatalf("%+v", ls[0].name)
	}
}

// ATT-11: after a key regeneration an attachment encrypted with the old key
// cannot be decrypted for a non-work recipient; it is replaced by a text
// file explaining why, and decryption-failures counts it. A tampered one
// fails the whole message.
func TestATT11_OldKeyOutbound(t *testing.T) {
	old := testKey("old", uemapi.AES128ECB)
	kr := testRing(t, old)
	p := mustPolicy(t, allOptions(uemapi.AttachEncrypt, uemapi.AttachRemove, uemapi.AttachRemove), "work.example")
	sent := withRecipients(encryptedMessage(t, kr, []file{pdf}), "eve@home.example")
	if !bytes.Contains(sent, []byte("report.pdf.secure")) {
		t.Fatal("legacy key did not give .secure")
	}
	if err := kr.Replace(testKey("new", uemapi.AES256GCM)); err != nil {
		t.Fatal(err)
	}
	st := newStats()
	var out bytes.Buffer
	res, err := NewRewriter(p, kr).WithStats(st).RewriteOutbound(bytes.NewReader(sent), &out, Outbound{Option: Encrypt, Forward: true})
	if err != nil {
		t.Fatal(err)
	}
	ls := leaves(t, out.Bytes())
	if len(ls) != 1 || ls[0].name != "report.pdf"+UndecryptableSuffix || ls[0].ct != "text/plain" {
		t.Fatalf("%+v", ls)
	}
	if !strings.Contains(string(ls[0].data), `"report.pdf"`) || res.Undecryptable != 1 || st.Get(stats.DecryptionFailures) != 1 {
		t.Fatalf("%q %+v", ls[0].data, res)
	}

	// A tampered attachment under a known key: the message fails.
	kr2 := testRing(t, testKey("k1", uemapi.AES256GCM))
	sent = withRecipients(encryptedMessage(t, kr2, []file{pdf}), "eve@home.example")
	ls = leaves(t, sent)
	ct := bytes.Clone(ls[0].data)
	ct[len(ct)/2] ^= 1
	tampered := buildMessage("out", []file{{"report.pdf.attachctrl", "application/octet-stream", ct}}, nil)
	tampered = withRecipients(tampered, "eve@home.example")
	st = newStats()
	_, err = NewRewriter(p, kr2).WithStats(st).RewriteOutbound(bytes.NewReader(tampered), &bytes.Buffer{}, Outbound{Option: Encrypt})
	if !errors.Is(err, ErrAuth) || st.Get(stats.DecryptionFailures) != 1 {
		t.Fatalf("tampered: %v, failures %d", err, st.Get(stats.DecryptionFailures))
	}
}
