package faults

import "net"

// DownMode is how a listener is down.
type DownMode string

const (
	// Refuse closes the listening socket: connections are refused, and
	// the open ones are closed. The default.
	Refuse DownMode = "refuse"
	// CloseConns accepts connections and closes them at once (a load
	// balancer in front of a dead server).
	CloseConns DownMode = "close"
)

// Down takes a Listener down; when the fault ends it listens again on
// the same address. Toxicity applies to CloseConns only.
type Down struct {
	Mode DownMode `json:"mode,omitempty"`
}

func init() { Register("down", func() Toxic { return &Down{} }) }

// Kind is "down".
func (Down) Kind() string { return "down" }

// Validate checks the mode.
func (d Down) Validate() error {
	switch d.Mode {
	case "", Refuse, CloseConns:
		return nil
	}
	return attrErr("mode", "must be refuse or close")
}

func (d Down) refuses() bool { return d.Mode != CloseConns }

// Apply closes the connection (one that slipped in while a refusing
// listener went down, or any under CloseConns).
func (d Down) Apply(c net.Conn, _ Env) net.Conn {
	_ = c.Close()
	return nil
}

func asDown(t Toxic) (Down, bool) {
	switch d := t.(type) {
	case Down:
		return d, true
	case *Down:
		return *d, true
	}
	return Down{}, false
}
