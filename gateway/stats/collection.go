package stats

import (
	"fmt"
	"sync"
	"time"
)

// DefaultInterval is the log interval of global-stats.csv (STA-08).
const DefaultInterval = 5 * time.Minute

// Collection is the run-time switch of statistics collection (STA-08):
// started or stopped, and the interval of the rows of global-stats.csv.
// The statistics loop waits on Changed to pick up a new setting at once.
type Collection struct {
	mu       sync.Mutex
	enabled  bool
	interval time.Duration
	changed  chan struct{}
}

// NewCollection returns a started collection at interval (DefaultInterval
// when ≤ 0).
func NewCollection(interval time.Duration) *Collection {
	if interval <= 0 {
		interval = DefaultInterval
	}
	return &Collection{enabled: true, interval: interval, changed: make(chan struct{}, 1)}
}

// State returns whether collection runs and its interval.
func (c *Collection) State() (enabled bool, interval time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.enabled, c.interval
}

// Set changes the state; a nil argument keeps that part. An interval
// under one second is refused (the loop would spin).
func (c *Collection) Set(enabled *bool, interval *time.Duration) error {
	if interval != nil && *interval < time.Second {
		return fmt.Errorf("stats: interval %s is under 1s", *interval)
	}
	c.mu.Lock()
	if enabled != nil {
		c.enabled = *enabled
	}
	if interval != nil {
		c.interval = *interval
	}
	c.mu.Unlock()
	select {
	case c.changed <- struct{}{}:
	default:
	}
	return nil
}

// Changed is signalled after each Set.
func (c *Collection) Changed() <-chan struct{} { return c.changed }

// Reset zeroes the peaks (`Apply & Reset Statistics`, STA-08).
func (p *Peaks) Reset() {
	p.mu.Lock()
	p.value, p.at = [numGauges]float64{}, [numGauges]time.Time{}
	p.mu.Unlock()
}
