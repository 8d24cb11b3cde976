package faults

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// handler answers "ok" and counts its calls.
func handler(calls *atomic.Int64, ran chan<- struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if ran != nil {
			ran <- struct{}{}
		}
		_, _ = io.WriteString(w, "ok")
	})
}

func TestErrorByDirection(t *testing.T) {
	for _, dir := range directions {
		t.Run(string(dir), func(t *testing.T) {
			in := New(1)
			var calls atomic.Int64
			url, hc := serveHTTP(t, in, handler(&calls, nil))
			mustSet(t, in, Spec{Direction: dir, Toxic: ErrorStatus{Status: 502}})
			st, body, err := get(context.Background(), hc, url)
			if err != nil || st != 502 || !strings.Contains(body, "injected fault") {
				t.Fatalf("got %d %q %v, want 502 injected fault", st, body, err)
			}
			if want := map[Direction]int64{Upstream: 0, Downstream: 1}[dir]; calls.Load() != want {
				t.Fatalf("handler ran %d times, want %d", calls.Load(), want)
			}
		})
	}
}

func TestErrorWriterAnswersInTheFakesShape(t *testing.T) {
	in := New(1)
	var calls atomic.Int64
	url, hc := serveHTTP(t, in, handler(&calls, nil), WithErrorWriter(func(w http.ResponseWriter, r *http.Request, status int, env Env) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"error":"mine"}`)
	}))
	mustSet(t, in, Spec{Direction: Upstream, Toxic: ErrorStatus{}})
	if st, body, err := get(context.Background(), hc, url); err != nil || st != 503 || body != `{"error":"mine"}` {
		t.Fatalf("got %d %q %v", st, body, err)
	}
}

func TestResetByDirection(t *testing.T) {
	for _, dir := range directions {
		t.Run(string(dir), func(t *testing.T) {
			in := New(1)
			var calls atomic.Int64
			url, hc := serveHTTP(t, in, handler(&calls, nil))
			mustSet(t, in, Spec{Direction: dir, Toxic: Reset{}})
			if _, _, err := get(context.Background(), hc, url); err == nil || !strings.Contains(err.Error(), "reset") {
				t.Fatalf("request survived a reset: %v", err)
			}
			if want := map[Direction]int64{Upstream: 0, Downstream: 1}[dir]; calls.Load() != want {
				t.Fatalf("handler ran %d times, want %d", calls.Load(), want)
			}
		})
	}
}

// A held request (hang, or a long latency) waits until its fault ends:
// upstream the handler has not run, downstream it ran and its answer
// waits. Ending the fault lets it through.
func TestHoldsUntilTheFaultEndsByDirection(t *testing.T) {
	for _, toxic := range []Toxic{Hang{}, Latency{DelayMs: maxDelayMs}} {
		for _, dir := range directions {
			t.Run(toxic.Kind()+"/"+string(dir), func(t *testing.T) {
				in := New(1)
				var calls atomic.Int64
				ran := make(chan struct{}, 1)
				url, hc := serveHTTP(t, in, handler(&calls, ran))
				mustSet(t, in, Spec{Direction: dir, Toxic: toxic})
				res := getAsync(context.Background(), hc, url)
				if dir == Downstream {
					<-ran // the handler runs at once; its answer is held
				}
				select {
				case r := <-res:
					t.Fatalf("answered while held: %+v", r)
				default:
				}
				if dir == Upstream && calls.Load() != 0 {
					t.Fatal("the handler ran while the request was held")
				}
				mustSet(t, in)
				if r := <-res; r.err != nil || r.status != 200 || r.body != "ok" {
					t.Fatalf("released: %+v", r)
				}
			})
		}
	}
}

// A client that gives up on a held request gets no answer (the
// connection is closed) and the handler never runs.
func TestHeldRequestOfAClientThatLeaves(t *testing.T) {
	in := New(1)
	var calls atomic.Int64
	url, hc := serveHTTP(t, in, handler(&calls, nil))
	mustSet(t, in, Spec{Direction: Upstream, Toxic: Hang{}})
	ctx, cancel := context.WithCancel(context.Background())
	res := getAsync(ctx, hc, url)
	cancel()
	if r := <-res; r.err == nil {
		t.Fatalf("answered: %+v", r)
	}
	if calls.Load() != 0 {
		t.Fatal("the handler ran")
	}
}

// Setting an unchanged fault again keeps it: a hung request stays hung
// while other faults change.
func TestSetKeepsUnchangedFaults(t *testing.T) {
	in := New(1)
	var calls atomic.Int64
	url, hc := serveHTTP(t, in, handler(&calls, nil))
	hang := Spec{Direction: Upstream, Toxic: Hang{}}
	mustSet(t, in, hang)
	res := getAsync(context.Background(), hc, url)
	mustSet(t, in, hang, Spec{Direction: Upstream, Toxic: Latency{DelayMs: 1}})
	mustSet(t, in, hang, Spec{Direction: Upstream, Toxic: Latency{DelayMs: 2}})
	select {
	case r := <-res:
		t.Fatalf("released by an unrelated change: %+v", r)
	default:
	}
	mustSet(t, in)
	if r := <-res; r.err != nil || r.status != 200 {
		t.Fatalf("released: %+v", r)
	}
}

func TestLatencyPassesByItself(t *testing.T) {
	for _, dir := range directions {
		in := New(1)
		var calls atomic.Int64
		url, hc := serveHTTP(t, in, handler(&calls, nil))
		mustSet(t, in, Spec{Direction: dir, Toxic: Latency{DelayMs: 5, JitterMs: 2}})
		if st, body, err := get(context.Background(), hc, url); err != nil || st != 200 || body != "ok" {
			t.Fatalf("%s: %d %q %v", dir, st, body, err)
		}
		if in.Counters()["latency"] != 1 {
			t.Fatalf("%s: counters %v", dir, in.Counters())
		}
	}
}

// A slow body comes a piece at a time while the fault lasts, and at once
// after it ends.
func TestSlowBodyByDirection(t *testing.T) {
	payload := strings.Repeat("z", 40)
	t.Run(string(Downstream), func(t *testing.T) {
		in := New(1)
		url, hc := serveHTTP(t, in, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, payload) }))
		mustSet(t, in, Spec{Direction: Downstream, Toxic: SlowBody{BytesPerSec: 1}})
		resp, err := hc.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		first := make([]byte, 64)
		if n, err := resp.Body.Read(first); err != nil || n != 1 {
			t.Fatalf("first read %d bytes, %v; want the first piece alone", n, err)
		}
		mustSet(t, in)
		rest, err := io.ReadAll(resp.Body)
		if err != nil || len(rest) != len(payload)-1 {
			t.Fatalf("rest: %d bytes, %v", len(rest), err)
		}
	})
	t.Run(string(Upstream), func(t *testing.T) {
		in := New(1)
		firstRead := make(chan int, 1)
		url, hc := serveHTTP(t, in, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			buf := make([]byte, 64)
			n, _ := r.Body.Read(buf)
			firstRead <- n
			rest, _ := io.ReadAll(r.Body)
			_, _ = io.WriteString(w, string(buf[:n])+string(rest))
		}))
		mustSet(t, in, Spec{Direction: Upstream, Toxic: SlowBody{BytesPerSec: 1}})
		res := make(chan result, 1)
		go func() {
			resp, err := hc.Post(url, "text/plain", strings.NewReader(payload))
			if err != nil {
				res <- result{err: err}
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			res <- result{resp.StatusCode, string(b), err}
		}()
		if n := <-firstRead; n != 1 {
			t.Fatalf("the handler's first read got %d bytes, want one piece", n)
		}
		mustSet(t, in)
		if r := <-res; r.err != nil || r.body != payload {
			t.Fatalf("echo: %+v", r)
		}
	})
}

// Toxicity is a probability from the seeded generator: the same seed
// hits the same requests, and the counters say how many.
func TestToxicityIsSeeded(t *testing.T) {
	outcomes := func(seed uint64) (string, map[string]int64) {
		in := New(seed)
		var calls atomic.Int64
		url, hc := serveHTTP(t, in, handler(&calls, nil))
		mustSet(t, in, Spec{Name: "flaky", Direction: Upstream, Toxicity: 0.5, Toxic: ErrorStatus{}})
		var b strings.Builder
		for range 100 {
			st, _, err := get(context.Background(), hc, url)
			if err != nil {
				t.Fatal(err)
			}
			b.WriteString(map[int]string{200: ".", 503: "x"}[st])
		}
		return b.String(), in.Counters()
	}
	a, ca := outcomes(42)
	b, _ := outcomes(42)
	if a != b {
		t.Fatalf("same seed, other outcomes:\n%s\n%s", a, b)
	}
	hits := int64(strings.Count(a, "x"))
	if hits < 20 || hits > 80 || ca["flaky"] != hits {
		t.Fatalf("%d of 100 hit at toxicity 0.5, counter %d", hits, ca["flaky"])
	}
}
