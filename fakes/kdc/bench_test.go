package kdc

import (
	"context"
	"sync"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/kerberos"
)

// ticketCache is the trivial cache a gateway puts in front of S4UClient
// (KRB-16: service tickets are cached per UPN and SPN).
type ticketCache struct {
	mu sync.Mutex
	m  map[[2]string]kerberos.Credential
}

func (c *ticketCache) get(ctx context.Context, cl *kerberos.S4UClient, upn, spn string) (kerberos.Credential, error) {
	k := [2]string{upn, spn}
	c.mu.Lock()
	cr, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return cr, nil
	}
	cr, err := cl.ServiceCredential(ctx, upn, spn)
	if err != nil {
		return cr, err
	}
	c.mu.Lock()
	c.m[k] = cr
	c.mu.Unlock()
	return cr, nil
}

// BenchmarkS4UServiceTicket measures service tickets per second for one
// user and SPN: "kdc" runs S4U2Self + S4U2Proxy (two TCP round trips, TGT
// cached) every time; "cached" serves from the ticket cache. Compare the two
// tickets/s figures of one run.
func BenchmarkS4UServiceTicket(b *testing.B) {
	s := corpLab(b)
	ctx := context.Background()
	for _, mode := range []string{"kdc", "cached"} {
		b.Run(mode, func(b *testing.B) {
			cl := sentryClient(map[string]string{corp: s.Addr()})
			if _, err := cl.TGT(ctx); err != nil {
				b.Fatal(err)
			}
			cache := &ticketCache{m: map[[2]string]kerberos.Credential{}}
			b.ResetTimer()
			for b.Loop() {
				var err error
				if mode == "cached" {
					_, err = cache.get(ctx, cl, "alice@"+corp, mailSPN)
				} else {
					_, err = cl.ServiceCredential(ctx, "alice@"+corp, mailSPN)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tickets/s")
		})
	}
}
