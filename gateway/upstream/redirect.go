package upstream

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// 451 redirect processing (RDR-01 to RDR-06). With "Enable Redirect
// Processing (451)" on, a 451 whose X-MS-Location is an absolute http(s)
// URL is followed by the gateway: the request is sent again to that
// location, the device never sees the 451 (s-http-451-redirects and
// d-http-451-redirect-drops count it), and Options.OnRedirect hands the
// location to the caller to remember for the device. With it off, the 451
// is returned untouched; the handler counts it.
//
// A 451 is returned to the device even with processing on when it has no
// usable location (MS-ASHTTP: the device runs Autodiscover), when the
// request body could not be kept for a second send, or after
// Options.MaxRedirects redirects in a row.
//
// A service with Server TLS never follows a 451 to an http:// location
// unless its allow_insecure_redirect says so: the request would carry the
// device's credentials in clear. The device gets 502 instead (not the 451,
// which would send it there itself), s-http-451-insecure-redirects-refused
// counts it and the log names the service, the device and the location's
// host, nothing more. A remembered redirect URL of that kind is forgotten
// and the request goes to the service's servers.

// follow451 follows the redirects of resp, if processing is on.
func (s *Service) follow451(req *http.Request, resp *http.Response, body *replayBody, a *attempt, timeout time.Duration, dev Device) (*http.Response, error) {
	if !s.set.redirect451 {
		return resp, nil
	}
	for hops := 0; resp.StatusCode == eas.HTTPRedirect; hops++ {
		loc, ok := eas.ParseRedirect(resp)
		if !ok || !body.replayable || hops >= s.router.opts.MaxRedirects {
			return resp, nil
		}
		u, ok := redirectTarget(loc, req.URL)
		if !ok {
			return resp, nil
		}
		if s.insecureRedirect(u) {
			a.count(stats.SHTTP451Redirects)
			drain(resp.Body)
			s.refusedInsecure(a, dev, u)
			return insecureRedirectResponse(req), nil
		}
		a.count(stats.SHTTP451Redirects)
		a.count(stats.DHTTP451RedirectDrops)
		drain(resp.Body)
		s.router.redirected(req.Context(), dev, loc)
		var err error
		if resp, err = s.send(req, u, body, a, timeout); err != nil {
			if !isAuthError(err) {
				a.classify(err)
			}
			return nil, err
		}
	}
	return resp, nil
}

// insecureRedirect reports a redirect target the service must not follow:
// http:// from a Server TLS service, unless allow_insecure_redirect.
func (s *Service) insecureRedirect(u *url.URL) bool {
	return u.Scheme == "http" && s.cfg.ServerTLS && !s.cfg.AllowInsecureRedirect
}

// refusedInsecure counts and logs a refused http:// redirect, with the
// location's host only (never its user info, path or query).
func (s *Service) refusedInsecure(a *attempt, dev Device, u *url.URL) {
	a.count(stats.SHTTP451InsecureRefused)
	s.router.opts.Log.Warn("451 redirect to an http:// location refused: it would send the device's credentials in clear",
		"service", s.cfg.Name, "device", dev.ID, "host", u.Host)
}

// insecureRedirectResponse is the device's answer to a refused redirect.
func insecureRedirectResponse(req *http.Request) *http.Response {
	msg := "the ActiveSync server redirected to an insecure http:// location\n"
	return &http.Response{
		Status:        "502 Bad Gateway",
		StatusCode:    http.StatusBadGateway,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"text/plain; charset=utf-8"}},
		Body:          io.NopCloser(strings.NewReader(msg)),
		ContentLength: int64(len(msg)),
		Request:       req,
	}
}

// redirectTarget is where a request goes for a 451 location: the
// location's scheme and host, its path when it has one (else the
// request's), and the request's query.
func redirectTarget(loc string, orig *url.URL) (*url.URL, bool) {
	l, err := url.Parse(loc)
	if err != nil || (l.Scheme != "https" && l.Scheme != "http") || l.Host == "" {
		return nil, false
	}
	u := *orig
	u.Scheme, u.Host, u.User = l.Scheme, l.Host, nil
	if l.Path != "" && l.Path != "/" {
		u.Path, u.RawPath = l.Path, l.RawPath
	}
	return &u, true
}

// redirected tells the caller the device's new (or, with "", forgotten)
// redirect URL.
func (r *Router) redirected(ctx context.Context, d Device, loc string) {
	if r.opts.OnRedirect != nil {
		r.opts.OnRedirect(ctx, d, loc)
	}
}

// drain reads a little of a body we discard, so that the connection can
// be reused, and closes it.
func drain(b io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, b, 64<<10)
	b.Close()
}
