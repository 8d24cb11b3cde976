package alerts

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"sync"
)

// Kept is how many alerts the viewer shows, also after a restart (ALR-05).
const Kept = 1000

// Store keeps the last Kept alerts in memory and in a file of JSON lines,
// so that a restart shows the same ones.
type Store struct {
	mu    sync.Mutex
	path  string
	f     *os.File
	ring  []Alert // oldest first, at most Kept
	lines int     // lines in the file; rewritten past 2*Kept
}

// OpenStore reads path's last Kept alerts (a missing file is empty) and
// appends new ones to it.
func OpenStore(path string) (*Store, error) {
	s := &Store{path: path}
	f, err := os.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("alerts: %w", err)
	default:
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var a Alert
			if json.Unmarshal(sc.Bytes(), &a) != nil {
				continue // a line torn by a crash: skip it, keep the rest
			}
			s.push(a)
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("alerts: read %s: %w", path, err)
		}
	}
	if err := s.rewrite(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) push(a Alert) {
	if len(s.ring) == Kept {
		copy(s.ring, s.ring[1:])
		s.ring = s.ring[:Kept-1]
	}
	s.ring = append(s.ring, a)
}

// rewrite replaces the file with the kept alerts, so it stays bounded.
func (s *Store) rewrite() error {
	tmp := s.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, a := range s.ring {
		_ = enc.Encode(a)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("alerts: write %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	if s.f != nil {
		s.f.Close()
	}
	if s.f, err = os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	s.lines = len(s.ring)
	return nil
}

// Add keeps a; a failed write loses it from the file only.
func (s *Store) Add(a Alert) error {
	b, _ := json.Marshal(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.push(a)
	if s.lines >= 2*Kept {
		return s.rewrite()
	}
	s.lines++
	if _, err := s.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("alerts: write: %w", err)
	}
	return nil
}

// List returns the kept alerts, newest first, whose viewer line matches
// filter (nil: all).
func (s *Store) List(filter *regexp.Regexp) []Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Alert, 0, len(s.ring))
	for i := len(s.ring) - 1; i >= 0; i-- {
		if filter == nil || filter.MatchString(s.ring[i].Line()) {
			out = append(out, s.ring[i])
		}
	}
	return out
}

// Close closes the file.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	return s.f.Close()
}

// Filter compiles the viewer's filter (ALR-06): a regular expression,
// case ignored; "" matches everything.
func Filter(expr string) (*regexp.Regexp, error) {
	if expr == "" {
		return nil, nil
	}
	re, err := regexp.Compile("(?i)" + expr)
	if err != nil {
		return nil, fmt.Errorf("alerts: filter: %w", err)
	}
	return re, nil
}
