package activesync

import (
	"errors"
	"net/http"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// The per-device counters the seeds list without saying where they
// count (STA-01 to STA-04); where each one counts is in docs/gateway.md
// ("Statistics").

// countResponse counts what the device got for x's request, when the
// handler is done: d-http-responses, an HTTP 449 whoever made it (the
// gateway for a pending wipe or policy, or Exchange relayed), and a 503
// by whose it was.
func countResponse(x *exchange, rec *statusRecorder) {
	if rec.code == 0 {
		return // nothing was sent: the device went away
	}
	x.dev.Inc(stats.DHTTPResponses)
	if rec.code == eas.HTTPRetryWith {
		x.dev.Inc(stats.DHTTP449)
	}
	if rec.code == http.StatusServiceUnavailable {
		if x.s503 {
			x.dev.Inc(stats.DHTTP503S2C)
		} else {
			x.dev.Inc(stats.DHTTP503C2S)
		}
	}
}

// countServerResponse counts the server's redirects (3xx) and its
// throttling of Ping and Sync: a 503, or a response with Exchange's
// X-MS-ASThrottle header.
func countServerResponse(x *exchange, resp *http.Response) {
	code := resp.StatusCode
	if code >= 300 && code <= 399 {
		x.dev.Inc(stats.SHTTP3xxRedirects)
	}
	if code == http.StatusServiceUnavailable {
		x.s503 = true
	}
	if cmd := x.info.Query.Cmd; (cmd == eas.CmdPing || cmd == eas.CmdSync) &&
		(code == http.StatusServiceUnavailable || resp.Header.Get("X-MS-ASThrottle") != "") {
		x.dev.Inc(stats.PingSyncThrottled)
	}
}

// countOptions counts an OPTIONS request for the device of its
// connection, or in the global sums when the connection has carried no
// device's request yet (OPTIONS names no device).
func countOptions(r *http.Request, reg *stats.Registry) {
	if m := stats.ConnFrom(r.Context()); m != nil {
		m.Count(stats.CmdOptions)
		return
	}
	if reg != nil {
		reg.IncGlobal(stats.CmdOptions)
	}
}

// unparsedCounter is the counter of a POST that is no ActiveSync request:
// cmd-none when it names no command (no query, or a query without Cmd:
// eas.ParseRequest refuses both, so cmd-none could count nowhere else),
// d-unclassified otherwise.
func unparsedCounter(r *http.Request, err error) stats.Counter {
	var qe *eas.QueryError
	if r.URL.RawQuery == "" || errors.As(err, &qe) && qe.Field == "Cmd" && errors.Is(err, eas.ErrMissingParameter) {
		return stats.CmdNone
	}
	return stats.DUnclassified
}
