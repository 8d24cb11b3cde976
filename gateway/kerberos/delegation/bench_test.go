package delegation_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/kerberos/delegation"
)

// BenchmarkNegotiateHeader compares a Negotiate header per request from the
// ticket cache with one that asks the (in-process, loopback) fake KDC for
// S4U2Self + S4U2Proxy every time, as the gateway would without a cache.
// Compare the ns/op of the two sub-benchmarks of one run.
func BenchmarkNegotiateHeader(b *testing.B) {
	s := startKDC(b)
	k := newDelegator(b, config(s), delegation.Options{})
	ctx := context.Background()
	if _, err := k.Init(ctx); err != nil {
		b.Fatal(err)
	}
	const upn = "alice@corp.example"
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := k.NegotiateHeader(ctx, upn, mailSPN); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("uncached", func(b *testing.B) {
		for b.Loop() {
			cred, err := k.RequestTicket(ctx, upn, mailSPN)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := cred.NegotiateHeader(time.Now()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
