package gateway

import (
	"context"
	"runtime"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

// statsLoop observes the peaks and writes the statistics files every
// StatsInterval (STA-07, STA-08).
func (s *Server) statsLoop(ctx context.Context) {
	interval := s.cfg.StatsInterval
	if interval <= 0 {
		interval = 5 * time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	files := stats.Files{Dir: s.cfg.DataDir}
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.observePeaks(now)
			if err := files.Append(s.stats, s.peaks, now); err != nil {
				s.log.Warn("writing statistics", "error", err)
			}
		}
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
