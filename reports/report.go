package reports

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// Report is everything the outputs show, built once from the inputs.
type Report struct {
	Title    string
	Suites   []Suite
	Coverage Coverage
	Loads    []LoadRun
	Devices  []DeviceSummary
}

// DeviceSummary is an all-device-stats.csv in short: how many devices
// and the busiest ones.
type DeviceSummary struct {
	Source  string
	Devices int
	Top     []DeviceRow // by d-http-requests, at most 10
}

// Build turns parsed inputs into a report.
func Build(in *Inputs) (*Report, error) {
	r := &Report{Title: "gatehouse report"}
	for _, s := range in.Suites {
		r.Suites = append(r.Suites, buildSuite(s))
	}
	r.Coverage = buildCoverage(r.Suites)
	for _, l := range in.Loads {
		run, err := buildLoad(l, in.Globals, in.Devices...)
		if err != nil {
			return nil, err
		}
		r.Loads = append(r.Loads, run)
	}
	for _, d := range in.Devices {
		s := DeviceSummary{Source: filepath.Base(d.Path), Devices: len(d.Devices)}
		top := append([]DeviceRow(nil), d.Devices...)
		sort.SliceStable(top, func(i, j int) bool { return top[i].Values["d-http-requests"] > top[j].Values["d-http-requests"] })
		s.Top = top[:min(10, len(top))]
		r.Devices = append(r.Devices, s)
	}
	return r, nil
}

// Failed reports whether any spec failed or any load run broke a threshold.
func (r *Report) Failed() bool {
	for _, s := range r.Suites {
		if s.Failed > 0 {
			return true
		}
	}
	for _, l := range r.Loads {
		if len(l.Breaches) > 0 {
			return true
		}
	}
	return false
}

// Output file names written by WriteDir.
const (
	FileHTML        = "report.html"
	FileJUnit       = "junit.xml"
	FileMarkdown    = "summary.md"
	FileSpecsCSV    = "specs.csv"
	FileCommandsCSV = "load-commands.csv"
	FileSeriesCSV   = "load-series.csv"
	FileCoverageCSV = "checklist-coverage.csv"
	FileGatewayCSV  = "gateway-series.csv"
)

// WriteDir writes every output into dir and returns their paths.
func (r *Report) WriteDir(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	outs := []struct {
		name  string
		write func(io.Writer) error
	}{
		{FileHTML, r.WriteHTML},
		{FileJUnit, r.WriteJUnit},
		{FileMarkdown, r.WriteMarkdown},
		{FileSpecsCSV, r.WriteSpecsCSV},
		{FileCoverageCSV, r.WriteCoverageCSV},
		{FileCommandsCSV, r.WriteCommandsCSV},
		{FileSeriesCSV, r.WriteSeriesCSV},
		{FileGatewayCSV, r.WriteGatewayCSV},
	}
	var paths []string
	for _, o := range outs {
		var b bytes.Buffer
		if err := o.write(&b); err != nil {
			return nil, fmt.Errorf("reports: %s: %w", o.name, err)
		}
		p := filepath.Join(dir, o.name)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			return nil, fmt.Errorf("reports: %w", err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}
