package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gatehouse-lab/gatehouse/chaos"
)

// splitChaos separates chaos results (gatehouse chaos run --json, told by
// their "kind") from the files the reports package reads.
func splitChaos(files []string) (results []chaos.Result, names, rest []string, err error) {
	for _, f := range files {
		b, rerr := os.ReadFile(f)
		if rerr != nil {
			return nil, nil, nil, fmt.Errorf("report: %w", rerr)
		}
		var probe struct {
			Kind string `json:"kind"`
		}
		if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' && json.Unmarshal(t, &probe) == nil && probe.Kind == chaos.ResultKind {
			var r chaos.Result
			if err := json.Unmarshal(t, &r); err != nil {
				return nil, nil, nil, fmt.Errorf("report: %s: chaos result: %w", f, err)
			}
			results, names = append(results, r), append(names, f)
			continue
		}
		rest = append(rest, f)
	}
	return results, names, rest, nil
}

// chaosSummary is the Markdown summary of chaos results: one row per
// file and the findings, each with its seed and step.
func chaosSummary(results []chaos.Result, names []string) string {
	var b strings.Builder
	b.WriteString("# Chaos campaigns\n\n")
	b.WriteString("| result | mode | schedules | steps | faults injected | wrong allows | wrong blocks | lost states | wipes twice | stale policies | world errors | seconds |\n")
	b.WriteString("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	var all chaos.Totals
	for i, r := range results {
		t := r.Totals
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d | %d | %d | %d | %d | %d | %.0f |\n", filepath.Base(names[i]), r.Mode,
			t.Schedules, t.Steps, t.Faults, t.WrongAllows, t.WrongBlocks, t.LostStates, t.DoubleWipes, t.StalePolicy, t.Errors, r.Seconds)
		all.Schedules += t.Schedules
		all.Steps += t.Steps
		all.Faults += t.Faults
		all.WrongAllows += t.WrongAllows
		all.WrongBlocks += t.WrongBlocks
		all.LostStates += t.LostStates
		all.DoubleWipes += t.DoubleWipes
		all.StalePolicy += t.StalePolicy
		all.Errors += t.Errors
	}
	if len(results) > 1 {
		fmt.Fprintf(&b, "| **all** | | %d | %d | %d | %d | %d | %d | %d | %d | %d | |\n", all.Schedules, all.Steps, all.Faults,
			all.WrongAllows, all.WrongBlocks, all.LostStates, all.DoubleWipes, all.StalePolicy, all.Errors)
	}
	var findings []chaos.Finding
	for _, r := range results {
		for _, f := range r.Failures {
			findings = append(findings, f.Findings...)
		}
	}
	if len(findings) > 0 {
		b.WriteString("\n## Findings\n\n")
		for _, f := range findings {
			fmt.Fprintf(&b, "- `%s` seed %d step %d (%s %s): %s\n", f.Kind, f.Seed, f.Step, f.Op, f.Device, f.Detail)
		}
	}
	for _, r := range results {
		for _, s := range r.Shrunk {
			fmt.Fprintf(&b, "- seed %d shrunk to %d steps (from %d, %d runs): %s\n", s.Seed, s.Steps, s.From, s.Runs, s.Kind)
		}
	}
	return b.String()
}

// writeChaosSummary prints the summary and writes it as DIR/chaos.md.
func writeChaosSummary(w io.Writer, results []chaos.Result, names []string, dir string) error {
	md := chaosSummary(results, names)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(dir, "chaos.md")
	if err := os.WriteFile(path, []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Fprint(w, md)
	fmt.Fprintln(w, path)
	return nil
}

// chaosFailed: a chaos result found something.
func chaosFailed(results []chaos.Result) bool {
	for _, r := range results {
		if r.Totals.Failing > 0 {
			return true
		}
	}
	return false
}
