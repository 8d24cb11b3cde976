package activesync

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"sync"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// maxStatusBody bounds the server answers read for the Status they carry
// (ALR-03, STA-04): Ping and FolderSync answers and Sync errors are a
// few hundred bytes; a Sync that carries mail or attachments is larger
// and streams unread.
const maxStatusBody = 4 << 10

// serverStatus reads the Status of a small WBXML Ping, FolderSync or Sync
// answer from the server: a Sync or FolderSync error Status (above 1, at
// the top or in a Sync collection) counts in active-sync-status-reports
// and raises the command's alert; Ping Status 2 (changes found) raises
// AS_PING too, as the seeds say the appliance does, though it is no
// error. The body goes on to the device unchanged.
func (h *Handler) serverStatus(resp *http.Response, x *exchange) {
	cmd := x.info.Query.Cmd
	if (cmd != eas.CmdPing && cmd != eas.CmdFolderSync && cmd != eas.CmdSync) || resp.StatusCode != http.StatusOK ||
		resp.ContentLength <= 0 || resp.ContentLength > maxStatusBody || resp.Header.Get("Content-Encoding") != "" {
		return
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != eas.ContentTypeWBXML {
		return
	}
	buf, b, err := readStatusBody(resp.Body)
	resp.Body.Close()
	if err != nil {
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), errReader{err}))
		return
	}
	setStatusBody(resp, buf, b)
	var sts [8]int
	for _, st := range bodyStatuses(b, sts[:0]) {
		switch {
		case cmd == eas.CmdPing && st == 2:
			h.alertStatus(x, eas.Status(st), "changes found (not an error; the appliance alerts on it)")
			return
		case cmd != eas.CmdPing && st > 1:
			x.count(stats.ActiveSyncStatusReports)
			h.alertStatus(x, eas.Status(st), "from the ActiveSync server")
			return
		}
	}
}

// bodyStatuses appends to dst the top-level Status of an answer and
// then those of its Sync collections (the Status children of each child
// of a top-level Collections), in document order; for a malformed
// document it appends nothing. It streams over the tokens instead of
// building the tree (the tree cost a tenth of the gateway's CPU on
// FolderSync) with a pooled scanner, so it allocates nothing once warm;
// its fuzz test holds it to the tree-based version.
func bodyStatuses(b []byte, dst []int) []int {
	s := scanners.Get().(*statusScan)
	defer scanners.Put(s)
	s.reset()
	if s.dec.Reset(b, wbxml.Limits{MaxSize: len(b)}) != nil {
		return dst
	}
	for {
		tok, err := s.dec.Token()
		if err == nil && s.token(tok) {
			continue
		}
		s.text = nil
		if errors.Is(err, io.EOF) && s.started {
			return append(append(dst, s.root...), s.cols...)
		}
		return dst
	}
}

// scanners keeps the scanners of bodyStatuses with their memory. A
// pooled decoder still refers to the last answer it read (at most
// maxStatusBody bytes) until its next use.
var scanners = sync.Pool{New: func() any { return new(statusScan) }}

// The state of an open element: what wbxml.Parse checks (no mixed
// content, no text mixed with opaque data) and whether it is a top-level
// Collections.
const (
	elemChildren uint8 = 1 << iota
	elemContent
	elemOpaque
	elemCollections
)

// statusScan follows the token stream of bodyStatuses.
type statusScan struct {
	dec     wbxml.Decoder
	started bool
	open    []uint8 // one state per open element, the root first
	root    []int   // top-level statuses
	cols    []int   // collection statuses, which come after them
	// status is the depth of the Status element being read (0: none),
	// toCols whether it is a collection's; text holds its content.
	status int
	toCols bool
	text   []byte
	join   []byte // the content when it came in several strings
	joined bool
}

func (s *statusScan) reset() {
	s.started, s.status, s.toCols, s.text, s.joined = false, 0, false, nil, false
	s.open, s.root, s.cols = s.open[:0], s.root[:0], s.cols[:0]
}

// token takes the next token; false means the document is malformed.
func (s *statusScan) token(tok wbxml.Token) bool {
	switch tok.Kind {
	case wbxml.StartElement:
		depth := len(s.open) + 1
		if depth > 1 {
			p := &s.open[depth-2]
			if *p&elemContent != 0 {
				return false
			}
			*p |= elemChildren
		}
		s.started = true
		var st uint8
		switch {
		case depth == 2 && isTagNamed(collectionsTags, tok.Tag):
			st = elemCollections
		case depth == 2 && isTagNamed(statusTags, tok.Tag):
			s.status, s.toCols = depth, false
		case depth == 4 && s.open[1]&elemCollections != 0 && isTagNamed(statusTags, tok.Tag):
			s.status, s.toCols = depth, true
		}
		s.open = append(s.open, st)
	case wbxml.Text, wbxml.Opaque:
		p := &s.open[len(s.open)-1]
		opaque := tok.Kind == wbxml.Opaque
		if *p&elemChildren != 0 || (*p&elemContent != 0 && (*p&elemOpaque != 0) != opaque) {
			return false
		}
		if len(s.open) == s.status {
			s.addText(tok.Data, *p&elemContent != 0)
		}
		*p |= elemContent
		if opaque {
			*p |= elemOpaque
		}
	case wbxml.EndElement:
		if len(s.open) == s.status {
			s.endStatus()
		}
		s.open = s.open[:len(s.open)-1]
	}
	return true
}

// addText adds a string of the Status element's content; more joins it
// to the earlier ones, as wbxml.Parse does.
func (s *statusScan) addText(b []byte, more bool) {
	if !more {
		s.text, s.joined = b, false
		return
	}
	if !s.joined {
		s.join, s.joined = append(s.join[:0], s.text...), true
	}
	s.join = append(s.join, b...)
	s.text = s.join
}

// endStatus records the Status element that closes, when its content is
// a number.
func (s *statusScan) endStatus() {
	content := s.open[len(s.open)-1]&elemContent != 0
	text := s.text
	s.status, s.text, s.joined = 0, nil, false
	if !content {
		return
	}
	v, err := strconv.Atoi(string(text))
	if err != nil {
		return
	}
	if s.toCols {
		s.cols = append(s.cols, v)
		return
	}
	s.root = append(s.root, v)
}

// statusTags and collectionsTags have, for each code page, the bit of
// each token whose tag is named Status (Collections): the tree-based
// check compared Tag.Name, whatever the page.
var statusTags, collectionsTags = tagsNamed("Status"), tagsNamed("Collections")

func tagsNamed(name string) *[256]uint64 {
	var m [256]uint64
	for p := range m {
		for tok := range 64 {
			if (wbxml.Tag{Page: uint8(p), Token: uint8(tok)}).Name() == name {
				m[p] |= 1 << tok
			}
		}
	}
	return &m
}

func isTagNamed(m *[256]uint64, t wbxml.Tag) bool {
	return t.Token < 64 && m[t.Page]>>t.Token&1 != 0
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
