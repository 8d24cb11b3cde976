package attachments

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// ATT-05, ATT-07: real-world MIME shapes: LF line endings, encoded file
// names, quoted-printable and 8bit bodies, a single-part message that is
// itself an attachment, nameless inline images, over-long boundaries. Body
// text survives byte for byte.
func TestATT07_MIMEShapes(t *testing.T) {
	kr := testRing(t, testKey("k1", uemapi.AES256GCM))
	p := mustPolicy(t, allOptions(uemapi.AttachEncrypt, uemapi.AttachRemove, uemapi.AttachRemove))
	long := strings.Repeat("x", 80)
	cases := []struct {
		name  string
		msg   string
		opt   Option
		names []string
		body  string // must survive
	}{
		{"LF line endings", "To: a@b\nContent-Type: multipart/mixed; boundary=zz\n\n--zz\nContent-Type: text/plain\n\nbody text here\n--zz\nContent-Type: application/pdf; name=a.pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQ=\n--zz--\n",
			Encrypt, []string{"a.pdf.attachctrl"}, "body text here"},
		{"RFC 2231 file name", "Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf\r\n\r\n%PDF\r\n--zz--\r\n",
			Encrypt, []string{"Rechnung März.pdf.attachctrl"}, ""},
		{"RFC 2047 file name", "Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: application/pdf; name=\"=?UTF-8?B?w6l0w6kucGRm?=\"\r\n\r\n%PDF\r\n--zz--\r\n",
			Remove, []string{"été.pdf.removed.html"}, ""},
		{"quoted-printable attachment", "Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: application/octet-stream; name=a.csv\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=3Db\r\n--zz--\r\n",
			Encrypt, []string{"a.csv.attachctrl"}, ""},
		{"single-part message is an attachment", "From: x@y\r\nSubject: scan\r\nContent-Type: application/pdf; name=scan.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQ=\r\n",
			Encrypt, []string{"scan.pdf.attachctrl"}, "Subject: scan"},
		{"nameless inline image", "Content-Type: multipart/related; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/html\r\n\r\n<img src=cid:i1>\r\n--zz\r\nContent-Type: image/png\r\nContent-ID: <i1>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0K\r\n--zz--\r\n",
			Remove, []string{"attachment.removed.html"}, "<img src=cid:i1>"},
		{"boundary the writer refuses", "Content-Type: multipart/mixed; boundary=\"" + long + "\"\r\n\r\n--" + long + "\r\nContent-Type: text/plain\r\n\r\nhello\r\n--" + long + "\r\nContent-Type: application/zip; name=z.zip\r\n\r\nPK\r\n--" + long + "--\r\n",
			Encrypt, []string{"z.zip.attachctrl"}, "hello"},
		{"alternative inside mixed", "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n--i\r\nContent-Type: text/plain\r\n\r\nplain\r\n--i\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--i--\r\n--o\r\nContent-Type: application/msword; name=d.doc\r\n\r\nDOC\r\n--o--\r\n",
			Encrypt, []string{"d.doc.attachctrl"}, "<p>html</p>"},
		{"eml typed as octet-stream is not let through by the exclusion list", "Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: application/octet-stream; name=fwd.eml\r\n\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n--zz--\r\n",
			Encrypt, []string{"fwd.eml.attachctrl"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, _ := rewrite(t, NewRewriter(p, kr), []byte(c.msg), c.opt, "")
			ls := leaves(t, out)
			var names []string
			for _, l := range ls {
				names = append(names, l.name)
			}
			if strings.Join(names, "|") != strings.Join(c.names, "|") {
				t.Fatalf("attachments %q, want %q\n%s", names, c.names, out)
			}
			if c.body != "" && !bytes.Contains(out, []byte(c.body)) {
				t.Fatalf("body %q lost:\n%s", c.body, out)
			}
			for _, l := range ls {
				if strings.HasSuffix(l.name, ".attachctrl") {
					decryptBytes(t, kr, l.data)
				}
			}
		})
	}
}
