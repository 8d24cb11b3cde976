package stats

import (
	"bufio"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// UtilizationCheckInterval is how often utilisation is checked against
// the alert thresholds (STA-13).
const UtilizationCheckInterval = 30 * time.Minute

// Utilization is `show sentry utilization` (STA-12). Percentages are 0–100.
type Utilization struct {
	ConnectedDevices int     `json:"connected_devices"`
	OpenConnections  int64   `json:"open_connections"`
	ThreadPool       float64 `json:"thread_pool_percent"`
	CPU              float64 `json:"cpu_percent"`
	SystemMemory     float64 `json:"system_memory_percent"`
	HeapMemory       float64 `json:"heap_memory_percent"`
}

// Lines returns the CLI's lines, in the seed's order and wording.
func (u Utilization) Lines() []string {
	return []string{
		fmt.Sprintf("Number of Connected Devices : %d", u.ConnectedDevices),
		fmt.Sprintf("Number of Open Connections : %d", u.OpenConnections),
		fmt.Sprintf("Thread Pool Utilization : %.1f%%", u.ThreadPool),
		fmt.Sprintf("CPU Utilization : %.1f%%", u.CPU),
		fmt.Sprintf("System Memory Utilization : %.1f%%", u.SystemMemory),
		fmt.Sprintf("Heap Memory Utilization : %.1f%%", u.HeapMemory),
	}
}

// Thresholds are the alert thresholds of STA-13 in percent.
type Thresholds struct{ ThreadPool, CPU, SystemMemory float64 }

// DefaultThresholds are the seed's: Thread Pool 80 %, CPU 70 %, System Memory 70 %.
var DefaultThresholds = Thresholds{ThreadPool: 80, CPU: 70, SystemMemory: 70}

// UtilAlert is one resource over its threshold. ID is stable, for the
// alerts machinery and log searches.
type UtilAlert struct {
	ID        string
	Resource  string
	Value     float64
	Threshold float64
}

// Over returns the resources of u above th (strictly above), in a fixed order.
func (u Utilization) Over(th Thresholds) []UtilAlert {
	var out []UtilAlert
	for _, c := range []UtilAlert{
		{"STA13-THREAD-POOL", "Thread Pool Utilization", u.ThreadPool, th.ThreadPool},
		{"STA13-CPU", "CPU Utilization", u.CPU, th.CPU},
		{"STA13-SYSTEM-MEMORY", "System Memory Utilization", u.SystemMemory, th.SystemMemory},
	} {
		if c.Value > c.Threshold {
			out = append(out, c)
		}
	}
	return out
}

// LogAlerts logs each alert at warn with its stable alert_id.
func LogAlerts(log *slog.Logger, as []UtilAlert) {
	for _, a := range as {
		log.Warn("utilization above threshold", "alert_id", a.ID, "resource", a.Resource,
			"percent", strconv.FormatFloat(a.Value, 'f', 1, 64), "threshold", a.Threshold)
	}
}

// Sampler measures the process's CPU share since its previous sample, the
// system memory in use and the Go heap in use.
type Sampler struct {
	mu       sync.Mutex
	lastCPU  time.Duration
	lastWall time.Time
}

// Sample returns CPU, system memory and heap utilisation in percent.
// The first CPU figure covers the time since the process started.
func (s *Sampler) Sample(now time.Time) (cpu, sysMem, heap float64) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		used := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		s.mu.Lock()
		if s.lastWall.IsZero() {
			s.lastWall = processStart
		}
		if wall := now.Sub(s.lastWall); wall > 0 {
			cpu = 100 * float64(used-s.lastCPU) / float64(wall) / float64(runtime.NumCPU())
		}
		s.lastCPU, s.lastWall = used, now
		s.mu.Unlock()
	}
	sysMem = systemMemoryPercent()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if m.HeapSys > 0 {
		heap = 100 * float64(m.HeapInuse) / float64(m.HeapSys)
	}
	return min(cpu, 100), sysMem, heap
}

var processStart = time.Now()

// systemMemoryPercent is (MemTotal - MemAvailable) / MemTotal from
// /proc/meminfo; 0 where there is none.
func systemMemoryPercent() float64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	var total, avail float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		v, _ := strconv.ParseFloat(fields[1], 64)
		switch fields[0] {
		case "MemTotal:":
			total = v
		case "MemAvailable:":
			avail = v
		}
	}
	if total == 0 {
		return 0
	}
	return 100 * (total - avail) / total
}

// OpenConns is the number of device connections open now.
func (r *Registry) OpenConns() int64 { return r.open.Load() }
