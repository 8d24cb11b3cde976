package exchange

import (
	"compress/gzip"
	"net/http"
	"strings"
)

// IIS in front of Exchange compresses dynamic responses, ActiveSync ones
// included, for clients that send Accept-Encoding: gzip (every device
// built on a common HTTP stack does). Faults.Gzip turns this on: a
// gateway that reads response bodies (policy and attachment rewriting)
// then gets gzip bytes, not WBXML, and must decode them, keep the server
// from compressing, or refuse to relay what it cannot read.

// acceptsGzip reports whether the request's Accept-Encoding allows gzip
// (a "gzip;q=0" refusal is honoured).
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for _, enc := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(enc), ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
				continue
			}
			return strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0"
		}
	}
	return false
}

// gzipWriter compresses a 200 response's body; other statuses pass as
// they are. close must be called when the handler returns.
type gzipWriter struct {
	http.ResponseWriter
	compressed  func() // counts a compressed response
	gz          *gzip.Writer
	wroteHeader bool
}

func (g *gzipWriter) WriteHeader(code int) {
	if g.wroteHeader {
		return
	}
	g.wroteHeader = true
	h := g.Header()
	if code == http.StatusOK && h.Get("Content-Encoding") == "" {
		h.Del("Content-Length") // the handler's length is the uncompressed one
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
		g.gz = gzip.NewWriter(g.ResponseWriter)
		g.compressed()
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *gzipWriter) Write(p []byte) (int, error) {
	if !g.wroteHeader {
		g.WriteHeader(http.StatusOK)
	}
	if g.gz != nil {
		return g.gz.Write(p)
	}
	return g.ResponseWriter.Write(p)
}

// Flush pushes what was compressed so far (a Ping answer) to the client.
func (g *gzipWriter) Flush() {
	if g.gz != nil {
		_ = g.gz.Flush()
	}
	_ = http.NewResponseController(g.ResponseWriter).Flush()
}

func (g *gzipWriter) close() {
	if g.gz != nil {
		_ = g.gz.Close()
	}
}

func (g *gzipWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }
