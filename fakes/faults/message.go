package faults

import (
	"context"
	"time"
)

// Verdict is what the faults in force do to one message of a protocol
// without HTTP (the fake KDC's Kerberos, the fake DNS), as Message found.
type Verdict struct {
	// Drop: no answer (down, reset, or the caller's ctx ended during a
	// wait); over TCP the caller closes the connection.
	Drop bool
	// Status is an injected error (error): the caller answers its
	// protocol's error for it (a KRB-ERROR, a DNS rcode) and does not
	// handle the message. 0: handle it.
	Status int
}

// Message applies the faults in force to one message, in the order they
// were set, before the caller handles it: latency waits its delay, hang
// waits until the fault ends, error sets Status (503 by default), down
// and reset drop it. Message protocols have no separate answer to hold,
// so every direction acts before the handler; connection-only kinds
// (slicer, bandwidth, reset_peer) do not apply. Waits end early when the
// fault ends or ctx ends (then Drop).
func (in *Injector) Message(ctx context.Context) Verdict {
	for _, f := range *in.cur.Load() {
		switch t := f.spec.Toxic.(type) {
		case Latency, *Latency, Hang, *Hang, ErrorStatus, *ErrorStatus, Down, *Down, Reset, *Reset:
			if !in.acts(f) {
				continue
			}
			if v, done := messageToxic(ctx, t, in.env(f, nil)); done {
				return v
			}
		}
	}
	return Verdict{}
}

// messageToxic applies one toxic; done says the message's fate is sealed.
func messageToxic(ctx context.Context, t Toxic, env Env) (Verdict, bool) {
	switch t := t.(type) {
	case Latency:
		return waitMessage(ctx, env, latencyOf(t, env))
	case *Latency:
		return waitMessage(ctx, env, latencyOf(*t, env))
	case Hang, *Hang:
		select {
		case <-ctx.Done():
			return Verdict{Drop: true}, true
		case <-env.Done:
			return Verdict{}, false
		}
	case ErrorStatus:
		return Verdict{Status: statusOr503(t.Status)}, true
	case *ErrorStatus:
		return Verdict{Status: statusOr503(t.Status)}, true
	}
	return Verdict{Drop: true}, true // down, reset
}

func waitMessage(ctx context.Context, env Env, d time.Duration) (Verdict, bool) {
	if !sleep(ctx.Done(), env.Done, d) {
		return Verdict{Drop: true}, true
	}
	return Verdict{}, false
}

func latencyOf(t Latency, env Env) time.Duration {
	d := time.Duration(t.DelayMs) * time.Millisecond
	if t.JitterMs > 0 {
		d += time.Duration((env.Float64()*2 - 1) * float64(time.Duration(t.JitterMs)*time.Millisecond))
	}
	return d
}

func statusOr503(s int) int {
	if s == 0 {
		return 503
	}
	return s
}
