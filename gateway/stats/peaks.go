package stats

import (
	"strconv"
	"sync"
	"time"
)

// Gauge is one system peak of `statistics global system` (STA-07).
type Gauge uint8

const (
	PeakHeapMemUsedMB Gauge = iota
	PeakBuffCachedMemUsedMB
	PeakProcessVirtualMemUsedMB
	PeakProcessResidentMemUsedMB
	PeakCPUPercent
	PeakMemPercent
	PeakRunningThreads
	PeakDeviceCacheSize
	PeakUserURLCacheSize
	PeakKerbServtktCacheSize
	numGauges
)

var gaugeNames = [numGauges]string{
	"peak-heap-mem-used-MB", "peak-buff-cached-mem-used-MB", "peak-process-virtual-mem-used-MB",
	"peak-process-resident-mem-used-MB", "peak-cpu-%", "peak-mem-%", "peak-running-threads",
	"peak-device-cache-size", "peak-user-url-cache-size", "peak-kerb-servtkt-cache-size",
}

func (g Gauge) String() string { return gaugeNames[g] }

// Peaks records the highest value of each gauge and when it was reached.
type Peaks struct {
	mu    sync.Mutex
	value [numGauges]float64
	at    [numGauges]time.Time
}

// Observe records v for g at time t if it is a new peak.
func (p *Peaks) Observe(g Gauge, v float64, t time.Time) {
	p.mu.Lock()
	if v > p.value[g] || p.at[g].IsZero() {
		p.value[g], p.at[g] = v, t
	}
	p.mu.Unlock()
}

// Peak is a gauge's peak value and time.
type Peak struct {
	Name  string
	Value float64
	At    time.Time
}

// All returns every gauge's peak in display order.
func (p *Peaks) All() []Peak {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Peak, numGauges)
	for i := range out {
		out[i] = Peak{gaugeNames[i], p.value[i], p.at[i]}
	}
	return out
}

// JavaDate formats t like java.util.Date.toString: "Thu Aug 27 22:32:30 UTC 2015".
func JavaDate(t time.Time) string { return t.UTC().Format("Mon Jan 02 15:04:05 MST 2006") }

func uintString(v uint64) string { return strconv.FormatUint(v, 10) }
