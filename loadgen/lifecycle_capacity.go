package loadgen

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/gatehouse-lab/gatehouse/lab"
)

// GatewayMemory is the bundled gateway's memory and cache size at one
// moment, from its admin API (metrics and device-cache status).
type GatewayMemory struct {
	HeapInuseMB  float64 `json:"heap_inuse_mb"`
	HeapLiveMB   float64 `json:"heap_live_mb,omitempty"` // after the last collection
	RSSMB        float64 `json:"rss_mb"`
	Goroutines   float64 `json:"goroutines"`
	CacheEntries int     `json:"cache_entries"`
}

// ReadGatewayMemory samples the lab's gateway (an in-process gateway
// shares the load generator's process: use lab.Subprocess to separate).
func ReadGatewayMemory(ctx context.Context, l *lab.Lab) (GatewayMemory, error) {
	adm := l.GatewayAdmin()
	if adm == nil {
		return GatewayMemory{}, lab.ErrNotSupported
	}
	m, err := adm.Metrics(ctx)
	if err != nil {
		return GatewayMemory{}, err
	}
	cs, err := adm.CacheStatus(ctx)
	if err != nil {
		return GatewayMemory{}, err
	}
	return GatewayMemory{HeapInuseMB: m["go_memstats_heap_inuse_bytes"] / (1 << 20), HeapLiveMB: m["go_gc_heap_live_bytes"] / (1 << 20),
		RSSMB:      m["process_resident_memory_bytes"] / (1 << 20),
		Goroutines: m["go_goroutines"], CacheEntries: cs.InMemory}, nil
}

// CapacityMemory is the gateway's memory before and at the end of a
// capacity run, and what a device costs it.
type CapacityMemory struct {
	Before GatewayMemory `json:"before"`
	After  GatewayMemory `json:"after"`
	// HeapKBPerDevice is the growth of the live heap (heap in use when
	// the gateway does not export it) per device that arrived: its cache
	// entry, its connection and its hanging Ping.
	HeapKBPerDevice float64 `json:"heap_kb_per_device"`
	RSSKBPerDevice  float64 `json:"rss_kb_per_device"`
}

// RunCapacityLab is RunCapacity against the lab's gateway, reporting
// its memory per device as well (Extra "gateway_memory"): the gateway is
// sampled at each second that kept to the thresholds, and the last of
// them, the devices held, gives the cost per device.
func RunCapacityLab(ctx context.Context, l *lab.Lab, spec *Spec, opt Options) (*Results, error) {
	return runCapacityLab(ctx, l, spec, opt, nil)
}

// runCapacityLab is RunCapacityLab; enough, if not nil, sees each
// sample of the gateway and the devices then held, and the run ends
// once it holds (the duration and the thresholds stay the bounds).
func runCapacityLab(ctx context.Context, l *lab.Lab, spec *Spec, opt Options, enough func(GatewayMemory, int64) bool) (*Results, error) {
	var mem CapacityMemory
	var err error
	if mem.Before, err = ReadGatewayMemory(ctx, l); err != nil {
		return nil, fmt.Errorf("capacity: %w", err)
	}
	var (
		after   GatewayMemory
		devices int64
	)
	res, err := runCapacity(ctx, spec, opt, func(p Point) bool {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		m, err := ReadGatewayMemory(sctx, l)
		if err != nil {
			return true
		}
		after, devices = m, p.Devices
		return enough == nil || !enough(m, p.Devices)
	})
	if res == nil {
		return nil, err
	}
	if devices > 0 {
		mem.After = after
		n := float64(devices)
		grew := after.HeapInuseMB - mem.Before.HeapInuseMB
		if after.HeapLiveMB > 0 {
			grew = after.HeapLiveMB - mem.Before.HeapLiveMB
		}
		mem.HeapKBPerDevice = math.Round(10*grew*1024/n) / 10
		mem.RSSKBPerDevice = math.Round(10*(after.RSSMB-mem.Before.RSSMB)*1024/n) / 10
		res.Extra["gateway_memory"] = mem
	}
	return res, err
}
