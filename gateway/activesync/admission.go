package activesync

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/gateway/upstream"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Admission (issue 18): a request keeps nothing in the gateway (no cache
// entry, no statistics row, no UEM report, nothing persisted) until the
// user it is keyed on is authenticated. A device certificate that names
// the user authenticates it; otherwise Exchange does, by answering an
// OPTIONS probe sent with the device's own Authorization header. Devices
// already in the cache are decided from the cache without a probe
// (FLOW-04): Exchange judges their credentials on the request itself.
const (
	// admittedTTL is how long accepted credentials of a device stay
	// accepted without another probe.
	admittedTTL = 5 * time.Minute
	// maxAdmitted bounds the accepted credentials remembered.
	maxAdmitted = 4096
	// maxProbing bounds the probes in flight (distinct credentials); past
	// it new devices are answered 503 with a Retry-After.
	maxProbing = 1024
	// probeTimeout bounds one probe, whoever waits for it.
	probeTimeout = 30 * time.Second
	// maxProbeBody bounds what is read of a probe's answer.
	maxProbeBody = 64 << 10
	// maxChallenges bounds the WWW-Authenticate values relayed.
	maxChallenges = 8
	// busyRetryAfter is the Retry-After, in seconds, of a 503 for a full
	// probe set.
	busyRetryAfter = "5"
)

// errAdmissionBusy: maxProbing probes are in flight.
var errAdmissionBusy = errors.New("activesync: too many credential checks in flight")

// errNoUPN: the service authenticates to its servers with Kerberos, which
// needs the UPN of an identity certificate.
var errNoUPN = errors.New("no UPN: Kerberos delegation needs identity certificate device authentication")

// probeKey names one device's credentials: SHA-256 over the cache key and
// the Authorization header, so the header itself is never kept.
type probeKey [sha256.Size]byte

func probeKeyOf(k devicecache.Key, authorization string) probeKey {
	h := sha256.New()
	h.Write([]byte(k.DeviceID))
	h.Write([]byte{0})
	h.Write([]byte(k.User))
	h.Write([]byte{0})
	h.Write([]byte(authorization))
	var pk probeKey
	h.Sum(pk[:0])
	return pk
}

// probeResult is Exchange's answer to one probe.
type probeResult struct {
	status     int      // the HTTP status; 0 when none came
	challenges []string // WWW-Authenticate values of a 401
	retryAfter string   // of a 503
	err        error
}

// accepted: Exchange authenticated the credentials. A 451 also means it
// did: Exchange redirects a mailbox only after logging its user on.
func (p probeResult) accepted() bool {
	return p.err == nil && (p.status/100 == 2 || p.status == eas.HTTPRedirect)
}

// admission remembers the credentials Exchange accepted and coalesces
// concurrent probes of the same credentials, within fixed bounds.
type admission struct {
	now                     func() time.Time
	maxAdmitted, maxProbing int
	ttl                     time.Duration

	mu       sync.Mutex
	admitted map[probeKey]time.Time // accepted credentials, until when
	probing  map[probeKey]*probeCall
}

type probeCall struct {
	done   chan struct{}
	res    probeResult
	joined int // callers waiting on another's probe, under admission.mu
}

func newAdmission(now func() time.Time) *admission {
	if now == nil {
		now = time.Now
	}
	return &admission{now: now, maxAdmitted: maxAdmitted, maxProbing: maxProbing, ttl: admittedTTL,
		admitted: make(map[probeKey]time.Time), probing: make(map[probeKey]*probeCall)}
}

// check answers from the accepted credentials, else joins the probe in
// flight for k, else runs probe itself (errAdmissionBusy when maxProbing
// are in flight). The probe outlives the caller that started it, within
// probeTimeout, so that the devices waiting on it are not cut short.
func (a *admission) check(ctx context.Context, k probeKey, probe func(context.Context) probeResult) probeResult {
	a.mu.Lock()
	if until, ok := a.admitted[k]; ok {
		if a.now().Before(until) {
			a.mu.Unlock()
			return probeResult{status: http.StatusOK}
		}
		delete(a.admitted, k)
	}
	c, joined := a.probing[k]
	if joined {
		c.joined++
	} else {
		if len(a.probing) >= a.maxProbing {
			a.mu.Unlock()
			return probeResult{err: errAdmissionBusy}
		}
		c = &probeCall{done: make(chan struct{})}
		a.probing[k] = c
	}
	a.mu.Unlock()
	if !joined {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), probeTimeout)
		c.res = probe(pctx)
		cancel()
		a.finish(k, c)
	}
	select {
	case <-c.done:
		return c.res
	case <-ctx.Done():
		return probeResult{err: ctx.Err()}
	}
}

// finish publishes a probe's result and remembers accepted credentials.
func (a *admission) finish(k probeKey, c *probeCall) {
	a.mu.Lock()
	delete(a.probing, k)
	if c.res.accepted() {
		now := a.now()
		if len(a.admitted) >= a.maxAdmitted {
			a.evict(now)
		}
		a.admitted[k] = now.Add(a.ttl)
	}
	a.mu.Unlock()
	close(c.done)
}

// evict drops expired credentials, and arbitrary ones (Go's map order)
// until a quarter of the room is free, so a full set is swept rarely.
func (a *admission) evict(now time.Time) {
	for k, until := range a.admitted {
		if !now.Before(until) {
			delete(a.admitted, k)
		}
	}
	for k := range a.admitted {
		if len(a.admitted) < a.maxAdmitted*3/4 {
			break
		}
		delete(a.admitted, k)
	}
}

// sizes returns the accepted credentials and probes in flight, for tests.
func (a *admission) sizes() (admitted, probing int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.admitted), len(a.probing)
}

// admit lets a request go on to the decision only when its user is
// authenticated: by the certificate, by being in the cache, or by
// Exchange accepting its credentials on a probe. Otherwise it answers
// (401 for refused credentials, 502/503 when Exchange cannot say, 503
// when too many probes are in flight) and reports false; nothing of the
// request is kept beyond the bounded admission sets.
func (h *Handler) admit(w http.ResponseWriter, r *http.Request, rt *upstream.Router, svc *upstream.Service, key devicecache.Key, id who) bool {
	if id.byCert || id.byToken {
		return true
	}
	if svc != nil && svc.Config().ServerAuth == uemapi.AuthKerberos {
		// KCD speaks for the certificate's user; a device without one
		// can never be served, so it is not worth a probe or a record.
		h.countGlobal(stats.KerberosAuthError)
		h.kerberosFailed(w, r, errNoUPN)
		return false
	}
	if _, _, cached := h.cfg.Cache.State(key); cached {
		return true
	}
	res := h.admission.check(r.Context(), probeKeyOf(key, r.Header.Get("Authorization")), func(ctx context.Context) probeResult {
		h.countGlobal(stats.SAuthProbes)
		return h.probe(ctx, r, rt, svc, key)
	})
	switch {
	case res.accepted():
		return true
	case errors.Is(res.err, errAdmissionBusy):
		h.countGlobal(stats.DAdmissionBusy)
		h.countGlobal(stats.DHTTP503C2S) // the gateway's own 503: the request never went on
		w.Header().Set("Retry-After", busyRetryAfter)
		http.Error(w, "too many new devices at once; retry", http.StatusServiceUnavailable)
	case r.Context().Err() != nil:
		// The device went away; nobody to answer.
	case res.status == http.StatusUnauthorized || res.status == http.StatusForbidden:
		h.unauthenticated(w, h.rewriteChallenges(r, res.challenges))
	case res.status == http.StatusServiceUnavailable:
		h.countGlobal(stats.DHTTP503S2C) // the server's 503, relayed
		if res.retryAfter != "" {
			w.Header().Set("Retry-After", res.retryAfter)
		}
		http.Error(w, "the ActiveSync server is unavailable", http.StatusServiceUnavailable)
	default:
		h.cfg.Log.Warn("credential check with the ActiveSync server failed", "device", key.DeviceID, "status", res.status, "error", res.err)
		http.Error(w, "the ActiveSync server could not check the credentials", http.StatusBadGateway)
	}
	return false
}

// probe asks the ActiveSync server whether it accepts the device's
// credentials: OPTIONS on the device's path with its Authorization
// header, sent the way its request would go (the Router's service and
// servers, or the single upstream).
func (h *Handler) probe(ctx context.Context, r *http.Request, rt *upstream.Router, svc *upstream.Service, key devicecache.Key) probeResult {
	var target url.URL
	if rt != nil {
		target = *placeholder
		ctx = upstream.WithDevice(ctx, upstream.Device{ID: key.DeviceID, User: key.User, Cmd: "OPTIONS", Service: svc})
	} else {
		target = *h.upstream.Load()
	}
	target.Path = strings.TrimSuffix(target.Path, "/") + r.URL.Path
	target.RawPath, target.RawQuery, target.Fragment = "", "", ""
	req, err := http.NewRequestWithContext(ctx, http.MethodOptions, target.String(), nil)
	if err != nil {
		return probeResult{err: err}
	}
	req.Header.Set("Authorization", r.Header.Get("Authorization"))
	if ua := r.Header.Get("User-Agent"); ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		xff := ip
		if prior := r.Header.Values("X-Forwarded-For"); len(prior) > 0 {
			xff = strings.Join(prior, ", ") + ", " + ip
		}
		req.Header.Set("X-Forwarded-For", xff)
	}
	var resp *http.Response
	if rt != nil {
		resp, err = rt.RoundTrip(req)
	} else {
		resp, err = h.cfg.Transport.RoundTrip(req)
	}
	if err != nil {
		return probeResult{err: err}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxProbeBody))
	res := probeResult{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	if resp.StatusCode == http.StatusUnauthorized {
		ch := resp.Header.Values("WWW-Authenticate")
		res.challenges = append([]string(nil), ch[:min(len(ch), maxChallenges)]...)
	}
	return res
}
