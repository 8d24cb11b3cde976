package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gatehouse-lab/gatehouse/scenarios/mutation"
)

// splitMutationResults separates mutation results files (gatehouse
// mutants run --json) from the report's other inputs, by content.
func splitMutationResults(files []string) (scores, rest []string, err error) {
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("report: %w", err)
		}
		if mutation.IsResults(b) {
			scores = append(scores, f)
		} else {
			rest = append(rest, f)
		}
	}
	return scores, rest, nil
}

// writeMutationScore prints the mutation score of the results files and
// writes it to dir/mutation-score.md (and under summary.md's end when
// the report wrote one). It reports whether a mutant survived without a
// reason or could not be tried.
func writeMutationScore(w io.Writer, files []string, dir string) (unexplained bool, err error) {
	runs, err := mutation.LoadResults(files...)
	if err != nil {
		return false, err
	}
	var b strings.Builder
	if err := mutation.WriteMarkdown(&b, runs); err != nil {
		return false, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	path := filepath.Join(dir, "mutation-score.md")
	if err := os.WriteFile(path, []byte("# Mutation score\n\n"+b.String()), 0o644); err != nil {
		return false, err
	}
	if summary := filepath.Join(dir, "summary.md"); fileExists(summary) {
		f, err := os.OpenFile(summary, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return false, err
		}
		_, err = fmt.Fprintf(f, "\n## Mutation score\n\n%s", b.String())
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return false, err
		}
	}
	for _, s := range mutation.Scores(runs) {
		fmt.Fprintf(w, "mutation score %s: %d/%d caught (%.0f %%)\n", s.Mode, s.Caught, s.Total(), s.Percent())
	}
	fmt.Fprintln(w, path)
	for _, r := range runs {
		unexplained = unexplained || r.Unexpected()
	}
	return unexplained, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
