package reports

//go:generate go run ./internal/gencheck -in ../docs/spec/SPEC-CHECKLIST.md -out checklist_gen.go

import (
	"regexp"
	"sort"
	"strings"
)

// ChecklistItem is one numbered item of SPEC-CHECKLIST.md.
type ChecklistItem struct {
	ID, Section, Title string
}

// Checklist returns every checklist item, in the checklist's order.
func Checklist() []ChecklistItem { return append([]ChecklistItem(nil), checklist...) }

// idRE finds item IDs in spec text: "FLOW-01", and the shorthand
// "ACT-02/03" or "ACT-05/06/07" for several items of one section.
var idRE = regexp.MustCompile(`\b([A-Z]{2,5})-([0-9]{2,3})((?:/[0-9]{2,3})*)\b`)

// ItemIDs returns the checklist IDs a spec's text names, sorted and
// without duplicates.
func ItemIDs(text string) []string {
	seen := map[string]bool{}
	for _, m := range idRE.FindAllStringSubmatch(text, -1) {
		seen[m[1]+"-"+m[2]] = true
		for _, n := range strings.Split(m[3], "/") {
			if n != "" {
				seen[m[1]+"-"+n] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
