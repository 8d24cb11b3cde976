package logctl

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
)

// maxContent bounds the bodies kept for level 3 and 4.
const maxContent = 64 << 10

type ctxKey struct{}

// Devices logs what devices send and get (direction device) and puts
// who(r) in the request's context for the server side.
func (c *Controls) Devices(next http.Handler, who func(*http.Request) Entry) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !c.cur.Load().Enabled { // off by default: nothing on the hot path
			next.ServeHTTP(w, r)
			return
		}
		e := who(r)
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, e))
		rec := c.begin(Device, e)
		if rec == nil {
			next.ServeHTTP(w, r)
			return
		}
		rec.head(">", requestLine(r), r.Header)
		if rec.s.Level >= Level3 {
			r.Body, r.GetBody = keepBody(r.Body, r.ContentLength, rec, ">", r.Header.Get("Content-Type"))
		}
		c.flush(rec)
		cw := &captureWriter{ResponseWriter: w, keep: rec.s.Level >= Level3}
		defer func() {
			out := &record{s: rec.s, tags: rec.tags, side: rec.side}
			out.head("<", strconv.Itoa(cw.status())+" "+http.StatusText(cw.status()), w.Header())
			out.content("<", w.Header().Get("Content-Type"), cw.body.Bytes(), cw.over)
			c.flush(out)
		}()
		next.ServeHTTP(cw, r)
	})
}

// Transport logs what the gateway sends to the ActiveSync server and gets
// back (direction server), for the request whose context Devices filled.
func (c *Controls) Transport(next http.RoundTripper) http.RoundTripper {
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		e, ok := r.Context().Value(ctxKey{}).(Entry)
		if !ok {
			return next.RoundTrip(r)
		}
		rec := c.begin(Server, e)
		if rec == nil {
			return next.RoundTrip(r)
		}
		rec.head(">", r.Method+" "+r.URL.Scheme+"://"+r.URL.Host+requestLine(r)[len(r.Method)+1:], r.Header)
		if rec.s.Level >= Level3 && r.Body != nil {
			r = r.Clone(r.Context())
			r.Body, r.GetBody = keepBody(r.Body, r.ContentLength, rec, ">", r.Header.Get("Content-Type"))
		}
		c.flush(rec)
		resp, err := next.RoundTrip(r)
		out := &record{s: rec.s, tags: rec.tags, side: rec.side}
		if err != nil {
			out.line("<", "error: "+err.Error())
			c.flush(out)
			return resp, err
		}
		out.head("<", resp.Status, resp.Header)
		if rec.s.Level >= Level3 {
			resp.Body, _ = keepBody(resp.Body, resp.ContentLength, out, "<", resp.Header.Get("Content-Type"))
		}
		c.flush(out)
		return resp, nil
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// keepBody logs a body of known length up to maxContent and returns a
// reader giving the same bytes; a longer or streamed body is left alone
// (a hanging Ping's response is never waited for).
func keepBody(body io.ReadCloser, n int64, rec *record, arrow, ct string) (io.ReadCloser, func() (io.ReadCloser, error)) {
	if body == nil || body == http.NoBody || n <= 0 {
		return body, nil
	}
	if n > maxContent {
		rec.content(arrow, ct, []byte{0}, true)
		return body, nil
	}
	data, err := io.ReadAll(io.LimitReader(body, n))
	_ = body.Close()
	if err == nil {
		rec.content(arrow, ct, data, false)
	}
	get := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	rc, _ := get()
	return rc, get
}

// captureWriter keeps the status and up to maxContent of the body the
// device gets.
type captureWriter struct {
	http.ResponseWriter
	code int
	keep bool
	over bool
	body bytes.Buffer
}

func (w *captureWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *captureWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	if w.keep && !w.over {
		if w.body.Len()+len(b) > maxContent {
			w.over = true
		} else {
			w.body.Write(b)
		}
	}
	return w.ResponseWriter.Write(b)
}

func (w *captureWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// Unwrap lets http.ResponseController reach Flush and deadlines.
func (w *captureWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes flushes on (the reverse proxy flushes streamed bodies).
func (w *captureWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
