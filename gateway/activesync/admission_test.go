package activesync

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
)

func keyN(i int) probeKey {
	return probeKeyOf(devicecache.Key{DeviceID: fmt.Sprintf("D%d", i), User: "alice"}, "Basic x")
}

func TestConcurrentProbesOfOneDeviceAreCoalesced(t *testing.T) {
	a := newAdmission(nil)
	release := make(chan struct{})
	var runs atomic.Int32
	probe := func(context.Context) probeResult {
		runs.Add(1)
		<-release
		return probeResult{status: http.StatusOK}
	}
	const waiters = 20
	var wg sync.WaitGroup
	results := make(chan probeResult, waiters)
	for range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- a.check(context.Background(), keyN(1), probe)
		}()
	}
	// Everyone has joined the one probe in flight before it answers.
	for i := 0; ; i++ {
		a.mu.Lock()
		c := a.probing[keyN(1)]
		joined := c != nil && c.joined == waiters-1
		a.mu.Unlock()
		if joined {
			break
		}
		if i > 10_000_000 {
			t.Fatal("the callers never joined one probe")
		}
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	close(results)
	for res := range results {
		if !res.accepted() {
			t.Fatalf("a waiter got %+v", res)
		}
	}
	if runs.Load() != 1 {
		t.Fatalf("%d probes for one device's credentials, want 1", runs.Load())
	}
	// Later callers are answered from the accepted set.
	if res := a.check(context.Background(), keyN(1), func(context.Context) probeResult {
		t.Fatal("accepted credentials probed again")
		return probeResult{}
	}); !res.accepted() {
		t.Fatalf("%+v", res)
	}
}

func TestProbesInFlightAreBounded(t *testing.T) {
	// Issue 18: the pending set is bounded; past it new devices get 503.
	a := newAdmission(nil)
	a.maxProbing = 8
	release := make(chan struct{})
	started := make(chan struct{}, a.maxProbing)
	var wg sync.WaitGroup
	for i := range a.maxProbing {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.check(context.Background(), keyN(i), func(context.Context) probeResult {
				started <- struct{}{}
				<-release
				return probeResult{status: http.StatusUnauthorized}
			})
		}()
	}
	for range a.maxProbing {
		<-started
	}
	res := a.check(context.Background(), keyN(999), func(context.Context) probeResult {
		t.Fatal("probed past the bound")
		return probeResult{}
	})
	if !errors.Is(res.err, errAdmissionBusy) {
		t.Fatalf("past the bound: %+v, want errAdmissionBusy", res)
	}
	close(release)
	wg.Wait()
	if admitted, probing := a.sizes(); admitted != 0 || probing != 0 {
		t.Fatalf("after refusals: %d accepted, %d in flight", admitted, probing)
	}
}

func TestAcceptedCredentialsAreBoundedAndExpire(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	a := newAdmission(func() time.Time { return now })
	a.maxAdmitted = 64
	ok := func(context.Context) probeResult { return probeResult{status: http.StatusOK} }
	for i := range 1000 {
		a.check(context.Background(), keyN(i), ok)
		if n, _ := a.sizes(); n > a.maxAdmitted {
			t.Fatalf("%d accepted credentials, bound %d", n, a.maxAdmitted)
		}
	}
	var probed bool
	a.check(context.Background(), keyN(999), func(context.Context) probeResult { probed = true; return probeResult{status: 200} })
	if probed {
		t.Fatal("the newest accepted credentials were probed again")
	}
	now = now.Add(admittedTTL)
	a.check(context.Background(), keyN(999), func(context.Context) probeResult { probed = true; return probeResult{status: 200} })
	if !probed {
		t.Fatal("expired credentials were not probed again")
	}
}

func TestProbeKeyHidesTheCredentials(t *testing.T) {
	k := devicecache.Key{DeviceID: "D", User: "alice"}
	if probeKeyOf(k, "Basic a") == probeKeyOf(k, "Basic b") || probeKeyOf(k, "Basic a") == probeKeyOf(devicecache.Key{DeviceID: "E", User: "alice"}, "Basic a") {
		t.Fatal("distinct credentials or devices share a probe key")
	}
}
