package reports

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/gatehouse-lab/gatehouse/loadgen"
)

// Kind is what an input file holds, detected from its content.
type Kind string

// The input kinds.
const (
	KindGinkgo      Kind = "ginkgo-json"
	KindLoadgen     Kind = "loadgen-results"
	KindGlobalStats Kind = "global-stats-csv"
	KindDeviceStats Kind = "device-stats-csv"
)

// Inputs are the parsed input files, each kept with the path it came from.
type Inputs struct {
	Suites  []SuiteInput
	Loads   []LoadInput
	Globals []*GlobalStats
	Devices []*DeviceStats
}

// SuiteInput is one Ginkgo JSON report (one suite run).
type SuiteInput struct {
	Path   string
	Report types.Report
}

// LoadInput is one loadgen results file.
type LoadInput struct {
	Path    string
	Results *loadgen.Results
}

// Load reads and classifies every file; a file that is none of the
// known kinds is an error naming it.
func Load(paths ...string) (*Inputs, error) {
	in := &Inputs{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reports: %w", err)
		}
		if err := in.add(p, b); err != nil {
			return nil, err
		}
	}
	return in, nil
}

func (in *Inputs) add(path string, b []byte) error {
	kind, err := Detect(b)
	if err != nil {
		return fmt.Errorf("reports: %s: %w", path, err)
	}
	switch kind {
	case KindGinkgo:
		var rs []types.Report
		if err := json.Unmarshal(b, &rs); err != nil {
			return fmt.Errorf("reports: %s: Ginkgo JSON report: %w", path, err)
		}
		for _, r := range rs {
			in.Suites = append(in.Suites, SuiteInput{Path: path, Report: r})
		}
	case KindLoadgen:
		var r loadgen.Results
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("reports: %s: loadgen results: %w", path, err)
		}
		in.Loads = append(in.Loads, LoadInput{Path: path, Results: &r})
	case KindGlobalStats:
		g, err := parseGlobalStats(path, b)
		if err != nil {
			return err
		}
		in.Globals = append(in.Globals, g)
	case KindDeviceStats:
		d, err := parseDeviceStats(path, b)
		if err != nil {
			return err
		}
		in.Devices = append(in.Devices, d)
	}
	return nil
}

// Detect tells the kind of a file from its content (not its name).
func Detect(b []byte) (Kind, error) {
	t := bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
	if len(t) == 0 {
		return "", fmt.Errorf("empty file: not a Ginkgo JSON report, loadgen results or gateway statistics CSV")
	}
	switch t[0] {
	case '[':
		var probe []map[string]json.RawMessage
		if err := json.Unmarshal(t, &probe); err != nil {
			return "", fmt.Errorf("a JSON array but not a Ginkgo JSON report: %w", err)
		}
		if len(probe) == 0 {
			return "", fmt.Errorf("an empty JSON array, not a Ginkgo JSON report")
		}
		for i, r := range probe {
			if _, ok := r["SpecReports"]; !ok {
				return "", fmt.Errorf("JSON array element %d has no SpecReports: not a Ginkgo JSON report", i)
			}
		}
		return KindGinkgo, nil
	case '{':
		var probe struct {
			Format string `json:"format"`
		}
		if err := json.Unmarshal(t, &probe); err != nil {
			return "", fmt.Errorf("a JSON object but not loadgen results: %w", err)
		}
		if !strings.HasPrefix(probe.Format, "gatehouse-loadgen/") {
			return "", fmt.Errorf("a JSON object without format gatehouse-loadgen/N (format %q): not loadgen results", probe.Format)
		}
		if probe.Format != loadgen.ResultsFormat {
			return "", fmt.Errorf("loadgen results of format %q; this build reads %q", probe.Format, loadgen.ResultsFormat)
		}
		return KindLoadgen, nil
	}
	head, err := csv.NewReader(bytes.NewReader(t)).Read()
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("not JSON, and not CSV either: %w", err)
	}
	if len(head) > 1 && head[0] == "time" && slices.Contains(head, "d-connection") {
		if slices.Contains(head, "device-id") {
			return KindDeviceStats, nil
		}
		return KindGlobalStats, nil
	}
	return "", fmt.Errorf("not a Ginkgo JSON report, loadgen results or gateway statistics CSV (global-stats.csv, all-device-stats.csv)")
}
