package loadgen

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Clients returns n HTTP clients for target, each dialling from its
// own loopback source address (127.0.0.2, 127.0.0.3, ...) when the
// target is on loopback, so that tens of thousands of connections do not
// exhaust one address's ephemeral ports (the kernel picks a port per
// source address). Each device sticks to one client; connections are
// HTTP/1.1 (one per hanging Ping, as a phone holds one) and TLS is not
// verified (loopback lab peers use throwaway certificates), with session
// resumption as phones do. maxConns > 0 bounds the connections of all
// clients together (requests beyond it wait, still timed from their
// intended start), to stay under the process's open-file limit.
func Clients(target string, n, maxConns int) ([]*http.Client, error) {
	return meteredClients(target, n, maxConns, nil)
}

// meteredClients is Clients whose connections m counts (nil: none).
func meteredClients(target string, n, maxConns int, m *wireMeter) ([]*http.Client, error) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("loadgen: target %q is not a URL", target)
	}
	loop := false
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() && ip.To4() != nil {
		loop = true
	}
	if n < 1 {
		n = 1
	}
	if n > 250 {
		return nil, fmt.Errorf("loadgen: at most 250 source addresses, got %d", n)
	}
	out := make([]*http.Client, n)
	for i := range out {
		d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
		if loop {
			d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i))}
		}
		dial := d.DialContext
		if m != nil {
			dial = m.dial(dial)
		}
		tr := &http.Transport{
			DialContext: dial,
			// X25519 alone: the default hybrid ML-KEM key share costs both
			// ends more than the rest of a request (half of a fleet's CPU).
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ClientSessionCache: tls.NewLRUClientSessionCache(4096), //nolint:gosec // loopback lab targets
				CurvePreferences: []tls.CurveID{tls.X25519}},
			TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{}, // HTTP/1.1 only
			MaxIdleConns:        0,
			MaxIdleConnsPerHost: 512, // idle sockets count against the fd limit too
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
			DisableCompression:  true,
			// The response reader's buffer lives as long as the connection,
			// a hanging Ping's too (4 KiB by default): 1 KiB holds any
			// status line and header line the gateway sends (longer ones
			// are read in pieces); bodies are read through it in 1 KiB
			// reads of the TLS record already decrypted in memory.
			// Nothing changes on the wire.
			ReadBufferSize: 1 << 10,
		}
		if maxConns > 0 {
			tr.MaxConnsPerHost = max(1, maxConns/n)
		}
		out[i] = &http.Client{Transport: tr}
	}
	return out, nil
}

// CloseClients closes idle connections.
func CloseClients(cs []*http.Client) {
	for _, c := range cs {
		c.CloseIdleConnections()
	}
}
