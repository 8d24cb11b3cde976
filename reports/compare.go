package reports

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// CompareRow is one figure of two runs and their ratio B/A.
type CompareRow struct {
	Figure string
	Unit   string
	A, B   float64
}

// Ratio is B/A; NaN when A is zero (nothing to compare with).
func (c CompareRow) Ratio() float64 {
	if c.A == 0 {
		if c.B == 0 {
			return 1
		}
		return math.NaN()
	}
	return c.B / c.A
}

// Compare lines up two load runs figure by figure: totals, the
// non-Ping latency, then each command's count and latency (statuses
// merged per command are not comparable, so per (command, status)).
// Ratios rather than differences, so runs on noisy machines compare.
func Compare(a, b LoadRun) []CompareRow {
	rows := []CompareRow{
		{"duration", "s", a.DurationS, b.DurationS},
		{"devices arrived", "", float64(a.DevicesArrived), float64(b.DevicesArrived)},
		{"operations (non-Ping)", "", float64(a.Ops), float64(b.Ops)},
		{"throughput", "ops/s", round3(a.Throughput), round3(b.Throughput)},
		{"failed operations", "", float64(a.Failed), float64(b.Failed)},
		{"error rate", "%", round3(100 * a.ErrorRate), round3(100 * b.ErrorRate)},
		{"late", "", float64(a.Late), float64(b.Late)},
		{"dropped", "", float64(a.Dropped), float64(b.Dropped)},
	}
	rows = append(rows, latencyRows("all", a.All, b.All)...)
	type key struct{ cmd, status string }
	bs := map[key]CommandRow{}
	for _, c := range b.Commands {
		bs[key{c.Command, c.Status}] = c
	}
	seen := map[key]bool{}
	for _, c := range a.Commands {
		k := key{c.Command, c.Status}
		seen[k] = true
		rows = append(rows, CompareRow{c.Command + " " + c.Status + " count", "", float64(c.Count), float64(bs[k].Count)})
		rows = append(rows, latencyRows(c.Command+" "+c.Status, c.Latency, bs[k].Latency)...)
	}
	for _, c := range b.Commands {
		if k := (key{c.Command, c.Status}); !seen[k] {
			rows = append(rows, CompareRow{c.Command + " " + c.Status + " count", "", 0, float64(c.Count)})
		}
	}
	return rows
}

func latencyRows(what string, a, b Latency) []CompareRow {
	return []CompareRow{
		{what + " p50", "ms", a.P50, b.P50},
		{what + " p90", "ms", a.P90, b.P90},
		{what + " p99", "ms", a.P99, b.P99},
		{what + " p99.9", "ms", a.P999, b.P999},
		{what + " max", "ms", a.Max, b.Max},
	}
}

func ratioText(r float64) string {
	if math.IsNaN(r) {
		return "—"
	}
	return fmt.Sprintf("%.3f", r)
}

// WriteCompare prints the comparison as an aligned table, or as
// Markdown when markdown is set.
func WriteCompare(w io.Writer, a, b LoadRun, markdown bool) error {
	rows := Compare(a, b)
	if markdown {
		var s strings.Builder
		fmt.Fprintf(&s, "| figure | A: %s | B: %s | B/A |\n| --- | --- | --- | --- |\n", mdEscape(a.Name), mdEscape(b.Name))
		for _, r := range rows {
			fmt.Fprintf(&s, "| %s | %s | %s | %s |\n", r.Figure, num(r.A, r.Unit), num(r.B, r.Unit), ratioText(r.Ratio()))
		}
		_, err := io.WriteString(w, s.String())
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "figure\tA: %s\tB: %s\tB/A\t\n", a.Name, b.Name)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", r.Figure, num(r.A, r.Unit), num(r.B, r.Unit), ratioText(r.Ratio()))
	}
	return tw.Flush()
}

func num(v float64, unit string) string {
	s := fmt.Sprintf("%.3f", v)
	if v == math.Trunc(v) && unit != "ms" {
		s = fmt.Sprintf("%.0f", v)
	}
	if unit != "" {
		s += " " + unit
	}
	return s
}

// LoadRunFile reads one loadgen results file as a LoadRun (for compare).
func LoadRunFile(path string) (LoadRun, error) {
	in, err := Load(path)
	if err != nil {
		return LoadRun{}, err
	}
	if len(in.Loads) != 1 {
		return LoadRun{}, fmt.Errorf("reports: %s: not loadgen results", path)
	}
	return buildLoad(in.Loads[0], nil)
}
