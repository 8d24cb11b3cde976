package loadgen

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// BenchConfig is a raw open-model HTTP run: one request at a constant
// rate through the same pacer, transport and histograms as a fleet, to
// compare the load generator with a baseline client (wrk, a plain Go
// loop) on the same endpoint at the same rate.
type BenchConfig struct {
	URL         string
	Method      string // default POST
	Body        []byte
	Header      http.Header
	Rate        float64 // requests per second
	Duration    time.Duration
	MaxInFlight int // default 10000
	SourceAddrs int // default 1
	MaxConns    int
}

// Bench runs cfg. It records "<Method>" from the intended time and
// "<Method>.service" from the actual send (what a closed-loop client
// such as wrk reports), with status http_NNN or transport.
func Bench(ctx context.Context, cfg BenchConfig) (*Results, error) {
	if cfg.Rate <= 0 || cfg.Duration <= 0 {
		return nil, errors.New("loadgen: bench needs a rate and a duration")
	}
	if cfg.Method == "" {
		cfg.Method = http.MethodPost
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = 10000
	}
	cs, err := Clients(cfg.URL, max(cfg.SourceAddrs, 1), cfg.MaxConns)
	if err != nil {
		return nil, err
	}
	defer CloseClients(cs)
	r := &runner{spec: &Spec{MaxInFlight: cfg.MaxInFlight, LateAfter: Duration(10 * time.Millisecond)}}
	start := time.Now()
	r.rec = NewRecorder(start)
	var mu sync.Mutex
	next := 0
	tally := newSendTally(cfg.Duration)
	pace(ctx, start, cfg.Duration, func(time.Duration) float64 { return cfg.Rate }, func(intended time.Time) {
		mu.Lock()
		hc := cs[next%len(cs)]
		next++
		mu.Unlock()
		r.dispatch(ctx, intended, func() {
			req, err := http.NewRequestWithContext(ctx, cfg.Method, cfg.URL, bytes.NewReader(cfg.Body))
			if err != nil {
				return
			}
			for k, v := range cfg.Header {
				req.Header[k] = v
			}
			sent := time.Now()
			tally.add(sent.Sub(start))
			status := StatusTransport
			resp, err := hc.Do(req)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				status = httpStatus(resp.StatusCode)
			} else if ctx.Err() != nil {
				return
			}
			now := time.Now()
			r.rec.RecordStatus(cfg.Method, status, now.Sub(intended))
			r.rec.RecordStatus(cfg.Method+".service", status, now.Sub(sent))
		})
	})
	r.wg.Wait()
	res := r.rec.Results()
	res.Name = "bench " + cfg.URL
	res.DurationS = time.Since(start).Seconds()
	res.Extra = map[string]any{"pacing": tally.pacing(cfg.Rate, cfg.Duration)}
	return res, nil
}

// BenchPacing is how closely a bench held its rate, from the times the
// requests were actually sent: the achieved rate over the whole run
// (first to last send) and the worst whole second.
type BenchPacing struct {
	TargetRate     float64 `json:"target_rate"`
	AchievedRate   float64 `json:"achieved_rate"`
	ErrorPct       float64 `json:"error_pct"`
	WorstSecondPct float64 `json:"worst_second_pct"`
	Sent           int64   `json:"sent"`
}

// BenchPlain is the baseline: the simplest Go client loop at the same
// rate (sleep to the next slot, one goroutine per request, a default
// http.Transport with X25519 and no verification, like the fleet's). It
// records "<Method>.service" from the actual send only.
func BenchPlain(ctx context.Context, cfg BenchConfig) (*Results, error) {
	if cfg.Rate <= 0 || cfg.Duration <= 0 {
		return nil, errors.New("loadgen: bench needs a rate and a duration")
	}
	if cfg.Method == "" {
		cfg.Method = http.MethodPost
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	cs, _ := Clients(cfg.URL, 1, 0)
	tr.TLSClientConfig = cs[0].Transport.(*http.Transport).TLSClientConfig
	tr.MaxIdleConnsPerHost = 512
	tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{} // HTTP/1.1, as wrk and the fleet
	hc := &http.Client{Transport: tr}
	defer hc.CloseIdleConnections()
	start := time.Now()
	rec := NewRecorder(start)
	var wg sync.WaitGroup
	n := int(cfg.Rate * cfg.Duration.Seconds())
	for i := range n {
		time.Sleep(time.Until(start.Add(time.Duration(float64(i) / cfg.Rate * float64(time.Second)))))
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, cfg.Method, cfg.URL, bytes.NewReader(cfg.Body))
			for k, v := range cfg.Header {
				req.Header[k] = v
			}
			sent := time.Now()
			resp, err := hc.Do(req)
			status := StatusTransport
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				status = httpStatus(resp.StatusCode)
			}
			rec.RecordStatus(cfg.Method+".service", status, time.Since(sent))
		})
	}
	wg.Wait()
	res := rec.Results()
	res.Name = "plain Go loop " + cfg.URL
	res.DurationS = time.Since(start).Seconds()
	return res, nil
}

// httpStatus labels a response: ok for 2xx, else http_NNN.
func httpStatus(code int) string {
	if code >= 200 && code < 300 {
		return StatusOK
	}
	return fmt.Sprintf("http_%d", code)
}
