package gateway

import (
	"context"
	"runtime"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

// statsLoop observes the peaks and writes the statistics files at the
// collection's interval while it is started (STA-07, STA-08); a change of
// the setting restarts the wait.
func (s *Server) statsLoop(ctx context.Context) {
	files := stats.Files{Dir: s.cfg.DataDir}
	for {
		on, interval := s.coll.State()
		var tick <-chan time.Time
		var t *time.Ticker
		if on {
			t = time.NewTicker(interval)
			tick = t.C
		}
		select {
		case <-ctx.Done():
			stopTicker(t)
			return
		case <-s.coll.Changed():
		case now := <-tick:
			s.observePeaks(now)
			if err := files.Append(s.stats, s.peaks, now); err != nil {
				s.log.Warn("writing statistics", "error", err)
			}
		}
		stopTicker(t)
	}
}

func stopTicker(t *time.Ticker) {
	if t != nil {
		t.Stop()
	}
}

func (s *Server) observePeaks(now time.Time) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	s.peaks.Observe(stats.PeakHeapMemUsedMB, float64(m.HeapInuse)/(1<<20), now)
	s.peaks.Observe(stats.PeakProcessVirtualMemUsedMB, float64(m.Sys)/(1<<20), now)
	s.peaks.Observe(stats.PeakRunningThreads, float64(runtime.NumGoroutine()), now)
	peak, at := s.cache.Peak()
	if !at.IsZero() {
		s.peaks.Observe(stats.PeakDeviceCacheSize, float64(peak), at)
	}
}
