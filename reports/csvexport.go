package reports

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

func f64(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
func i64(v int64) string   { return strconv.FormatInt(v, 10) }

func writeCSV(w io.Writer, head []string, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(head); err != nil {
		return err
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

// WriteSpecsCSV writes one row per spec: suite, spec, state, features,
// checklist items, seconds and the failure's first line.
func (r *Report) WriteSpecsCSV(w io.Writer) error {
	var rows [][]string
	for _, s := range r.Suites {
		for _, sp := range s.Specs {
			msg := ""
			if sp.Failed() {
				msg = firstLine(sp.Failure.Message)
			}
			rows = append(rows, []string{s.Description, sp.Container, sp.Text, sp.State, strings.Join(sp.Features, " "),
				strings.Join(sp.IDs, " "), f64(round3(sp.RunTime.Seconds())), msg})
		}
	}
	return writeCSV(w, []string{"suite", "container", "spec", "state", "features", "items", "seconds", "failure"}, rows)
}

// WriteCoverageCSV writes one row per checklist item: whether a spec
// that ran names it, whether a passing one does, whether the code
// implements it (docs/spec/implemented.yaml) and whether any spec cites it.
func (r *Report) WriteCoverageCSV(w io.Writer) error {
	ran, passed := map[string]bool{}, map[string]bool{}
	for _, id := range r.Coverage.Ran {
		ran[id] = true
	}
	for _, id := range r.Coverage.Passed {
		passed[id] = true
	}
	impl, cited := map[string]bool{}, map[string]bool{}
	ids, _ := ImplementedItems()
	for _, id := range ids {
		impl[id] = true
	}
	for _, id := range r.Coverage.Cited {
		cited[id] = true
	}
	var rows [][]string
	for _, it := range checklist {
		rows = append(rows, []string{it.ID, it.Section, strconv.FormatBool(ran[it.ID]), strconv.FormatBool(passed[it.ID]),
			strconv.FormatBool(impl[it.ID]), strconv.FormatBool(cited[it.ID])})
	}
	return writeCSV(w, []string{"item", "section", "ran", "passed", "implemented", "cited"}, rows)
}

// WriteCommandsCSV writes one row per (run, command, status).
func (r *Report) WriteCommandsCSV(w io.Writer) error {
	var rows [][]string
	for _, l := range r.Loads {
		for _, c := range l.Commands {
			rows = append(rows, []string{l.Name, c.Command, c.Status, i64(c.Count), f64(c.P50), f64(c.P90), f64(c.P99), f64(c.P999), f64(c.Max), f64(c.Avg)})
		}
	}
	return writeCSV(w, []string{"run", "command", "status", "count", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms", "mean_ms"}, rows)
}

// WriteSeriesCSV writes each run's per-second time series.
func (r *Report) WriteSeriesCSV(w io.Writer) error {
	var rows [][]string
	for _, l := range r.Loads {
		for _, p := range l.Series {
			rows = append(rows, []string{l.Name, strconv.Itoa(p.T), i64(p.Ops), i64(p.Errors), f64(p.P50ms), f64(p.P99ms), i64(p.Pings), i64(p.Devices)})
		}
	}
	return writeCSV(w, []string{"run", "t", "ops", "errors", "p50_ms", "p99_ms", "pings", "devices"}, rows)
}

// WriteGatewayCSV writes the gateway's cache size and heap over each run.
func (r *Report) WriteGatewayCSV(w io.Writer) error {
	var rows [][]string
	for _, l := range r.Loads {
		if g := l.Gateway; g != nil {
			for i, t := range g.T {
				rows = append(rows, []string{l.Name, strconv.Itoa(t), f64(g.CacheSize[i]), f64(g.HeapMB[i])})
			}
		}
	}
	return writeCSV(w, []string{"run", "t", ColCacheSize, ColHeapMB}, rows)
}
