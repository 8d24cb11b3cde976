package faults

import "net"

// Bandwidth limits the data of its direction to BytesPerSec, as a slow
// link does.
type Bandwidth struct {
	BytesPerSec int `json:"bytes_per_sec"`
}

func init() { Register("bandwidth", func() Toxic { return &Bandwidth{} }) }

// Kind is "bandwidth".
func (Bandwidth) Kind() string { return "bandwidth" }

// Validate checks the rate.
func (t Bandwidth) Validate() error {
	if t.BytesPerSec < 1 {
		return attrErr("bytes_per_sec", "must be at least 1")
	}
	return nil
}

// Apply throttles the connection.
func (t Bandwidth) Apply(c net.Conn, env Env) net.Conn {
	bc := &bandwidthConn{faultConn: newFaultConn(c, env)}
	bc.p = pacer{rate: t.BytesPerSec, stop: bc.closed, done: env.Done, stopErr: bc.closedErr}
	bc.r = paceReader{p: bc.p}
	return bc
}

type bandwidthConn struct {
	faultConn
	p pacer
	r paceReader
}

func (c *bandwidthConn) Read(b []byte) (int, error) {
	if c.env.Direction != Upstream {
		return c.Conn.Read(b)
	}
	return c.r.read(b, c.Conn.Read)
}

func (c *bandwidthConn) Write(b []byte) (int, error) {
	if c.env.Direction == Upstream {
		return c.Conn.Write(b)
	}
	return c.p.write(b, c.Conn.Write, func() {})
}
