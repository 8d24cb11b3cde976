package faults

import (
	"net"
	"time"
)

// Slicer cuts the data of its direction into pieces of AverageSize ±
// SizeVariation bytes, DelayUs apart, as a fragmenting network does:
// peers must cope with short reads.
type Slicer struct {
	AverageSize   int `json:"average_size"`
	SizeVariation int `json:"size_variation,omitempty"`
	DelayUs       int `json:"delay_us,omitempty"`
}

func init() { Register("slicer", func() Toxic { return &Slicer{} }) }

// Kind is "slicer".
func (Slicer) Kind() string { return "slicer" }

// Validate checks the sizes and the delay.
func (t Slicer) Validate() error {
	switch {
	case t.AverageSize < 1:
		return attrErr("average_size", "must be at least 1")
	case t.SizeVariation < 0 || t.SizeVariation >= t.AverageSize:
		return attrErr("size_variation", "must be 0 to average_size-1")
	case t.DelayUs < 0 || t.DelayUs > 10_000_000:
		return attrErr("delay_us", "must be 0-10000000")
	}
	return nil
}

// Apply slices the connection's data.
func (t Slicer) Apply(c net.Conn, env Env) net.Conn {
	return &slicerConn{faultConn: newFaultConn(c, env), t: t}
}

type slicerConn struct {
	faultConn
	t         Slicer
	readAgain bool // a piece was read: wait before the next
}

func (c *slicerConn) size() int {
	if c.t.SizeVariation == 0 {
		return c.t.AverageSize
	}
	return c.t.AverageSize - c.t.SizeVariation + int(c.env.Float64()*float64(2*c.t.SizeVariation+1))
}

func (c *slicerConn) pause() bool {
	return sleep(c.closed, c.env.Done, time.Duration(c.t.DelayUs)*time.Microsecond)
}

func (c *slicerConn) Read(p []byte) (int, error) {
	if c.env.Direction != Upstream || len(p) == 0 {
		return c.Conn.Read(p)
	}
	if c.readAgain && !c.pause() {
		return 0, c.closedErr()
	}
	c.readAgain = true
	return c.Conn.Read(p[:min(len(p), c.size())])
}

func (c *slicerConn) Write(p []byte) (int, error) {
	if c.env.Direction == Upstream {
		return c.Conn.Write(p)
	}
	n := 0
	for len(p) > 0 {
		k := min(len(p), c.size())
		m, err := c.Conn.Write(p[:k])
		n += m
		if err != nil {
			return n, err
		}
		if p = p[k:]; len(p) > 0 && !c.pause() {
			return n, c.closedErr()
		}
	}
	return n, nil
}
