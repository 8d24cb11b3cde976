package activesync

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"sync"
)

// statusBufs holds the buffers serverStatus reads small answers into:
// the answer is relayed from the buffer, which goes back to the pool when
// the proxy closes the body.
var statusBufs = sync.Pool{New: func() any { return new([maxStatusBody]byte) }}

// readStatusBody reads r to its end or to maxStatusBody bytes, as
// io.ReadAll(io.LimitReader(r, maxStatusBody)) does, into a pooled
// buffer. On success the body is the buffer's (put it in the response
// with setStatusBody); on error it is a copy and the buffer is back in
// the pool.
func readStatusBody(r io.Reader) (*[maxStatusBody]byte, []byte, error) {
	buf := statusBufs.Get().(*[maxStatusBody]byte)
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err == io.EOF { // exactly io.ReadAll's test
			break
		}
		if err != nil {
			b := bytes.Clone(buf[:n])
			statusBufs.Put(buf)
			return nil, b, err
		}
	}
	return buf, buf[:n], nil
}

// statusBody is an answer read by readStatusBody, relayed from its
// buffer. Close puts the buffer back; reads after it find nothing, so a
// late reader never sees the buffer's next answer.
type statusBody struct {
	bytes.Reader
	buf *[maxStatusBody]byte
}

func (s *statusBody) Close() error {
	if s.buf != nil {
		s.Reset(nil)
		statusBufs.Put(s.buf)
		s.buf = nil
	}
	return nil
}

// setStatusBody is setBody for b, the first bytes of buf: the response
// body reads from the pooled buffer, and Content-Length is set unless it
// already says len(b).
func setStatusBody(resp *http.Response, buf *[maxStatusBody]byte, b []byte) {
	body := &statusBody{buf: buf}
	body.Reset(b)
	resp.Body, resp.ContentLength = body, int64(len(b))
	var num [20]byte
	if cl := resp.Header["Content-Length"]; len(cl) != 1 || cl[0] != string(strconv.AppendInt(num[:0], int64(len(b)), 10)) {
		resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
	}
}
