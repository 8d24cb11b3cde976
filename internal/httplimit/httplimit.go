// Package httplimit bounds the size of HTTP request bodies and answers a
// body over the bound with 413 Request Entity Too Large, not the 400 a
// handler gives any body it could not read.
package httplimit

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
)

// Body returns next with request bodies limited to max bytes
// (http.MaxBytesReader). A Content-Length over max is answered 413 before
// next runs; a body that passes max while next reads it turns next's 400
// into 413, whatever next made of the read error.
func Body(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			http.Error(w, fmt.Sprintf("request body larger than %d bytes", max), http.StatusRequestEntityTooLarge)
			return
		}
		tw := &tooLargeWriter{ResponseWriter: w}
		r.Body = &watchedBody{ReadCloser: http.MaxBytesReader(w, r.Body, max), over: &tw.over}
		next.ServeHTTP(tw, r)
	})
}

// TooLarge reports whether err is a read that passed a body limit.
func TooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// watchedBody notes when the limit cut the body.
type watchedBody struct {
	io.ReadCloser
	over *atomic.Bool
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && TooLarge(err) {
		b.over.Store(true)
	}
	return n, err
}

// tooLargeWriter turns a 400 into 413 once the body passed its limit.
type tooLargeWriter struct {
	http.ResponseWriter
	over atomic.Bool
}

func (w *tooLargeWriter) WriteHeader(code int) {
	if code == http.StatusBadRequest && w.over.Load() {
		code = http.StatusRequestEntityTooLarge
	}
	w.ResponseWriter.WriteHeader(code)
}

// Flush keeps streaming handlers working behind the wrapper.
func (w *tooLargeWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// Unwrap lets http.ResponseController reach the connection.
func (w *tooLargeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
