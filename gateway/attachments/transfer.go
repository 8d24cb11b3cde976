package attachments

import (
	"bufio"
	"encoding/base64"
	"io"
	"mime/quotedprintable"
	"strings"
)

// transferDecoder undoes a Content-Transfer-Encoding. Base64 is decoded
// leniently, as mail readers do: bytes outside the alphabet (line breaks,
// spaces, stray characters) and padding are skipped.
func transferDecoder(cte string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return base64.NewDecoder(base64.RawStdEncoding, &b64Filter{r: r})
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	}
	return r
}

// b64Filter passes only base64 alphabet bytes.
type b64Filter struct{ r io.Reader }

var b64Alphabet = func() (t [256]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" {
		t[c] = true
	}
	return t
}()

func (f *b64Filter) Read(p []byte) (int, error) {
	for {
		n, err := f.r.Read(p)
		j := 0
		for _, c := range p[:n] {
			if b64Alphabet[c] {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

var crlf = []byte("\r\n")

// lineWriter wraps base64 output at 76 columns (RFC 2045) with CRLF.
type lineWriter struct {
	w   io.Writer
	col int
}

func (l *lineWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		room := 76 - l.col
		k := min(room, len(p))
		if _, err := l.w.Write(p[:k]); err != nil {
			return n, err
		}
		n += k
		l.col += k
		p = p[k:]
		if l.col == 76 {
			if _, err := l.w.Write(crlf); err != nil {
				return n, err
			}
			l.col = 0
		}
	}
	return n, nil
}

// base64Body is a writer that base64-encodes into w with 76-column lines;
// Close flushes the last quantum; it adds no line break after the last
// line, the CRLF of the following boundary ends it. The bufio layer keeps the
// encoder's writes (4 output bytes at a time) from reaching w one by one.
type base64Body struct {
	bw  *bufio.Writer
	enc io.WriteCloser
}

func newBase64Body(w io.Writer) *base64Body {
	bw := bufio.NewWriterSize(w, 8192)
	return &base64Body{bw: bw, enc: base64.NewEncoder(base64.StdEncoding, &lineWriter{w: bw})}
}

func (b *base64Body) Write(p []byte) (int, error) { return b.enc.Write(p) }

func (b *base64Body) Close() error {
	if err := b.enc.Close(); err != nil {
		return err
	}
	return b.bw.Flush()
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
