package faults

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
)

// Injector holds the faults of one place and applies them through its
// Listeners and Middlewares. Its methods are safe for concurrent use.
type Injector struct {
	setMu sync.Mutex               // serialises changes with the listeners' down and up
	cur   atomic.Pointer[[]*fault] // read on every connection and request

	mu        sync.Mutex
	rng       *rand.Rand
	hits      map[string]int64
	stopped   bool
	listeners map[*Listener]struct{}
}

// fault is a Spec in force: its Done channel lives as long as the spec
// stays unchanged in the set.
type fault struct {
	spec Spec
	key  string // the spec's JSON: unchanged specs keep their fault
	done chan struct{}
}

// New returns an Injector without faults; seed makes its toxicity rolls
// and jitter reproducible.
func New(seed uint64) *Injector {
	in := &Injector{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), hits: map[string]int64{}, listeners: map[*Listener]struct{}{}}
	in.cur.Store(&[]*fault{})
	return in
}

// Set replaces the faults with specs, in order (HTTP faults apply in that
// order). A spec equal to one in force keeps it (a hung request stays
// hung); the others end. A listener goes down or listens again at once;
// the error says when it could not listen again (the specs are set).
func (in *Injector) Set(specs ...Spec) error {
	next := make([]Spec, len(specs))
	names := map[string]bool{}
	for i, s := range specs {
		if err := s.Validate(); err != nil {
			return prefixField(fmt.Sprintf("faults[%d]", i), err)
		}
		next[i] = s.withDefaults()
		if names[next[i].Name] {
			return httpapi.FieldError(fmt.Sprintf("faults[%d].name", i), "duplicate name %q", next[i].Name)
		}
		names[next[i].Name] = true
	}
	in.setMu.Lock()
	defer in.setMu.Unlock()
	in.replace(next)
	return in.syncListeners()
}

// Add sets one more fault, replacing the one of the same name.
func (in *Injector) Add(s Spec) error {
	if s.Name == "" && s.Toxic != nil {
		s.Name = s.Toxic.Kind()
	}
	specs := in.Specs()
	for i := range specs {
		if specs[i].Name == s.Name {
			specs[i] = s
			return in.Set(specs...)
		}
	}
	return in.Set(append(specs, s)...)
}

// Remove ends the fault of that name; false when there was none.
func (in *Injector) Remove(name string) (bool, error) {
	specs := in.Specs()
	for i := range specs {
		if specs[i].Name == name {
			return true, in.Set(append(specs[:i], specs[i+1:]...)...)
		}
	}
	return false, nil
}

// Clear ends every fault.
func (in *Injector) Clear() error { return in.Set() }

// Specs returns the faults in force, names and directions filled in.
func (in *Injector) Specs() []Spec {
	cur := *in.cur.Load()
	out := make([]Spec, len(cur))
	for i, f := range cur {
		out[i] = f.spec
	}
	return out
}

// Counters returns how many connections or requests each fault (by
// name) acted on since New.
func (in *Injector) Counters() map[string]int64 {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make(map[string]int64, len(in.hits))
	for k, v := range in.hits {
		out[k] = v
	}
	return out
}

// Stop ends every wait a fault imposes, for good (shutdown): hung
// requests are let through, delays cut short. Faults set later impose
// none.
func (in *Injector) Stop() {
	in.setMu.Lock()
	defer in.setMu.Unlock()
	in.mu.Lock()
	in.stopped = true
	in.mu.Unlock()
	for _, f := range *in.cur.Load() {
		closeOnce(f.done)
	}
}

// replace installs specs, keeping the faults that did not change.
func (in *Injector) replace(specs []Spec) {
	old := map[string]*fault{}
	for _, f := range *in.cur.Load() {
		old[f.spec.Name] = f
	}
	in.mu.Lock()
	stopped := in.stopped
	in.mu.Unlock()
	next := make([]*fault, len(specs))
	for i, s := range specs {
		key := specKey(s)
		if f := old[s.Name]; f != nil && f.key == key {
			next[i] = f
			delete(old, s.Name)
			continue
		}
		next[i] = &fault{spec: s, key: key, done: make(chan struct{})}
		if stopped {
			close(next[i].done)
		}
	}
	in.cur.Store(&next)
	for _, f := range old {
		closeOnce(f.done)
	}
}

func specKey(s Spec) string {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Sprintf("%p", s.Toxic) // never equal to another
	}
	return string(b)
}

func closeOnce(c chan struct{}) {
	select {
	case <-c:
	default:
		close(c)
	}
}

// refusing reports whether a down fault in refuse mode is in force.
func (in *Injector) refusing() bool {
	for _, f := range *in.cur.Load() {
		if d, ok := asDown(f.spec.Toxic); ok && d.refuses() {
			return true
		}
	}
	return false
}

// syncListeners takes the listeners down or up as the faults say; the
// caller holds setMu.
func (in *Injector) syncListeners() error {
	refuse := in.refusing()
	in.mu.Lock()
	ls := make([]*Listener, 0, len(in.listeners))
	for l := range in.listeners {
		ls = append(ls, l)
	}
	in.mu.Unlock()
	var errs []error
	for _, l := range ls {
		errs = append(errs, l.setDown(refuse))
	}
	return errors.Join(errs...)
}

// roll decides whether a fault of this toxicity acts.
func (in *Injector) roll(toxicity float64) bool {
	if toxicity <= 0 || toxicity >= 1 {
		return true
	}
	return in.float64() < toxicity
}

func (in *Injector) float64() float64 {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.rng.Float64()
}

func (in *Injector) hit(name string) {
	in.mu.Lock()
	in.hits[name]++
	in.mu.Unlock()
}

// acts rolls f's toxicity and counts a hit.
func (in *Injector) acts(f *fault) bool {
	if !in.roll(f.spec.Toxicity) {
		return false
	}
	in.hit(f.spec.Name)
	return true
}

func (in *Injector) env(f *fault, we ErrorWriter) Env {
	return Env{Direction: f.spec.Direction, Toxicity: f.spec.Toxicity, Done: f.done, WriteError: we, rand: in.float64}
}
