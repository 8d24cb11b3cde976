package framework

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse-lab/gatehouse/reports"
)

// Markers around the label table and the coverage figure that go generate
// rewrites in docs/conformance.md.
const (
	LabelTableBegin = "<!-- label table: generated from scenarios/framework/labelinfo.go and the spec list by go generate ./scenarios/...; do not edit -->"
	LabelTableEnd   = "<!-- end of the generated label table -->"
	CoverageBegin   = "<!-- coverage: generated from the spec list and docs/spec/implemented.yaml by go generate ./scenarios/...; do not edit -->"
	CoverageEnd     = "<!-- end of the generated coverage -->"
)

// UndescribedLabels are the labels of specs that LabelTable lacks.
func UndescribedLabels(specs []ListedSpec) []string {
	var out []string
	for _, s := range specs {
		for _, l := range s.Labels {
			if _, ok := LookupLabel(l); !ok && !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	slices.Sort(out)
	return out
}

// LabelDocTable is the Markdown table of the labels: what each selects,
// whether its specs check decisions (the negative control), how many
// specs carry it and what another gateway must implement to run them.
func LabelDocTable(specs []ListedSpec) string {
	count := map[string]int{}
	for _, s := range specs {
		for _, l := range s.Labels {
			count[l]++
		}
	}
	var b strings.Builder
	b.WriteString("| label | meaning | decisions | specs | what another gateway must implement |\n| --- | --- | --- | --- | --- |\n")
	for _, l := range LabelTable {
		decision := ""
		if l.Decision {
			decision = "yes"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %d | %s |\n", l.Name, mdCell(l.Meaning), decision, count[l.Name], mdCell(l.Requires))
	}
	fmt.Fprintf(&b, "| `id:<ID>` | a checklist item the spec checks (`framework.IDs`) | | %d | — |\n", countWithIDs(specs))
	return b.String()
}

func countWithIDs(specs []ListedSpec) int {
	n := 0
	for _, s := range specs {
		if len(s.IDs) > 0 {
			n++
		}
	}
	return n
}

// CitedItems are the checklist items the specs cite, sorted.
func CitedItems(specs []ListedSpec) []string {
	var out []string
	for _, s := range specs {
		for _, id := range s.IDs {
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	slices.Sort(out)
	return out
}

// CoverageSummary is the spec count and the coverage figure in prose.
func CoverageSummary(specs []ListedSpec) string {
	cited := CitedItems(specs)
	c := reports.CoverageOf(cited)
	decision := 0
	for _, s := range specs {
		if IsDecisionSpec(s.Labels) {
			decision++
		}
	}
	return fmt.Sprintf("%d specs (%d of them decision specs) cite %d of the %d checklist items. Coverage figure: they cite %s; "+
		"docs/spec/implemented.yaml, %d items out of scope.", len(specs), decision, len(cited), len(reports.Checklist()), c, c.OutOfScope)
}

// ReplaceBlock puts content between the markers begin and end of doc.
func ReplaceBlock(doc, begin, end, content string) (string, error) {
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i < 0 || j < i {
		return "", errors.New("the document lacks the markers " + begin + " ... " + end)
	}
	return doc[:i+len(begin)] + "\n\n" + content + "\n" + doc[j:], nil
}

// wrapWords lays words out in lines of at most width characters (longer
// words alone), each opened by prefix.
func wrapWords(prefix string, words []string, width int) string {
	var b strings.Builder
	line := prefix
	for _, id := range words {
		if len(line)+1+len(id) > width && line != prefix {
			b.WriteString(line + "\n")
			line = prefix
		}
		if line != prefix {
			line += " "
		}
		line += id
	}
	if line != prefix {
		b.WriteString(line + "\n")
	}
	return b.String()
}
