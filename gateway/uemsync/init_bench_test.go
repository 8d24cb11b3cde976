package uemsync

import (
	"context"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync/uemsynctest"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// BenchmarkInitFromUEM is a gateway's start with the UEM up: Init takes
// every allowed device from the UEM's list into an empty cache (FLOW-10).
// The in-process fake UEM hands the list over as one page, so this is
// the cache side of an init (decisions applied, entries created), not the
// UEM's HTTP pages. Fleet size: GATEHOUSE_CACHE_DEVICES (100,000 by
// default):
//
//	GATEHOUSE_CACHE_DEVICES=1000000 go test -run '^$' -bench InitFromUEM -benchtime 1x ./gateway/uemsync/
func BenchmarkInitFromUEM(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("GATEHOUSE_CACHE_DEVICES")); err == nil && v > 0 {
		n = v
	}
	u := uemsynctest.New()
	u.PutPolicy(&uemapi.ActiveSyncPolicy{ID: "p", Name: "Default", Version: 1})
	for i := range n {
		dev := strconv.FormatUint(uint64(i)*0x9E3779B97F4A7C15, 16) + strconv.FormatUint(uint64(i)*0xC2B2AE3D27D4EB4F, 16)
		u.Set(dev, "user"+strconv.Itoa(i)+"@corp.example.com", uemapi.StateAllowed, "p")
	}
	var cpu time.Duration
	for b.Loop() {
		c := devicecache.New(nil)
		l, err := New(Config{UEM: u, Cache: c})
		if err != nil {
			b.Fatal(err)
		}
		start := cpuTime()
		res, err := l.Init(context.Background())
		cpu += cpuTime() - start
		if err != nil || !res.FromUEM || res.Loaded != n || c.Len() != n {
			b.Fatalf("init: %+v %v, cache %d", res, err, c.Len())
		}
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
