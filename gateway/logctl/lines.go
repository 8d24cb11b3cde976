package logctl

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// New returns controls at their defaults (LOG-08) writing lines to w.
func New(w io.Writer) *Controls {
	c := &Controls{out: &lineWriter{w: w, now: time.Now}}
	s := Defaults()
	c.cur.Store(&s)
	return c
}

// lineWriter writes whole lines under one lock.
type lineWriter struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

// record is the lines of one request or response, written at once so
// that concurrent requests do not interleave.
type record struct {
	s    *Settings
	tags string
	side string // "device" or "server"
	buf  bytes.Buffer
}

// begin returns a record for e on side, nil when nothing is logged.
func (c *Controls) begin(side Direction, e Entry) *record {
	s := c.cur.Load()
	if !s.Enabled || (s.Direction != Both && s.Direction != side) {
		return nil
	}
	tags, keep := match(s, e)
	if !keep {
		return nil
	}
	t := "-"
	if len(tags) > 0 {
		t = strings.Join(tags, ",")
	}
	return &record{s: s, tags: t, side: string(side)}
}

func (r *record) line(arrow, text string) {
	r.buf.WriteString("[" + r.tags + "] " + r.side + " " + arrow + " " + oneLine(text) + "\n")
}

// head logs a request or status line (level 1) and the headers (level 2).
func (r *record) head(arrow, first string, h http.Header) {
	r.line(arrow, first)
	if r.s.Level < Level2 {
		return
	}
	for _, k := range slices.Sorted(mapsKeys(h)) {
		for _, v := range h[k] {
			if secretHeader(k) {
				v = "[redacted]"
			}
			r.line(arrow, k+": "+v)
		}
	}
}

// content logs a body (level 3: WBXML, decoded and redacted; level 4:
// anything else too, quoted). truncated says the body was longer than
// what was kept.
func (r *record) content(arrow, contentType string, body []byte, truncated bool) {
	if r.s.Level < Level3 || len(body) == 0 {
		return
	}
	if strings.HasPrefix(contentType, "application/vnd.ms-sync.wbxml") && !truncated {
		if doc, err := wbxml.Parse(body, wbxml.Limits{}); err == nil {
			redact(doc.Root)
			r.line(arrow, "content: "+compactXML(doc.Root.XML()))
			return
		}
	}
	switch {
	case r.s.Level < Level4:
		r.line(arrow, "content: ["+contentType+", not logged below level 4]")
	case truncated:
		r.line(arrow, "content: [more than 64 KiB, not logged]")
	default:
		r.line(arrow, "content: "+strings.ToValidUTF8(string(body), "?"))
	}
}

// flush writes the record's lines, each with the time first.
func (c *Controls) flush(r *record) {
	if r == nil || r.buf.Len() == 0 {
		return
	}
	c.out.mu.Lock()
	defer c.out.mu.Unlock()
	ts := c.out.now().UTC().Format(time.RFC3339Nano) + " "
	var b bytes.Buffer
	for _, l := range bytes.SplitAfter(r.buf.Bytes(), []byte("\n")) {
		if len(l) > 0 {
			b.WriteString(ts)
			b.Write(l)
		}
	}
	_, _ = c.out.w.Write(b.Bytes())
}

// secretHeader: headers whose values are credentials (the device's
// password in Basic, tickets, tokens, cookies, the policy key).
func secretHeader(k string) bool {
	switch http.CanonicalHeaderKey(k) {
	case "Authorization", "Proxy-Authorization", "Www-Authenticate", "Cookie", "Set-Cookie", "X-Ms-Policykey":
		return true
	}
	return false
}

// secretTags are the WBXML elements holding credentials: Settings
// DevicePassword/Password, Search and ItemOperations Password, Provision
// PolicyKey.
var secretTags = map[string]bool{"Password": true, "DevicePassword": true, "PolicyKey": true}

func redact(n *wbxml.Node) {
	if secretTags[n.Tag.Name()] {
		n.Children, n.Content, n.Opaque = nil, []byte("[redacted]"), false
		return
	}
	for _, c := range n.Children {
		redact(c)
	}
}

func oneLine(s string) string {
	return strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(s)
}

func mapsKeys(h http.Header) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range h {
			if !yield(k) {
				return
			}
		}
	}
}

// requestLine is the request line, with a base64-encoded query (which
// carries the policy key) left out.
func requestLine(r *http.Request) string {
	u := r.URL.Path
	if q := r.URL.RawQuery; q != "" {
		if strings.Contains(q, "Cmd=") {
			u += "?" + q
		} else {
			u += "?[base64 query]"
		}
	}
	return r.Method + " " + u + " " + r.Proto
}

// compactXML is the element tree on one line, without the prolog.
func compactXML(x string) string {
	var b strings.Builder
	for _, l := range strings.Split(x, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "<?") || strings.HasPrefix(l, "<!") {
			continue
		}
		b.WriteString(l)
	}
	return b.String()
}
