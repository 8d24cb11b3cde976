package attachments

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

var (
	pdf = file{"report.pdf", "application/pdf", pseudoRandom(200_000, 7)}
	txt = file{"notes.txt", "text/plain", []byte("plain notes\r\n")}
	jpg = file{"pic.jpg", "image/jpeg", pseudoRandom(3000, 9)}
)

// ATT-01: attachment control disabled delivers everything as is, whatever
// the configured options.
func TestATT01_DisabledDeliversAsIs(t *testing.T) {
	ac := allOptions(uemapi.AttachRemove, uemapi.AttachRemove, uemapi.AttachRemove)
	ac.Enabled = false
	p := mustPolicy(t, ac)
	for _, c := range []ClientClass{ClassIOSNative, ClassSecureApp, ClassOther} {
		if o := p.OptionFor(c); o != DeliverAsIs {
			t.Fatalf("%v: %v", c, o)
		}
	}
	msg := buildMessage("x", []file{pdf}, nil)
	out, res := rewrite(t, NewRewriter(p, nil), msg, p.OptionFor(ClassIOSNative), "")
	if !bytes.Equal(out, msg) || !res.Untouched {
		t.Fatal("disabled attachment control changed the message")
	}
}

// ATT-02, ATT-25: classification of devices from what they send.
func TestATT02_Classify(t *testing.T) {
	ios := &eas.DeviceInformation{Set: &eas.DeviceInformationSet{Model: "iPhone15,2", OS: "iOS 17.4 21E219", OSLanguage: "de-DE"}}
	android := &eas.DeviceInformation{Set: &eas.DeviceInformationSet{Model: "SM-G991B", OS: "Android 14", OSLanguage: "de"}}
	cases := []struct {
		name, dt, ua string
		info         *eas.DeviceInformation
		want         ClientClass
		lang         string
	}{
		{"iOS Mail", "iPhone", "Apple-iPhone15C2/2104.100", ios, ClassIOSNative, "de-DE"},
		{"iPad Mail, no DeviceInformation", "iPad", "Apple-iPad13C1/2104.100", nil, ClassIOSNative, ""},
		{"iOS by DeviceInformation only", "SomeDevice", "SomeAgent/1.0", ios, ClassIOSNative, "de-DE"},
		{"Email+ on iOS", "iPhone", "Email+/4.30 (iPhone; iOS 17.4)", ios, ClassSecureApp, "de-DE"},
		{"Email+ on Android", "Android", "EmailPlus/3.18.0 Android/14", android, ClassSecureApp, ""},
		{"AppConnect app", "Android", "Acme Mail AppConnect/2.0", nil, ClassSecureApp, ""},
		{"third-party iOS app stays under iOS", "Outlook", "Outlook-iOS/2.0", ios, ClassIOSNative, "de-DE"},
		{"Android native", "SAMSUNGSMG991B", "SAMSUNG-SM-G991B/101.140", android, ClassOther, ""},
		{"Gmail on Android", "Android", "Android-Mail/2024.01", android, ClassOther, ""},
		{"Windows Mail", "WindowsMail", "MSFT-WIN-3/10.0.22631", nil, ClassOther, ""},
		{"unknown", "", "", nil, ClassOther, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Classify(c.dt, c.ua, c.info); got != c.want {
				t.Fatalf("Classify = %v, want %v", got, c.want)
			}
			if got := Language(c.dt, c.ua, c.info); got != c.lang {
				t.Fatalf("Language = %q, want %q", got, c.lang)
			}
		})
	}
}

// ATT-03, ATT-04, ATT-13: every option for every client class, with an
// excluded (txt) and a non-excluded (pdf) attachment. The Policy routes
// each class to its dropdown; the option decides, and the exclusion list
// matters under Encrypt only.
func TestATT04_OptionByClassAndExclusion(t *testing.T) {
	kr := testRing(t, testKey("k1", uemapi.AES256GCM))
	msg := buildMessage("matrix", []file{pdf, txt}, nil)
	type want struct{ pdf, txt string }
	byOption := map[uemapi.AttachmentOption]want{
		uemapi.AttachRemove:      {"report.pdf.removed.html", "notes.txt.removed.html"},
		uemapi.AttachEncrypt:     {"report.pdf.attachctrl", "notes.txt"},
		uemapi.AttachDeliverAsIs: {"report.pdf", "notes.txt"},
		uemapi.AttachSecureApp:   {"report.pdf", "notes.txt"},
	}
	for _, class := range []ClientClass{ClassIOSNative, ClassSecureApp, ClassOther} {
		for _, opt := range []uemapi.AttachmentOption{uemapi.AttachRemove, uemapi.AttachEncrypt, uemapi.AttachDeliverAsIs, uemapi.AttachSecureApp} {
			t.Run(class.String()+"/"+string(opt), func(t *testing.T) {
				// The other classes get a different option, to show that
				// the class picks its own dropdown.
				ac := allOptions(uemapi.AttachDeliverAsIs, uemapi.AttachDeliverAsIs, uemapi.AttachDeliverAsIs)
				switch class {
				case ClassIOSNative:
					ac.IOSNative = opt
				case ClassSecureApp:
					ac.SecureApps = opt
				default:
					ac.OtherPlatforms = opt
				}
				if opt == uemapi.AttachDeliverAsIs {
					ac.IOSNative, ac.SecureApps, ac.OtherPlatforms = uemapi.AttachRemove, uemapi.AttachRemove, uemapi.AttachRemove
					switch class {
					case ClassIOSNative:
						ac.IOSNative = opt
					case ClassSecureApp:
						ac.SecureApps = opt
					default:
						ac.OtherPlatforms = opt
					}
				}
				p := mustPolicy(t, ac)
				out, _ := rewrite(t, NewRewriter(p, kr), msg, p.OptionFor(class), "")
				ls := leaves(t, out)
				if len(ls) != 2 {
					t.Fatalf("%d attachments", len(ls))
				}
				w := byOption[opt]
				if ls[0].name != w.pdf || ls[1].name != w.txt {
					t.Fatalf("names %q %q, want %q %q", ls[0].name, ls[1].name, w.pdf, w.txt)
				}
				switch opt {
				case uemapi.AttachEncrypt:
					if got := decryptBytes(t, kr, ls[0].data); !bytes.Equal(got, pdf.data) {
						t.Fatal("encrypted pdf does not decrypt to the original")
					}
					if !bytes.Equal(ls[1].data, txt.data) {
						t.Fatal("excluded txt changed")
					}
				case uemapi.AttachDeliverAsIs, uemapi.AttachSecureApp:
					if !bytes.Equal(out, msg) {
						t.Fatal("message changed")
					}
				}
			})
		}
	}
}

// ATT-12, ATT-13, INC-04: the default exclusion list has the 16 extensions
// of the text; a custom list replaces it; names are matched by extension,
// case-insensitively.
func TestATT12_ExclusionList(t *testing.T) {
	def := mustPolicy(t, allOptions(uemapi.AttachEncrypt, uemapi.AttachSecureApp, uemapi.AttachRemove))
	for _, e := range []string{"txt", "html", "htm", "jpg", "jpeg", "gif", "png", "eml", "rpms", "rpmsg", "bmp", "tiff", "tif", "sdtid", "log", "ics"} {
		if !def.Excluded("a." + e) {
			t.Errorf("default list misses %s", e)
		}
	}
	for _, n := range []string{"a.pdf", "a.docx", "txt", "a.bxt", "a.txt.pdf"} {
		if def.Excluded(n) {
			t.Errorf("default list excludes %s", n)
		}
	}
	if !def.Excluded("SCAN.JPG") {
		t.Error("extension match is case-sensitive")
	}
	custom := mustPolicy(t, uemapi.AttachmentControl{Enabled: true, ExclusionList: ParseExclusionList("pdf, .DOCX,,")})
	if !custom.Excluded("x.pdf") || !custom.Excluded("x.docx") || custom.Excluded("x.txt") {
		t.Error("custom list not applied")
	}
	kr := testRing(t, testKey("k1", uemapi.AES256GCM))
	out, res := rewrite(t, NewRewriter(custom, kr), buildMessage("c", []file{pdf, txt}, nil), Encrypt, "")
	ls := leaves(t, out)
	if ls[0].name != "report.pdf" || ls[1].name != "notes.txt.attachctrl" || res.Excluded != 1 || res.Encrypted != 1 {
		t.Fatalf("custom list: %q %q %+v", ls[0].name, ls[1].name, res)
	}
}

// ATT-05, ATT-06: the replacement file's name and text, translated for the
// device language with United States English as the fallback.
func TestATT06_RemoveTranslated(t *testing.T) {
	p := mustPolicy(t, allOptions(uemapi.AttachRemove, uemapi.AttachRemove, uemapi.AttachRemove))
	cases := []struct{ lang, want string }{
		{"", "The original attachment was removed as required by the security policies of your administrator."},
		{"en-GB", "The original attachment was removed as required by the security policies of your administrator."},
		{"de-DE", "Der ursprüngliche Anhang wurde gemäß den Sicherheitsrichtlinien Ihres Administrators entfernt."},
		{"Deutsch", "Der ursprüngliche Anhang"},
		{"fr", "La pièce jointe d&#39;origine a été supprimée"},
		{"es-MX", "El archivo adjunto original se eliminó"},
		{"ja-JP", "元の添付ファイルは、管理者のセキュリティポリシーにより削除されました。"},
		{"Japanese", "元の添付ファイル"},
		{"sv-SE", "The original attachment was removed as required"},
	}
	msg := buildMessage("rm", []file{pdf}, nil)
	for _, c := range cases {
		t.Run(c.lang, func(t *testing.T) {
			out, res := rewrite(t, NewRewriter(p, nil), msg, Remove, c.lang)
			ls := leaves(t, out)
			if len(ls) != 1 || ls[0].name != "report.pdf.removed.html" || ls[0].ct != "text/html" {
				t.Fatalf("%+v", ls)
			}
			if !strings.Contains(string(ls[0].data), c.want) {
				t.Fatalf("replacement %q lacks %q", ls[0].data, c.want)
			}
			if res.Removed != 1 || res.Bytes != int64(len(pdf.data)) {
				t.Fatalf("%+v", res)
			}
		})
	}
}

// ATT-19: embedded emails up to four levels get the option as configured
// (exclusion list included); from the fifth level every attachment, text
// and images included, is encrypted or converted.
func TestATT19_NestedDepths(t *testing.T) {
	kr := testRing(t, testKey("k1", uemapi.AES256GCM))
	p := mustPolicy(t, allOptions(uemapi.AttachEncrypt, uemapi.AttachRemove, uemapi.AttachRemove))
	for depth := 1; depth <= 6; depth++ {
		for _, opt := range []Option{Encrypt, Remove} {
			t.Run(opt.String()+"/"+string(rune('0'+depth)), func(t *testing.T) {
				st := newStats()
				msg := nested(depth, []file{pdf, jpg})
				out, res := rewrite(t, NewRewriter(p, kr).WithStats(st), msg, opt, "")
				ls := leaves(t, out)
				if len(ls) != 2 {
					t.Fatalf("%d attachments", len(ls))
				}
				for _, l := range ls {
					if l.level != depth {
						t.Fatalf("%q at level %d", l.name, l.level)
					}
				}
				wantJPG := "pic.jpg"
				switch {
				case opt == Remove:
					wantJPG = "pic.jpg.removed.html"
				case depth >= ForceLevel:
					wantJPG = "pic.jpg.attachctrl"
				}
				wantPDF := "report.pdf.attachctrl"
				if opt == Remove {
					wantPDF = "report.pdf.removed.html"
				}
				if ls[0].name != wantPDF || ls[1].name != wantJPG {
					t.Fatalf("names %q %q, want %q %q", ls[0].name, ls[1].name, wantPDF, wantJPG)
				}
				if strings.HasSuffix(wantJPG, ".attachctrl") && !bytes.Equal(decryptBytes(t, kr, ls[1].data), jpg.data) {
					t.Fatal("forced jpg does not decrypt")
				}
				if res.Embedded != depth || st.Get(stats.AttachmentsEmbedded) != uint64(depth) {
					t.Fatalf("embedded %d / %d, want %d", res.Embedded, st.Get(stats.AttachmentsEmbedded), depth)
				}
			})
		}
	}
}

// Nesting beyond the hard limit is one opaque attachment, still controlled.
func TestATT19_NestingLimitFailsClosed(t *testing.T) {
	kr := testRing(t, testKey("k1", uemapi.AES256GCM))
	p := mustPolicy(t, allOptions(uemapi.AttachEncrypt, uemapi.AttachRemove, uemapi.AttachRemove))
	msg := nested(12, []file{txt})
	out, res := rewrite(t, NewRewriter(p, kr).WithLimits(Limits{MaxNesting: 8}), msg, Encrypt, "")
	if res.Encrypted != 1 || bytes.Contains(out, []byte("plain notes")) {
		t.Fatalf("deep content escaped: %+v", res)
	}
}

// ATT-21: S/MIME signed mail is processed under Remove and Encrypt (the
// signature breaks) and untouched otherwise; S/MIME encrypted mail is
// always untouched.
func TestATT21_SMIME(t *testing.T) {
	kr := testRing(t, testKey("k1", uemapi.AES256GCM))
	p := mustPolicy(t, allOptions(uemapi.AttachEncrypt, uemapi.AttachSecureApp, uemapi.AttachRemove))
	inner := buildMessage("signed content", []file{pdf}, nil)
	// The signed content is the inner message's body part.
	_, innerBody, _ := bytes.Cut(inner, []byte("\r\n\r\n"))
	innerCT := `multipart/mixed; boundary="b-signed-content"`
	signed := []byte("From: a@work.example\r\nTo: b@work.example\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"sig\"\r\n\r\n" +
		"--sig\r\nContent-Type: " + innerCT + "\r\n\r\n" + string(innerBody) + "\r\n--sig\r\n" +
		"Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\nContent-Disposition: attachment; filename=\"smime.p7s\"\r\nContent-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHAqCAMIACAQEx\r\n--sig--\r\n")
	enveloped := []byte("From: a@work.example\r\nTo: b@work.example\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=\"smime.p7m\"\r\n" +
		"Content-Disposition: attachment; filename=\"smime.p7m\"\r\nContent-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQAx\r\n")
	for _, opt := range []Option{Remove, Encrypt, DeliverAsIs, SecureApp} {
		t.Run("signed/"+opt.String(), func(t *testing.T) {
			out, res := rewrite(t, NewRewriter(p, kr), signed, opt, "")
			processed := opt == Remove || opt == Encrypt
			if processed != res.SignatureBroken || processed == bytes.Equal(out, signed) {
				t.Fatalf("processed=%v broken=%v changed=%v", processed, res.SignatureBroken, !bytes.Equal(out, signed))
			}
			if processed {
				ls := leaves(t, out)
				if !strings.HasPrefix(ls[0].name, "report.pdf.") {
					t.Fatalf("signed attachment not processed: %+v", ls[0].name)
				}
			}
		})
		t.Run("enveloped/"+opt.String(), func(t *testing.T) {
			out, res := rewrite(t, NewRewriter(p, kr), enveloped, opt, "")
			if !bytes.Equal(out, enveloped) || !res.Untouched {
				t.Fatal("S/MIME encrypted message changed")
			}
		})
	}
}

// ATT-24: counters.
func TestATT24_Counters(t *testing.T) {
	kr := testRing(t, testKey("k1", uemapi.AES256GCM))
	p := mustPolicy(t, allOptions(uemapi.AttachEncrypt, uemapi.AttachRemove, uemapi.AttachRemove))
	st := newStats()
	big := file{"big.bin", "application/octet-stream", pseudoRandom(3<<20, 3)}
	rewrite(t, NewRewriter(p, kr).WithStats(st), buildMessage("c", []file{pdf, txt, big}, nil), Encrypt, "")
	rewrite(t, NewRewriter(p, kr).WithStats(st), buildMessage("c", []file{pdf}, nil), Remove, "")
	want := map[stats.Counter]uint64{
		stats.AttachmentsEncrypted: 2,
		stats.AttachmentsReplaced:  1,
		stats.AttachmentsRenamed:   3,
		stats.AttachmentsSizeBytes: uint64(2*len(pdf.data) + len(big.data)),
		stats.AttachmentsSizeMB:    3,
	}
	for c, v := range want {
		if got := st.Get(c); got != v {
			t.Errorf("%v = %d, want %d", c, got, v)
		}
	}
	// No key: the attachment cannot be delivered, it is removed and counted.
	st = newStats()
	out, res := rewrite(t, NewRewriter(p, &Keyring{}).WithStats(st), buildMessage("c", []file{pdf}, nil), Encrypt, "")
	if res.EncryptFailed != 1 || st.Get(stats.AttachmentEncryptFailures) != 1 || leaves(t, out)[0].name != "report.pdf.removed.html" {
		t.Fatalf("no key: %+v", res)
	}
}

// ATT-24: a replacement that cannot be written counts
// attachment-replaced-failures.
func TestATT24_ReplacedFailure(t *testing.T) {
	p := mustPolicy(t, allOptions(uemapi.AttachRemove, uemapi.AttachRemove, uemapi.AttachRemove))
	msg := buildMessage("f", []file{pdf}, nil)
	// Fail once the replacement's header is being written: the part header
	// starts after the text body.
	st := newStats()
	_, err := NewRewriter(p, nil).WithStats(st).RewriteMIME(bytes.NewReader(msg), &failAfter{n: bytes.Index(msg, []byte("--b-f\r\nContent-Type: application/pdf"))}, Remove, "")
	if err == nil || st.Get(stats.AttachmentReplacedFailures) != 1 || st.Get(stats.AttachmentsReplaced) != 0 {
		t.Fatalf("err %v, failures %d", err, st.Get(stats.AttachmentReplacedFailures))
	}
}

type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		return 0, io.ErrShortWrite
	}
	f.n -= len(p)
	return len(p), nil
}
