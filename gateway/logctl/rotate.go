package logctl

import (
	"fmt"
	"os"
	"sync"
)

// rotator appends to path; a write that would take the file over max
// bytes first moves path to path.1 (path.1 to path.2, …), keeping count
// files in all.
type rotator struct {
	mu    sync.Mutex
	path  string
	count int
	max   int64
	f     *os.File
	size  int64
}

func openRotator(path string, count int, max int64) (*rotator, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &rotator{path: path, count: count, max: max, f: f, size: st.Size()}, nil
}

func (r *rotator) write(p []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return os.ErrClosed
	}
	if r.size > 0 && r.size+int64(len(p)) > r.max {
		if err := r.rotate(); err != nil {
			return err
		}
	}
	n, err := r.f.Write(p)
	r.size += int64(n)
	return err
}

func (r *rotator) rotate() error {
	if err := r.f.Close(); err != nil {
		return err
	}
	r.f = nil
	_ = os.Remove(r.name(r.count - 1)) // the oldest goes; with one file, the current one
	for i := r.count - 2; i >= 0; i-- {
		_ = os.Rename(r.name(i), r.name(i+1))
	}
	f, err := os.OpenFile(r.path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	r.f, r.size = f, 0
	return nil
}

// name is the i-th file: path itself, then path.1, path.2, …
func (r *rotator) name(i int) string {
	if i == 0 {
		return r.path
	}
	return fmt.Sprintf("%s.%d", r.path, i)
}

func (r *rotator) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f != nil {
		_ = r.f.Close()
		r.f = nil
	}
}
