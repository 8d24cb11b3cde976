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

// LookupItem returns the checklist item with this ID.
func LookupItem(id string) (ChecklistItem, bool) {
	for _, it := range checklist {
		if it.ID == id {
			return it, true
		}
	}
	return ChecklistItem{}, false
}

// IDLabelKey is the Ginkgo label key that carries a spec's checklist
// items: a spec checking FO-01 has the label "id:FO-01" (a Ginkgo label
// set, selected with `--label-filter=id:FO-01` or
// `--label-filter='id: containsAny {FO-01, FO-02}'`).
const IDLabelKey = "id"

// IDLabel is the label naming checklist item id.
func IDLabel(id string) string { return IDLabelKey + ":" + id }

// LabelIDs returns the checklist items a spec's labels name, sorted and
// without duplicates.
func LabelIDs(labels []string) []string {
	seen := map[string]bool{}
	for _, l := range labels {
		if id, ok := labelID(l); ok {
			seen[id] = true
		}
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// labelID is the item a label names ("id:FO-01", any spacing Ginkgo
// accepts around the colon).
func labelID(label string) (string, bool) {
	k, v, ok := strings.Cut(label, ":")
	if !ok || strings.TrimSpace(k) != IDLabelKey {
		return "", false
	}
	return strings.TrimSpace(v), true
}

// idRE finds item IDs in spec text: "FLOW-01", and the shorthand
// "ACT-02/03" or "ACT-05/06/07" for several items of one section.
var idRE = regexp.MustCompile(`\b([A-Z]{2,5})-([0-9]{2,3})((?:/[0-9]{2,3})*)\b`)

// ItemIDs returns the checklist IDs a spec's text names, sorted and
// without duplicates: how specs named their items before they carried
// them as labels (LabelIDs), kept for result files written then.
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
