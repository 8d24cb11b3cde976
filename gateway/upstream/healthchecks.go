package upstream

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

// The background health check (ASC-11 to ASC-14, ASC-24, ASC-26). Every
// Interval seconds, for each service with the check enabled, each server
// gets an OPTIONS request on a new connection. Any HTTP answer below 500
// is a success: a server that answers 401 to an unauthenticated OPTIONS
// is up (the seeds' example shows all checks answered 401 and the server
// Live). A connection failure, a timeout or a 5xx is a failure, counted
// with the request failures towards Dead Threshold. A dead server needs
// Live Threshold successful checks in a row to be live again.

// healthCounter is one hc-* counter of `show sentry statistics global
// server` (ASC-26).
type healthCounter int

// The hc-* counters in the seeds' order.
const (
	hcConnections healthCounter = iota
	hcBytesSent
	hcBytesRcvd
	hcHTTPRequests
	hcHTTPResponses
	hcErrConnTimeout
	hcErrSoTimeout
	hcErrReset
	hcSoClose
	hcUnclassified
	hcHTTPStatus200
	hcHTTPStatus401
	hcHTTPStatus404
	hcHTTPStatusOther
	numHealthCounters
)

var healthCounterNames = [numHealthCounters]string{
	"hc-connections", "hc-bytes-sent", "hc-bytes-rcvd", "hc-http-requests", "hc-http-responses",
	"hc-err-conn-timeout", "hc-err-so-timeout", "hc-err-reset", "hc-so-close", "hc-unclassified",
	"hc-http-status-200", "hc-http-status-401", "hc-http-status-404", "hc-http-status-other",
}

type healthCounters struct {
	c [numHealthCounters]atomic.Uint64
}

func (h *healthCounters) add(c healthCounter, n uint64) { h.c[c].Add(n) }

// ServerReport returns the global server statistics, the hc-* counters
// in the seeds' order (`show sentry statistics global server`); filter
// them with stats.Filter.
func (r *Router) ServerReport() []stats.Value {
	out := make([]stats.Value, numHealthCounters)
	for i := range out {
		out[i] = stats.Value{Name: healthCounterNames[i], Value: r.hc.c[i].Load()}
	}
	return out
}

// Run runs the background health check until ctx is done, each service
// at its Interval (or Options.HealthInterval). It picks up Update.
func (r *Router) Run(ctx context.Context) error {
	last := map[string]time.Time{}
	for {
		t := r.table.Load()
		now := time.Now()
		wait := time.Duration(-1)
		var due []*Service
		for _, svc := range t.services {
			if !svc.cfg.HealthCheck.Enabled {
				continue
			}
			iv := r.interval(svc)
			l, seen := last[svc.cfg.Name]
			if !seen {
				l, last[svc.cfg.Name] = now, now
			}
			left := iv - now.Sub(l)
			if left <= 0 {
				due = append(due, svc)
				last[svc.cfg.Name] = now
				left = iv
			}
			if wait < 0 || left < wait {
				wait = left
			}
		}
		if len(due) > 0 {
			r.check(ctx, due)
			continue
		}
		var timer <-chan time.Time
		var tm *time.Timer
		if wait >= 0 {
			tm = time.NewTimer(wait)
			timer = tm.C
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.wake:
		case <-timer:
		}
		if tm != nil {
			tm.Stop()
		}
	}
}

func (r *Router) interval(svc *Service) time.Duration {
	if r.opts.HealthInterval > 0 {
		return r.opts.HealthInterval
	}
	return time.Duration(svc.cfg.HealthCheck.IntervalSeconds) * time.Second
}

// CheckNow runs one health check of every server of every service with
// the check enabled, and returns when all are done. Run calls it on the
// interval; tests and `Verify` call it directly.
func (r *Router) CheckNow(ctx context.Context) {
	var due []*Service
	for _, svc := range r.table.Load().services {
		if svc.cfg.HealthCheck.Enabled {
			due = append(due, svc)
		}
	}
	r.check(ctx, due)
}

func (r *Router) check(ctx context.Context, services []*Service) {
	var wg sync.WaitGroup
	for _, svc := range services {
		for _, srv := range svc.servers {
			wg.Go(func() {
				err := r.probe(ctx, svc.set, srv)
				if ctx.Err() != nil {
					return // shutting down: not the server's fault
				}
				if err != nil {
					svc.fail(srv, err)
					return
				}
				srv.recordSuccess(r.opts.Now(), true)
				svc.available(srv) // revive now, if due
			})
		}
	}
	wg.Wait()
}

// errServerError is a health check answered with a 5xx.
var errServerError = errors.New("health check answered with a server error")

// probe sends one OPTIONS to srv on a new connection.
func (r *Router) probe(ctx context.Context, set *settings, srv *Server) error {
	ctx, cancel := context.WithTimeout(ctx, set.connect+2*set.socketRW)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodOptions, srv.addr.scheme()+"://"+srv.addr.hostport+r.opts.HealthPath, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "gatehouse-health-check")
	req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { r.hc.add(hcHTTPRequests, 1) },
	}))
	resp, err := r.hcClient.Do(req)
	if err != nil {
		r.hc.add(healthErrorCounter(err), 1)
		return err
	}
	r.hc.add(hcHTTPResponses, 1)
	switch resp.StatusCode {
	case 200:
		r.hc.add(hcHTTPStatus200, 1)
	case 401:
		r.hc.add(hcHTTPStatus401, 1)
	case 404:
		r.hc.add(hcHTTPStatus404, 1)
	default:
		r.hc.add(hcHTTPStatusOther, 1)
	}
	drain(resp.Body)
	if resp.StatusCode >= 500 {
		return errServerError
	}
	return nil
}

func healthErrorCounter(err error) healthCounter {
	var te *TimeoutError
	switch {
	case errors.As(err, &te) && te.Kind == "connect":
		return hcErrConnTimeout
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return hcErrSoTimeout
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE):
		return hcErrReset
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return hcSoClose
	}
	return hcUnclassified
}

func (r *Router) dialHealth(ctx context.Context, network, addr string) (net.Conn, error) {
	return r.dialHealthConn(ctx, network, addr, false)
}

func (r *Router) dialHealthTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	return r.dialHealthConn(ctx, network, addr, true)
}

func (r *Router) dialHealthConn(ctx context.Context, network, addr string, useTLS bool) (net.Conn, error) {
	set := r.table.Load().set
	return r.connectWrapped(ctx, network, addr, useTLS, set.connect, func(c net.Conn) net.Conn {
		r.hc.add(hcConnections, 1)
		return &healthConn{Conn: c, hc: &r.hc, rw: set.socketRW}
	}, nil)
}

// healthConn counts a health check's bytes and bounds each read and
// write by the socket read/write timeout.
type healthConn struct {
	net.Conn
	hc *healthCounters
	rw time.Duration
}

func (c *healthConn) Read(b []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.rw)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(b)
	c.hc.add(hcBytesRcvd, uint64(n))
	return n, err
}

func (c *healthConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.rw)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Write(b)
	c.hc.add(hcBytesSent, uint64(n))
	return n, err
}
