package exchange

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The request journal keeps the last ActiveSync requests the server
// received and the answers it sent, byte for byte up to a bound, so that
// a test can compare what a device sent with what Exchange received
// behind a gateway, and what Exchange answered with what the device got.
// It is bounded by count (Config.JournalEntries), per body
// (Config.JournalBodyBytes) and in total (journalMaxBytes); a request
// costs one short critical section at its end, outside every mailbox
// lock. A held Ping is recorded when it is answered.

// JournalEntry is one request and the server's answer.
type JournalEntry struct {
	Seq      uint64    `json:"seq"` // 1, 2, ... in arrival order of the answers
	At       time.Time `json:"at"`  // when the request arrived
	User     string    `json:"user,omitempty"`
	DeviceID string    `json:"device_id,omitempty"`
	Cmd      string    `json:"cmd,omitempty"`
	Version  string    `json:"version,omitempty"`
	Method   string    `json:"method"`
	Path     string    `json:"path"`
	Query    string    `json:"query,omitempty"` // raw query, as received
	// RequestHeader holds the request's headers but Authorization,
	// Proxy-Authorization and Cookie; AuthorizationSHA256 is the hex
	// SHA-256 of the Authorization value, so credentials can be compared
	// without being exposed.
	RequestHeader       http.Header `json:"request_header"`
	AuthorizationSHA256 string      `json:"authorization_sha256,omitempty"`
	RequestBody         []byte      `json:"request_body,omitempty"`
	RequestBodyLen      int64       `json:"request_body_len"` // bytes the server read
	RequestTruncated    bool        `json:"request_truncated,omitempty"`
	Status              int         `json:"status"` // 0: no answer (connection hijacked or reset)
	ResponseHeader      http.Header `json:"response_header"`
	ResponseBody        []byte      `json:"response_body,omitempty"`
	ResponseBodyLen     int64       `json:"response_body_len"`
	ResponseTruncated   bool        `json:"response_truncated,omitempty"`
}

// JournalFilter selects journal entries; zero fields match everything.
// After keeps entries with Seq > After; Limit keeps the last Limit
// matching ones (default and maximum: the journal's size).
type JournalFilter struct {
	User   string
	Device string
	Cmd    string
	After  uint64
	Limit  int
}

func (f JournalFilter) match(e *JournalEntry) bool {
	return (f.User == "" || strings.EqualFold(f.User, e.User)) && (f.Device == "" || f.Device == e.DeviceID) &&
		(f.Cmd == "" || f.Cmd == e.Cmd) && e.Seq > f.After
}

// journalMaxBytes bounds the bodies the journal holds in total: the
// oldest entries go first.
const journalMaxBytes = 32 << 20

// journalHeaderBytes bounds the header bytes kept per entry and direction.
const journalHeaderBytes = 16 << 10

// secretHeaders are never kept (Authorization only as a hash).
var secretHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie"}

type journal struct {
	size, bodyMax int

	mu      sync.Mutex
	ring    []*JournalEntry // oldest first
	bytes   int
	seq     uint64
	dropped uint64 // entries evicted since start
}

func newJournal(entries, bodyBytes int) *journal {
	if entries < 0 {
		return nil
	}
	return &journal{size: entries, bodyMax: bodyBytes}
}

func (j *journal) add(e *JournalEntry) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	e.Seq = j.seq
	j.ring = append(j.ring, e)
	j.bytes += len(e.RequestBody) + len(e.ResponseBody)
	for len(j.ring) > j.size || (j.bytes > journalMaxBytes && len(j.ring) > 1) {
		old := j.ring[0]
		j.ring[0] = nil
		j.ring = j.ring[1:]
		j.bytes -= len(old.RequestBody) + len(old.ResponseBody)
		j.dropped++
	}
	if cap(j.ring) > 4*j.size+16 { // re-slicing from the front leaks capacity: compact now and then
		j.ring = append([]*JournalEntry(nil), j.ring...)
	}
}

// list returns copies of the matching entries, oldest first.
func (j *journal) list(f JournalFilter) []JournalEntry {
	if j == nil {
		return nil
	}
	limit := f.Limit
	if limit <= 0 || limit > j.size {
		limit = j.size
	}
	j.mu.Lock()
	var picked []*JournalEntry
	for i := len(j.ring) - 1; i >= 0 && len(picked) < limit; i-- {
		if f.match(j.ring[i]) {
			picked = append(picked, j.ring[i])
		}
	}
	j.mu.Unlock()
	out := make([]JournalEntry, len(picked))
	for i, e := range picked { // entries are never changed once added
		out[len(picked)-1-i] = *e
	}
	return out
}

type journalKey struct{}

// noteRequest lets the ActiveSync handler name the user, device, command
// and version of the request being journalled (no-op without a journal).
func noteRequest(ctx context.Context, user, device, cmd, version string) {
	if e, ok := ctx.Value(journalKey{}).(*JournalEntry); ok {
		e.User, e.DeviceID, e.Cmd, e.Version = user, device, cmd, version
	}
}

// wrap records every request but the health check.
func (j *journal) wrap(next http.Handler) http.Handler {
	if j == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			next.ServeHTTP(w, r)
			return
		}
		e := &JournalEntry{At: time.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			RequestHeader: keptHeader(r.Header)}
		if a := r.Header.Get("Authorization"); a != "" {
			sum := sha256.Sum256([]byte(a))
			e.AuthorizationSHA256 = hex.EncodeToString(sum[:])
		}
		body := &teeBody{rc: r.Body, max: j.bodyMax}
		r.Body = body
		cw := &captureWriter{ResponseWriter: w, max: j.bodyMax}
		next.ServeHTTP(cw, r.WithContext(context.WithValue(r.Context(), journalKey{}, e)))
		e.RequestBody, e.RequestBodyLen, e.RequestTruncated = body.kept.Bytes(), body.n, body.n > int64(body.kept.Len())
		e.Status, e.ResponseHeader = cw.status, cw.header
		if cw.status == 0 && !cw.hijacked && cw.header == nil { // the handler wrote nothing: net/http sends 200
			e.Status, e.ResponseHeader = http.StatusOK, keptHeader(w.Header())
		}
		e.ResponseBody, e.ResponseBodyLen, e.ResponseTruncated = cw.kept.Bytes(), cw.n, cw.n > int64(cw.kept.Len())
		j.add(e)
	})
}

// keptHeader copies h without the secret headers, within
// journalHeaderBytes.
func keptHeader(h http.Header) http.Header {
	out := make(http.Header, len(h))
	size := 0
	for k, vs := range h {
		secret := false
		for _, s := range secretHeaders {
			secret = secret || strings.EqualFold(k, s)
		}
		if secret {
			continue
		}
		for _, v := range vs {
			if size += len(k) + len(v); size > journalHeaderBytes {
				return out
			}
			out[k] = append(out[k], v)
		}
	}
	return out
}

// teeBody keeps the first max bytes the handler reads and counts them all.
type teeBody struct {
	rc   io.ReadCloser
	max  int
	kept bytes.Buffer
	n    int64
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.rc.Read(p)
	if room := t.max - t.kept.Len(); room > 0 {
		t.kept.Write(p[:min(n, room)])
	}
	t.n += int64(n)
	return n, err
}

func (t *teeBody) Close() error { return t.rc.Close() }

// captureWriter keeps the status, the headers as sent and the first max
// bytes of the body. Unwrap lets http.ResponseController reach Flush and
// Hijack underneath (held Pings, the reset fault).
type captureWriter struct {
	http.ResponseWriter
	max      int
	status   int
	header   http.Header
	kept     bytes.Buffer
	n        int64
	hijacked bool
}

func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 && code >= 200 {
		c.status, c.header = code, keptHeader(c.ResponseWriter.Header())
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *captureWriter) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	n, err := c.ResponseWriter.Write(p)
	if room := c.max - c.kept.Len(); room > 0 {
		c.kept.Write(p[:min(n, room)])
	}
	c.n += int64(n)
	return n, err
}

// Flush passes a flush through (http.Flusher).
func (c *captureWriter) Flush() { _ = http.NewResponseController(c.ResponseWriter).Flush() }

// Hijack passes a hijack through (the reset fault); the entry is left
// without an answer (Status 0).
func (c *captureWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c.hijacked = true
	return http.NewResponseController(c.ResponseWriter).Hijack()
}

// Unwrap gives http.ResponseController the writer underneath.
func (c *captureWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// Requests returns the journal's entries that match f, oldest first (nil
// when the journal is off).
func (s *Server) Requests(f JournalFilter) []JournalEntry { return s.journal.list(f) }
