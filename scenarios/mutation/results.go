package mutation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// Mode is how the suite meets the mutant gateway.
type Mode string

const (
	// InProcess runs the suite on the mutant tree: every world starts the
	// mutant gateway in the suite's process (a subprocess for kill -9).
	InProcess Mode = "in-process"
	// BlackBox builds the mutant gatehouse binary and runs the unmutated
	// suite against it in conformance mode, as an external gateway.
	BlackBox Mode = "black-box"
)

// Outcome is what became of one mutant in one mode.
type Outcome string

const (
	Caught   Outcome = "caught"
	Survived Outcome = "survived"
	// Errored: the mutant could not be tried (the patch no longer
	// applies, the mutant does not build, the suite could not run).
	Errored Outcome = "error"
)

// ResultsKind marks a results file, so that gatehouse report can tell it
// from its other inputs.
const ResultsKind = "gatehouse-mutation-results"

// Results is one run of the runner: a results file (--json).
type Results struct {
	Kind        string    `json:"kind"`
	Commit      string    `json:"commit,omitempty"`
	Started     time.Time `json:"started"`
	LabelFilter string    `json:"label_filter"`
	Runs        []Result  `json:"runs"`
}

// Result is one mutant tried in one mode.
type Result struct {
	Mutant string   `json:"mutant"`
	File   string   `json:"file"`
	Defect string   `json:"defect"`
	Breaks []string `json:"breaks,omitempty"`
	// Expected is the patch's reason why it survives, if it gives one.
	Expected string  `json:"expected_survivor,omitempty"`
	Mode     Mode    `json:"mode"`
	Outcome  Outcome `json:"outcome"`
	// Spec is the first spec that failed; Pass says whether it ran among
	// the mutant's own items first ("targeted") or in the whole suite.
	Spec    string `json:"spec,omitempty"`
	Pass    string `json:"pass,omitempty"`
	Failure string `json:"failure,omitempty"` // the start of its failure message
	// Flaky lists specs that failed, then passed when run alone: not
	// counted as catching the mutant (docs/conformance.md).
	Flaky   []string `json:"flaky,omitempty"`
	Error   string   `json:"error,omitempty"`
	Seconds float64  `json:"seconds"`
}

// Unexpected reports a result that fails a run: a survivor whose patch
// gives no reason, or a mutant that could not be tried.
func (r Result) Unexpected() bool {
	return r.Outcome == Errored || (r.Outcome == Survived && r.Expected == "")
}

// ModeScore is the score of one mode.
type ModeScore struct {
	Mode                    Mode
	Caught, Survived, Error int
}

// Total is the mutants tried (caught or survived).
func (s ModeScore) Total() int { return s.Caught + s.Survived }

// Percent is the caught share of those tried.
func (s ModeScore) Percent() float64 {
	if s.Total() == 0 {
		return 0
	}
	return 100 * float64(s.Caught) / float64(s.Total())
}

// Scores returns the score of each mode present, in-process first.
func Scores(runs []Result) []ModeScore {
	var out []ModeScore
	for _, mode := range []Mode{InProcess, BlackBox} {
		s := ModeScore{Mode: mode}
		for _, r := range runs {
			if r.Mode != mode {
				continue
			}
			switch r.Outcome {
			case Caught:
				s.Caught++
			case Survived:
				s.Survived++
			default:
				s.Error++
			}
		}
		if s.Total()+s.Error > 0 {
			out = append(out, s)
		}
	}
	return out
}

// IsResults reports whether b is a results file.
func IsResults(b []byte) bool {
	var probe struct {
		Kind string `json:"kind"`
	}
	return bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) && json.Unmarshal(b, &probe) == nil && probe.Kind == ResultsKind
}

// LoadResults reads results files and returns their runs, in order.
func LoadResults(paths ...string) ([]Result, error) {
	var runs []Result
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("mutation: %w", err)
		}
		var r Results
		if err := json.Unmarshal(b, &r); err != nil || r.Kind != ResultsKind {
			return nil, fmt.Errorf("mutation: %s is not a mutation results file (%v)", p, err)
		}
		runs = append(runs, r.Runs...)
	}
	return runs, nil
}

// WriteFile writes r as JSON, whole, replacing path.
func (r *Results) WriteFile(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// WriteMarkdown writes the score of runs for pasting: the score of each
// mode, a table with a row per mutant and a column per mode (the first
// catching spec, or why it survives), then the survivors.
func WriteMarkdown(w io.Writer, runs []Result) error {
	scores := Scores(runs)
	var b strings.Builder
	b.WriteString("Mutation score:")
	for i, s := range scores {
		sep := ";"
		if i == 0 {
			sep = ""
		}
		fmt.Fprintf(&b, "%s %s %d/%d caught (%.0f %%)", sep, s.Mode, s.Caught, s.Total(), s.Percent())
		if s.Error > 0 {
			fmt.Fprintf(&b, ", %d could not be tried", s.Error)
		}
	}
	b.WriteString("\n\n| mutant | defect |")
	for _, s := range scores {
		fmt.Fprintf(&b, " %s |", s.Mode)
	}
	b.WriteString("\n| --- | --- |" + strings.Repeat(" --- |", len(scores)) + "\n")
	for _, name := range mutantOrder(runs) {
		first := runs[slices.IndexFunc(runs, func(r Result) bool { return r.Mutant == name })]
		fmt.Fprintf(&b, "| %s | %s |", name, cell(first.Defect))
		for _, s := range scores {
			i := slices.IndexFunc(runs, func(r Result) bool { return r.Mutant == name && r.Mode == s.Mode })
			if i < 0 {
				b.WriteString(" — |")
				continue
			}
			fmt.Fprintf(&b, " %s |", cell(outcomeText(runs[i])))
		}
		b.WriteString("\n")
	}
	writeSurvivors(&b, runs)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeSurvivors lists the mutants not caught, one line each, with the
// modes, the items they break and why (one line per mode when the
// reasons differ).
func writeSurvivors(b *strings.Builder, runs []Result) {
	header := false
	for _, name := range mutantOrder(runs) {
		var modes, whys []string
		var items []string
		for _, r := range runs {
			if r.Mutant != name || r.Outcome == Caught {
				continue
			}
			items = r.Breaks
			modes, whys = append(modes, string(r.Mode)), append(whys, survivalReason(r))
		}
		if len(modes) == 0 {
			continue
		}
		if !header {
			b.WriteString("\nNot caught:\n\n")
			header = true
		}
		its := ""
		if len(items) > 0 {
			its = " (" + strings.Join(items, ", ") + ")"
		}
		if len(slices.Compact(slices.Clone(whys))) == 1 {
			fmt.Fprintf(b, "- %s, %s%s: %s\n", name, strings.Join(modes, " and "), its, whys[0])
			continue
		}
		for i := range modes {
			fmt.Fprintf(b, "- %s, %s%s: %s\n", name, modes[i], its, whys[i])
		}
	}
}

// survivalReason is why r was not caught.
func survivalReason(r Result) string {
	switch {
	case r.Outcome == Errored:
		return "could not be tried: " + r.Error
	case r.Expected == "":
		return "no reason given: a spec is missing"
	}
	return r.Expected
}

func outcomeText(r Result) string {
	switch r.Outcome {
	case Caught:
		if r.Expected != "" {
			return "caught by “" + r.Spec + "” (its patch says it survives: drop that line)"
		}
		return "caught by “" + r.Spec + "”"
	case Survived:
		if r.Expected != "" {
			return "survived (expected)"
		}
		return "**survived**"
	}
	return "**error**"
}

// mutantOrder is the mutants of runs by patch file, each once.
func mutantOrder(runs []Result) []string {
	byFile := map[string]string{}
	for _, r := range runs {
		byFile[r.File] = r.Mutant
	}
	files := make([]string, 0, len(byFile))
	for f := range byFile {
		files = append(files, f)
	}
	slices.Sort(files)
	names := make([]string, 0, len(files))
	for _, f := range files {
		if !slices.Contains(names, byFile[f]) {
			names = append(names, byFile[f])
		}
	}
	return names
}

// cell makes s safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\n", " "), "|", `\|`)
	return strings.TrimSpace(s)
}
