package upstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// maxPingHeartbeat is the longest Ping heartbeat (MS-ASCMD 2.2.3.79.1:
// 3540 s), assumed when a Ping omits its interval and none is remembered.
const maxPingHeartbeat = 3540

// maxHeartbeats bounds the remembered Ping heartbeats; past it the memory
// starts again (a device that then omits its interval gets the maximum).
const maxHeartbeats = 200_000

// heartbeats remembers each device's last Ping heartbeat, for Pings that
// leave it out (MS-ASCMD: the server keeps the last one).
type heartbeats struct {
	mu sync.Mutex
	m  map[string]int
}

func (h *heartbeats) store(key string, hb int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil || len(h.m) >= maxHeartbeats {
		h.m = make(map[string]int)
	}
	h.m[key] = hb
}

func (h *heartbeats) load(key string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.m[key]
}

// requestInfo is what RoundTrip reads off the request line.
type requestInfo struct {
	cmd, deviceID, user string
	version             int // e.g. 141; 0 when absent
}

func parseInfo(req *http.Request) requestInfo {
	var ri requestInfo
	if req.Method == http.MethodOptions {
		ri.cmd = "OPTIONS"
		return ri
	}
	q, err := eas.ParseQuery(req.URL.RawQuery)
	if err != nil {
		return ri
	}
	ri.cmd, ri.deviceID, ri.user = string(q.Cmd), q.DeviceID, q.User
	if q.Base64 {
		ri.version = int(q.Version)
	} else if v, ok := versionNumber(req.Header.Get(eas.HeaderProtocolVersion)); ok {
		ri.version = v
	}
	return ri
}

// RoundTrip sends the request to a server of the service: the device's
// remembered 451 location first if it has one, then the servers in the
// scheduling order, skipping dead ones. A request fails over to the next
// server when the attempt failed before any response came back and the
// body can be sent again (it was at most Options.MaxReplayBody); once a
// response head has arrived it is returned and never retried, so a device
// never gets two responses or half of one followed by another.
func (s *Service) RoundTrip(req *http.Request) (*http.Response, error) {
	r := s.router
	ctx := req.Context()
	dev, ok := deviceFrom(ctx)
	var info requestInfo
	if ok && dev.Cmd != "" {
		info = requestInfo{cmd: dev.Cmd, deviceID: dev.ID, user: dev.User, version: dev.Version}
	} else {
		info = parseInfo(req)
	}
	if !ok {
		dev = Device{ID: info.deviceID, User: info.user}
	}
	a := &attempt{router: r, dev: dev.Stats, cmd: info.cmd}
	if resp := s.refuseVersion(req, info, a); resp != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return resp, nil
	}
	body, err := readBody(req, r.opts.MaxReplayBody)
	if err != nil {
		return nil, err
	}
	timeout := s.responseTimeout(info, body, dev)

	if s.set.redirect451 && dev.RedirectURL != "" {
		if u, ok := redirectTarget(dev.RedirectURL, req.URL); ok && s.insecureRedirect(u) {
			// Remembered before this was refused (or by another path):
			// forget it, the servers of the service answer.
			s.refusedInsecure(a, dev, u)
			r.redirected(ctx, dev, "")
		} else if ok {
			resp, err := s.send(req, u, body, a, timeout)
			if err == nil {
				return s.finish(req, resp, body, a, timeout, dev)
			}
			if ctx.Err() != nil || isAuthError(err) || isDeviceBodyError(err) {
				return nil, err
			}
			a.classify(err)
			if !body.replayable {
				return nil, err
			}
			// The remembered location failed: forget it, use the pool.
			r.redirected(ctx, dev, "")
			a = a.again()
		}
	}

	var tried []*Server
	var lastErr error
	for {
		srv := s.sel.pick(s.servers, tried, s.available)
		if srv == nil {
			break
		}
		tried = append(tried, srv)
		u := *req.URL
		u.Scheme, u.Host = srv.addr.scheme(), srv.addr.hostport
		srv.inflight.Add(1)
		resp, err := s.send(req, &u, body, a, timeout)
		srv.inflight.Add(-1)
		if err == nil {
			srv.recordSuccess(r.opts.Now(), false)
			return s.finish(req, resp, body, a, timeout, dev)
		}
		lastErr = err
		if ctx.Err() != nil || isAuthError(err) || isDeviceBodyError(err) {
			// The device went away, no credentials, or the device's body
			// broke: not the server's fault.
			return nil, err
		}
		fault, retry := a.classify(err)
		if fault && a.countsAgainstServer() {
			s.fail(srv, err)
		}
		if !retry || !body.replayable {
			return nil, err
		}
		a = a.again()
	}
	if lastErr != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoServer, lastErr)
	}
	return nil, ErrNoServer
}

func isAuthError(err error) bool {
	var ae *AuthError
	return errors.As(err, &ae)
}

// again returns a fresh tracker for the next attempt of the same request.
func (a *attempt) again() *attempt {
	return &attempt{router: a.router, dev: a.dev, cmd: a.cmd}
}

// available reports whether srv may get traffic now, logging a revival.
func (s *Service) available(srv *Server) bool {
	ok, revived := srv.available(s.router.opts.Now(), s.policy)
	if revived {
		s.router.opts.Log.Info("activesync server live", "service", s.cfg.Name, "server", srv.addr.hostport)
	}
	return ok
}

// fail records a passive failure of srv, logging its death.
func (s *Service) fail(srv *Server, err error) {
	if srv.recordFailure(s.router.opts.Now(), s.policy) {
		s.router.opts.Log.Warn("activesync server dead", "service", s.cfg.Name, "server", srv.addr.hostport, "error", err)
	}
}

// responseTimeout is the server response timeout for this request: the
// configured one, or for a Ping the heartbeat it asked for plus
// Options.PingMargin when that is longer (ASC-22).
func (s *Service) responseTimeout(info requestInfo, body *replayBody, dev Device) time.Duration {
	t := s.set.response
	if info.cmd != "Ping" {
		return t
	}
	key := dev.ID + "\x00" + dev.User
	hb := 0
	if len(body.buf) > 0 && body.replayable {
		var p eas.PingRequest
		if wbxml.UnmarshalStruct(body.buf, &p, wbxml.Limits{MaxSize: len(body.buf)}) == nil && p.HeartbeatInterval > 0 {
			hb = p.HeartbeatInterval
			s.router.pings.store(key, hb)
		}
	}
	if hb == 0 {
		if hb = s.router.pings.load(key); hb == 0 {
			hb = maxPingHeartbeat
		}
	}
	return max(t, time.Duration(hb)*time.Second+s.router.opts.PingMargin)
}

// send makes one attempt at u within the response timeout, with the
// device's Authorizer's credentials when it has one. A 401 to those
// credentials gets one more try with fresh ones when the Authorizer asks
// for it and the body can be sent again (a stale Kerberos ticket).
func (s *Service) send(req *http.Request, u *url.URL, body *replayBody, a *attempt, timeout time.Duration) (*http.Response, error) {
	dev, _ := deviceFrom(req.Context())
	for retried := false; ; retried = true {
		resp, err := s.sendOnce(req, u, body, a, timeout, dev.Auth)
		if err != nil || dev.Auth == nil || resp.StatusCode != http.StatusUnauthorized {
			return resp, err
		}
		if !dev.Auth.Refused(req.Context(), u.Host) || retried || !body.replayable {
			return resp, nil
		}
		drain(resp.Body)
	}
}

// sendOnce makes one attempt at u within the response timeout. The
// returned response's body applies the socket read timeout.
func (s *Service) sendOnce(req *http.Request, u *url.URL, body *replayBody, a *attempt, timeout time.Duration, auth Authorizer) (*http.Response, error) {
	actx, cancel := context.WithCancelCause(httptrace.WithClientTrace(context.WithValue(req.Context(), attemptCtxKey{}, a), a.trace()))
	out := req.WithContext(actx)
	out.URL = u
	out.Host = u.Host
	out.RequestURI = ""
	if auth != nil {
		out.Header = req.Header.Clone() // each server gets its own credentials
		if err := auth.Authorize(actx, out, u.Host); err != nil {
			cancel(err)
			return nil, &AuthError{Addr: u.Host, Err: err}
		}
	}
	body.attach(out)
	br := &bodyReader{a: a, addr: u.Host, cancel: cancel, rw: s.set.socketRW, born: time.Now()}
	br.timer = time.AfterFunc(timeout, br.fire)
	resp, err := s.router.roundTrip(out)
	if err == nil && !br.headIn(resp.Body) {
		resp.Body.Close()
		err = errResponseTimeout
	}
	if err != nil {
		br.timer.Stop()
		cancel(err)
		if a.respTimeout.Load() {
			err = &TimeoutError{Kind: "response", Addr: u.Host, Err: err}
		}
		return nil, err
	}
	resp.Body = br
	return resp, nil
}

// finish turns a server's response into the device's: it follows 451
// redirects and rewrites OPTIONS for Limit Protocol Version.
func (s *Service) finish(req *http.Request, resp *http.Response, body *replayBody, a *attempt, timeout time.Duration, dev Device) (*http.Response, error) {
	resp, err := s.follow451(req, resp, body, a, timeout, dev)
	if err != nil {
		return nil, err
	}
	s.limitOptions(req, resp)
	return resp, nil
}

// replayBody is a request body kept for another attempt, or streamed once.
type replayBody struct {
	buf        []byte
	replayable bool
	stream     io.ReadCloser // when not replayable
	used       bool
	length     int64
	none       bool // the request had no body
}

// readBody keeps bodies up to limit in memory; a longer one streams.
func readBody(req *http.Request, limit int64) (*replayBody, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return &replayBody{replayable: true, none: true}, nil
	}
	in := deviceBody{req.Body} // its errors are the device's (DeviceBodyError)
	if req.ContentLength > limit {
		return &replayBody{stream: in, length: req.ContentLength}, nil
	}
	if req.ContentLength >= 0 {
		// The length is known and within the limit (the server's body
		// reader stops at it): one buffer of that size, no growing.
		buf := make([]byte, req.ContentLength)
		_, err := io.ReadFull(in, buf)
		req.Body.Close()
		if err != nil {
			if !isDeviceBodyError(err) {
				err = &DeviceBodyError{Err: err} // io.ReadFull's own ErrUnexpectedEOF
			}
			return nil, err
		}
		return &replayBody{buf: buf, replayable: true, length: int64(len(buf))}, nil
	}
	buf, err := io.ReadAll(io.LimitReader(in, limit+1))
	if err != nil {
		req.Body.Close()
		return nil, err
	}
	if int64(len(buf)) > limit {
		return &replayBody{
			stream: struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(buf), in), req.Body},
			length: req.ContentLength,
		}, nil
	}
	req.Body.Close()
	return &replayBody{buf: buf, replayable: true, length: int64(len(buf))}, nil
}

func (b *replayBody) attach(out *http.Request) {
	switch {
	case b.none:
		out.Body, out.GetBody, out.ContentLength = nil, nil, 0
	case b.replayable:
		out.Body = io.NopCloser(bytes.NewReader(b.buf))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b.buf)), nil }
		out.ContentLength = b.length
		if b.length == 0 {
			out.Body = http.NoBody
		}
	default:
		if b.used {
			out.Body = io.NopCloser(bytes.NewReader(nil)) // never reached: not retried
		} else {
			out.Body = b.stream
		}
		b.used = true
		out.GetBody, out.ContentLength = nil, b.length
	}
}
