package faults

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
)

// Toxic is one kind of fault with its attributes. Its methods take value
// receivers, so a Toxic and a pointer to it both serve.
type Toxic interface {
	// Kind is the name the kind is registered under ("latency").
	Kind() string
	// Validate checks the attributes; errors name the attribute.
	Validate() error
}

// ConnToxic is a fault of a Listener's connections.
type ConnToxic interface {
	Toxic
	// Apply is called for each connection the fault hits; it returns the
	// connection to serve (c or a wrapper of it), or nil when it closed c.
	Apply(c net.Conn, env Env) net.Conn
}

// HTTPToxic is a fault of the requests a Middleware serves.
type HTTPToxic interface {
	Toxic
	// Serve handles a request the fault hits; next is the rest of the
	// chain, which it calls or not.
	Serve(w http.ResponseWriter, r *http.Request, next http.Handler, env Env)
}

// Env is what a toxic knows of where it acts.
type Env struct {
	Direction Direction
	Toxicity  float64
	// Done is closed when the fault ends: removed or replaced by Set, or
	// the Injector stopped. Waits a fault imposes end with it.
	Done <-chan struct{}
	// WriteError answers a request with an injected error (HTTP only).
	WriteError ErrorWriter
	rand       func() float64
}

// Float64 is a number in [0,1) from the Injector's seeded generator.
func (e Env) Float64() float64 { return e.rand() }

var registry struct {
	sync.RWMutex
	kinds map[string]func() Toxic
}

// Register makes a kind known to Spec's JSON decoding; newToxic returns a
// pointer to a zero value of it. Registering a kind twice panics.
func Register(kind string, newToxic func() Toxic) {
	registry.Lock()
	defer registry.Unlock()
	if registry.kinds == nil {
		registry.kinds = map[string]func() Toxic{}
	}
	if _, dup := registry.kinds[kind]; dup {
		panic(fmt.Sprintf("faults: kind %q registered twice", kind))
	}
	registry.kinds[kind] = newToxic
}

// Kinds lists the registered kinds, sorted.
func Kinds() []string {
	registry.RLock()
	defer registry.RUnlock()
	out := make([]string, 0, len(registry.kinds))
	for k := range registry.kinds {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func newToxic(kind string) (Toxic, bool) {
	registry.RLock()
	defer registry.RUnlock()
	mk, ok := registry.kinds[kind]
	if !ok {
		return nil, false
	}
	return mk(), true
}
