package reports

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/gatehouse-lab/gatehouse/loadgen"
)

// Wire sets what the load generator counted on its own sockets beside
// the gateway's d-bytes-rcvd, d-bytes-sent and d-connection from its
// statistics CSVs (wireOf; issue 22: the two agree within 1 %).
type Wire struct {
	Client loadgen.WireCounts
	// Source is the statistics CSV the gateway figures come from;
	// "" when none was given (the gateway columns are then empty).
	Source                                    string
	GatewayRcvd, GatewaySent, GatewayConnects float64
}

// WireLine is one row of the comparison.
type WireLine struct {
	What            string
	Client, Gateway float64
	HasGateway      bool
	DiffPct         float64 // (gateway - client) / client, in percent
	Key             string
}

// Lines lists the comparison: bytes the fleet sent against the gateway's
// d-bytes-rcvd, bytes it received against d-bytes-sent, its connections
// per device against d-connection, and its TCP connections.
func (w *Wire) Lines() []WireLine {
	out := []WireLine{
		{What: "bytes device → gateway", Client: float64(w.Client.BytesSent), Gateway: w.GatewayRcvd, Key: "d-bytes-rcvd"},
		{What: "bytes gateway → device", Client: float64(w.Client.BytesRcvd), Gateway: w.GatewaySent, Key: "d-bytes-sent"},
		{What: "connections (per device)", Client: float64(w.Client.DeviceConnections), Gateway: w.GatewayConnects, Key: "d-connection"},
		{What: "TCP connections", Client: float64(w.Client.Connections)},
	}
	for i := range out {
		l := &out[i]
		l.HasGateway = w.Source != "" && l.Key != ""
		if l.HasGateway && l.Client > 0 {
			l.DiffPct = 100 * (l.Gateway - l.Client) / l.Client
		}
	}
	return out
}

// wireOf builds a run's Wire from its results and the gateway's
// statistics taken after it started: the last row of a global-stats.csv
// (its sums also hold the bytes of connections no device's request
// named), else the sum of the latest all-device-stats.csv.
func wireOf(run LoadRun, c *loadgen.WireCounts, globals []*GlobalStats, devices []*DeviceStats) *Wire {
	if c == nil {
		return nil
	}
	w := &Wire{Client: *c}
	since := run.Started.Truncate(time.Second)
	for _, g := range globals {
		if n := len(g.Rows); n > 0 && !g.Rows[n-1].Time.Before(since) {
			v := g.Rows[n-1].Values
			w.Source, w.GatewayRcvd, w.GatewaySent, w.GatewayConnects = filepath.Base(g.Path), v["d-bytes-rcvd"], v["d-bytes-sent"], v["d-connection"]
			return w
		}
	}
	var pick *DeviceStats
	for _, d := range devices {
		if !d.Time.Before(since) && (pick == nil || d.Time.After(pick.Time)) {
			pick = d
		}
	}
	if pick == nil {
		return w
	}
	w.Source = filepath.Base(pick.Path)
	for _, row := range pick.Devices {
		w.GatewayRcvd += row.Values["d-bytes-rcvd"]
		w.GatewaySent += row.Values["d-bytes-sent"]
		w.GatewayConnects += row.Values["d-connection"]
	}
	return w
}

// markdown is the comparison as a Markdown table.
func (w *Wire) markdown() string {
	var b strings.Builder
	b.WriteString("| on the wire | loadgen counted | gateway counted | difference |\n| --- | --- | --- | --- |\n")
	for _, l := range w.Lines() {
		gw, diff := "—", "—"
		if l.HasGateway {
			gw, diff = fmt.Sprintf("%.0f (`%s`)", l.Gateway, l.Key), fmt.Sprintf("%+.2f %%", l.DiffPct)
		}
		fmt.Fprintf(&b, "| %s | %.0f | %s | %s |\n", l.What, l.Client, gw, diff)
	}
	return b.String()
}
