package upstream

import (
	"crypto/tls"
	"net"
)

// A server connection that negotiated HTTP/2 carries every request in
// flight to its server, held Pings included (Options.HTTP2). Two rules
// meant for a connection per request would make it fragile:
//
//   - The socket read/write timeout (ASC-20) bounds each write. On a
//     shared connection a write that times out leaves the TLS and HTTP/2
//     framing broken, and the transport closes the connection, failing
//     every stream on it: one slow write under load would end hundreds of
//     held Pings at once. Writes to an HTTP/2 connection are bounded by
//     the server response timeout (ASC-22) instead, when that is longer;
//     each request keeps its own response and body-read timeouts, which
//     end its stream only.
//   - Each failed request counts toward the server's Dead Threshold
//     (ASC-14). The streams of a broken connection all fail together:
//     that is one failure of the server, not one per stream, or a single
//     lost connection would declare the server dead and turn every device
//     away (fast 502s) for the Dead Time.

// sharedWrites lengthens the write bound of a TLS connection that
// negotiated HTTP/2 to the server response timeout, before the transport
// writes anything on it, and reports whether it did.
func sharedWrites(c net.Conn, wc *writeDeadlineConn, set *settings) bool {
	tc, ok := c.(*tls.Conn)
	if !ok || wc == nil || tc.ConnectionState().NegotiatedProtocol != "h2" {
		return false
	}
	wc.rw = max(wc.rw, set.response)
	return true
}

// countsAgainstServer reports whether the attempt's failure counts toward
// its server's Dead Threshold: a response timeout always does (the server
// was slow for this request); a broken connection does once, for the
// first of its requests to fail.
func (a *attempt) countsAgainstServer() bool {
	c := a.conn.Load()
	if c == nil || a.respTimeout.Load() {
		return true
	}
	return c.failed.CompareAndSwap(false, true)
}
