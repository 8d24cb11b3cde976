package faults

import "sync"

// Mapper is a fake's own fault settings (the JSON its admin API takes)
// as Specs of this layer.
type Mapper interface {
	Specs() []Spec
}

// State holds a fake's fault settings and keeps its Injector set to the
// Specs they map to; what a fake does with the rest of its settings is
// its own.
type State[T Mapper] struct {
	inj *Injector
	mu  sync.Mutex
	cur T
}

// NewState returns a State at T's zero value, over a new Injector.
func NewState[T Mapper](seed uint64) *State[T] { return &State[T]{inj: New(seed)} }

// Injector is the Injector the settings are set on.
func (s *State[T]) Injector() *Injector { return s.inj }

// Get returns the current settings.
func (s *State[T]) Get() T {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// Set replaces the settings and sets their Specs (a listener goes down
// or up before it returns); the settings are stored even when a
// listener could not listen again.
func (s *State[T]) Set(v T) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur = v
	return s.inj.Set(v.Specs()...)
}
