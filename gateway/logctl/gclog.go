package logctl

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-lab/gatehouse/internal/atomicfile"
)

// The GC log (LOG-10): `sentry gc-log [file-count] [file-size]` and `no
// sentry gc-log`, shown by `show sentry gc-log`. The appliance's is the
// JVM's; the gateway's records each Go garbage collection, one line a
// cycle, in data_dir/gc.log rotated over file-count files of file-size
// bytes at most. Like init-log it acts from the next start, so the
// setting is kept in the data directory.

// The bounds and defaults of the seeds' command.
const (
	MinGCFiles, MaxGCFiles, DefaultGCFiles = 1, 100, 5
	MinGCFileSize                          = 8 << 10
	MaxGCFileSize                          = 300 << 20
	DefaultGCFileSize                      = 20 << 20
)

// GCSetting is the gc-log switch; off until someone turns it on.
type GCSetting struct {
	Enabled   bool  `json:"enabled"`
	FileCount int   `json:"file_count"`
	FileSize  int64 `json:"file_size"` // bytes
}

// DefaultGC is the setting when none was saved: off, 5 files of 20M.
func DefaultGC() GCSetting {
	return GCSetting{FileCount: DefaultGCFiles, FileSize: DefaultGCFileSize}
}

// Validate checks the seeds' bounds: 1–100 files of 8K–300M.
func (s GCSetting) Validate() error {
	switch {
	case s.FileCount < MinGCFiles || s.FileCount > MaxGCFiles:
		return fmt.Errorf("file_count: %d is not within 1–100", s.FileCount)
	case s.FileSize < MinGCFileSize || s.FileSize > MaxGCFileSize:
		return fmt.Errorf("file_size: %s is not within 8K–300M", FormatSize(s.FileSize))
	}
	return nil
}

// ParseSize reads a file size as the seeds write it: a number with K or
// M (20M, 8K), or plain bytes.
func ParseSize(v string) (int64, error) {
	v = strings.ToUpper(strings.TrimSpace(v))
	mult := int64(1)
	switch {
	case strings.HasSuffix(v, "K"):
		mult, v = 1<<10, strings.TrimSuffix(v, "K")
	case strings.HasSuffix(v, "M"):
		mult, v = 1<<20, strings.TrimSuffix(v, "M")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("file size %q: want a positive number of bytes, K or M (20M)", v)
	}
	return n * mult, nil
}

// FormatSize writes a size the way ParseSize reads it.
func FormatSize(n int64) string {
	switch {
	case n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "M"
	case n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "K"
	}
	return strconv.FormatInt(n, 10)
}

// LoadGC reads the saved setting; a missing file is the default.
func LoadGC(path string) (GCSetting, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return DefaultGC(), nil
	}
	if err != nil {
		return GCSetting{}, fmt.Errorf("gc-log: %w", err)
	}
	var s GCSetting
	if err := json.Unmarshal(data, &s); err != nil {
		return GCSetting{}, fmt.Errorf("gc-log: %s: %w", path, err)
	}
	if err := s.Validate(); err != nil {
		return GCSetting{}, fmt.Errorf("gc-log: %s: %w", path, err)
	}
	return s, nil
}

// SaveGC keeps the setting for the next start.
func SaveGC(path string, s GCSetting) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("gc-log: %w", err)
	}
	data, _ := json.Marshal(s)
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return fmt.Errorf("gc-log: %w", err)
	}
	return nil
}

// GCLog writes a line for each garbage collection until Stop.
type GCLog struct {
	w     *rotator
	cycle chan struct{}
	done  chan struct{}
}

// StartGC starts the GC log in path when s is on; nil when off.
func StartGC(path string, s GCSetting) (*GCLog, error) {
	if !s.Enabled {
		return nil, nil
	}
	w, err := openRotator(path, s.FileCount, s.FileSize)
	if err != nil {
		return nil, fmt.Errorf("gc-log: %w", err)
	}
	g := &GCLog{w: w, cycle: make(chan struct{}, 1), done: make(chan struct{})}
	armCycleNotice(g.cycle, g.done)
	go g.run()
	return g, nil
}

// armCycleNotice signals cycle after each garbage collection: a finalizer
// runs once an unreachable object is collected, and re-arms itself on a
// new one until done is closed.
func armCycleNotice(cycle chan<- struct{}, done <-chan struct{}) {
	sentinel := new([16]byte)
	runtime.SetFinalizer(sentinel, func(*[16]byte) {
		select {
		case <-done:
			return
		default:
		}
		select {
		case cycle <- struct{}{}:
		default: // the writer is behind: its next line covers both cycles
		}
		armCycleNotice(cycle, done)
	})
}

func (g *GCLog) run() {
	samples := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/heap/live:bytes"},
		{Name: "/gc/heap/goal:bytes"}, {Name: "/cpu/classes/gc/total:cpu-seconds"}}
	for {
		select {
		case <-g.done:
			return
		case <-g.cycle:
		}
		metrics.Read(samples)
		line := fmt.Sprintf("%s gc %d live=%s goal=%s gc-cpu-total=%.3fs\n", time.Now().UTC().Format(time.RFC3339Nano),
			samples[0].Value.Uint64(), FormatSize(int64(samples[1].Value.Uint64())&^1023), FormatSize(int64(samples[2].Value.Uint64())&^1023),
			samples[3].Value.Float64())
		_ = g.w.write([]byte(line))
	}
}

// Stop ends the log and closes its file; nil-safe.
func (g *GCLog) Stop() {
	if g == nil {
		return
	}
	close(g.done)
	g.w.close()
}
