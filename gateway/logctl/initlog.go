package logctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-lab/gatehouse/internal/atomicfile"
)

// Initialisation logging (LOG-09): `debug sentry init-log [level]` and
// `no debug sentry init-log` take effect at the next start, so, unlike the
// Sentry log (LOG-08), the setting is kept in the data directory. While
// on, everything the gateway logs from the start of New until Start has
// served (or failed) at or above the level's severity is also written to
// data_dir/init.log; the previous start's file is kept as init.log.1.

// InitSetting is the init-log switch; a gateway that was never told
// anything logs its initialisation at level_4_highest (the seeds' default).
type InitSetting struct {
	Enabled bool  `json:"enabled"`
	Level   Level `json:"verbosity"`
}

// DefaultInit is the setting when none was saved.
func DefaultInit() InitSetting { return InitSetting{Enabled: true, Level: Level4} }

// LoadInit reads the saved setting; a missing file is the default.
func LoadInit(path string) (InitSetting, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return DefaultInit(), nil
	}
	if err != nil {
		return InitSetting{}, fmt.Errorf("init-log: %w", err)
	}
	var s InitSetting
	if err := json.Unmarshal(data, &s); err != nil {
		return InitSetting{}, fmt.Errorf("init-log: %s: %w", path, err)
	}
	if s.Level < Level1 || s.Level > Level4 {
		return InitSetting{}, fmt.Errorf("init-log: %s: verbosity %d: want 1 to 4", path, int(s.Level))
	}
	return s, nil
}

// SaveInit keeps the setting for the next start.
func SaveInit(path string, s InitSetting) error {
	if s.Level < Level1 || s.Level > Level4 {
		return fmt.Errorf("init-log: verbosity %d: want 1 to 4", int(s.Level))
	}
	data, _ := json.Marshal(s)
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return fmt.Errorf("init-log: %w", err)
	}
	return nil
}

// severity is the least slog level a verbosity writes: level_1_lowest
// errors only, level_2 warnings too, level_3 the start's steps (info),
// level_4_highest everything (debug).
func (l Level) severity() slog.Level {
	switch l {
	case Level1:
		return slog.LevelError
	case Level2:
		return slog.LevelWarn
	case Level3:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

// InitLog tees a logger into init.log during one initialisation.
type InitLog struct {
	mu     sync.RWMutex // held to write, and to close at Finish
	file   *os.File     // nil when the setting is off
	h      slog.Handler
	min    slog.Level
	begun  time.Time
	closed atomic.Bool // set under mu; read alone on the fast path
}

// StartInit moves the previous file to path.1 and opens path when s is
// on; with s off it returns an InitLog that writes nothing.
func StartInit(path string, s InitSetting, now time.Time) (*InitLog, error) {
	il := &InitLog{begun: now}
	// Off or on, init.log never describes an earlier start than this one.
	if err := os.Rename(path, path+".1"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("init-log: %w", err)
	}
	if !s.Enabled {
		return il, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("init-log: %w", err)
	}
	il.file, il.min = f, s.Level.severity()
	il.h = slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})
	rec := slog.NewRecord(now, slog.LevelInfo, "initialisation begins", 0) // whatever the level, as its end
	rec.AddAttrs(slog.String("verbosity", s.Level.String()))
	_ = il.h.Handle(context.Background(), rec)
	return il, nil
}

// Finish ends the tee: err (nil on success) is the start's outcome.
func (il *InitLog) Finish(err error) {
	if il == nil {
		return
	}
	rec := slog.NewRecord(time.Now(), slog.LevelInfo, "initialisation done", 0)
	if err != nil {
		rec = slog.NewRecord(time.Now(), slog.LevelError, "initialisation failed", 0)
		rec.AddAttrs(slog.String("error", err.Error()))
	}
	rec.AddAttrs(slog.Duration("took", time.Since(il.begun)))
	il.mu.Lock()
	defer il.mu.Unlock()
	if il.closed.Swap(true) || il.file == nil {
		return
	}
	_ = il.h.Handle(context.Background(), rec)
	_ = il.file.Close()
}

// Handler wraps next (nil: the init log alone) so that its records also
// go to the init log until Finish.
func (il *InitLog) Handler(next slog.Handler) slog.Handler {
	return &teeHandler{il: il, next: next, own: il.h}
}

type teeHandler struct {
	il   *InitLog
	next slog.Handler // nil: none
	own  slog.Handler // the init log's, with this handler's attrs and groups
}

// active is one atomic load once the start has ended: the tee stays in the
// gateway's logger for its whole life.
func (t *teeHandler) active(l slog.Level) bool {
	return t.own != nil && l >= t.il.min && !t.il.closed.Load()
}

func (t *teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return (t.next != nil && t.next.Enabled(ctx, l)) || t.active(l)
}

func (t *teeHandler) Handle(ctx context.Context, r slog.Record) error {
	var err error
	if t.next != nil && t.next.Enabled(ctx, r.Level) {
		err = t.next.Handle(ctx, r)
	}
	if !t.active(r.Level) {
		return err
	}
	t.il.mu.RLock()
	defer t.il.mu.RUnlock()
	if !t.il.closed.Load() { // Finish may have closed the file meanwhile
		_ = t.own.Handle(ctx, r.Clone())
	}
	return err
}

func (t *teeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return t.derive(func(h slog.Handler) slog.Handler { return h.WithAttrs(as) })
}

func (t *teeHandler) WithGroup(g string) slog.Handler {
	return t.derive(func(h slog.Handler) slog.Handler { return h.WithGroup(g) })
}

// derive applies f to both sides, keeping the shared InitLog.
func (t *teeHandler) derive(f func(slog.Handler) slog.Handler) slog.Handler {
	n := &teeHandler{il: t.il}
	if t.next != nil {
		n.next = f(t.next)
	}
	if t.own != nil {
		n.own = f(t.own)
	}
	return n
}
