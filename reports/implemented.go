package reports

//go:generate go run ./internal/genimpl -in ../docs/spec/implemented.yaml -out implemented_gen.go

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// Implementation statuses of a checklist section (docs/spec/implemented.yaml).
const (
	StatusImplemented = "implemented"  // every item but its exceptions
	StatusPartial     = "partial"      // only the items listed
	StatusNone        = "none"         // not built
	StatusOutOfScope  = "out-of-scope" // not a gateway behaviour; counted nowhere
)

// ImplementedSection says how much of one checklist section the code
// implements.
type ImplementedSection struct {
	Section string   `yaml:"section"` // the items' prefix: FLOW, DC, ...
	Status  string   `yaml:"status"`
	Items   []string `yaml:"items,omitempty"`  // partial: the implemented items
	Except  []string `yaml:"except,omitempty"` // implemented: the items that are not
	Why     string   `yaml:"why,omitempty"`
}

type implementedFile struct {
	Sections []ImplementedSection `yaml:"sections"`
}

var loadImplemented = sync.OnceValues(func() ([]ImplementedSection, error) {
	return parseImplemented([]byte(implementedYAML))
})

// Implemented returns the sections of docs/spec/implemented.yaml, checked
// against the checklist.
func Implemented() ([]ImplementedSection, error) {
	s, err := loadImplemented()
	return slices.Clone(s), err
}

// ImplementedItems returns the IDs of the checklist items the code
// implements, in the checklist's order, and how many are out of scope.
func ImplementedItems() (ids []string, outOfScope int) {
	secs, err := loadImplemented()
	if err != nil { // TestImplementedMatchesChecklist keeps the embedded file valid
		return nil, 0
	}
	by := map[string]ImplementedSection{}
	for _, s := range secs {
		by[s.Section] = s
	}
	for _, it := range checklist {
		s := by[itemSection(it.ID)]
		switch s.Status {
		case StatusImplemented:
			if !slices.Contains(s.Except, it.ID) {
				ids = append(ids, it.ID)
			}
		case StatusPartial:
			if slices.Contains(s.Items, it.ID) {
				ids = append(ids, it.ID)
			}
		case StatusOutOfScope:
			outOfScope++
		}
	}
	return ids, outOfScope
}

// itemSection is an item's section prefix: "FLOW" for "FLOW-01".
func itemSection(id string) string {
	p, _, _ := strings.Cut(id, "-")
	return p
}

// parseImplemented decodes the file strictly and checks it against the
// checklist: every section once, known statuses, the items listed in the
// checklist and in their own section, and no checklist section left out.
func parseImplemented(b []byte) ([]ImplementedSection, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var f implementedFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("implemented.yaml: %w", err)
	}
	known := map[string]bool{}
	for _, it := range checklist {
		known[itemSection(it.ID)] = true
	}
	var errs []error
	seen := map[string]bool{}
	for _, s := range f.Sections {
		if !known[s.Section] {
			errs = append(errs, fmt.Errorf("section %q is not a prefix of the checklist's items", s.Section))
		}
		if seen[s.Section] {
			errs = append(errs, fmt.Errorf("section %s given twice", s.Section))
		}
		seen[s.Section] = true
		switch s.Status {
		case StatusImplemented:
			if len(s.Items) > 0 {
				errs = append(errs, fmt.Errorf("section %s: an implemented section lists exceptions (except), not items", s.Section))
			}
		case StatusPartial:
			if len(s.Items) == 0 || len(s.Except) > 0 {
				errs = append(errs, fmt.Errorf("section %s: a partial section lists its implemented items (items), and no exceptions", s.Section))
			}
		case StatusNone, StatusOutOfScope:
			if len(s.Items)+len(s.Except) > 0 {
				errs = append(errs, fmt.Errorf("section %s: status %s lists no items", s.Section, s.Status))
			}
		default:
			errs = append(errs, fmt.Errorf("section %s: status %q is not implemented, partial, none or out-of-scope", s.Section, s.Status))
		}
		if s.Status != StatusImplemented && s.Why == "" {
			errs = append(errs, fmt.Errorf("section %s: say why (why) it is %s", s.Section, s.Status))
		}
		for _, id := range append(slices.Clone(s.Items), s.Except...) {
			if _, ok := LookupItem(id); !ok {
				errs = append(errs, fmt.Errorf("section %s: %s is not a checklist item", s.Section, id))
			} else if itemSection(id) != s.Section {
				errs = append(errs, fmt.Errorf("section %s: %s belongs to section %s", s.Section, id, itemSection(id)))
			}
		}
	}
	for _, it := range checklist {
		if p := itemSection(it.ID); !seen[p] {
			errs = append(errs, fmt.Errorf("checklist section %s (%s) is missing", p, it.Section))
			seen[p] = true
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("implemented.yaml: %w", err)
	}
	return f.Sections, nil
}

// CodeCoverage is the coverage figure: of the checklist items the code
// implements, how many a conformance spec cites.
type CodeCoverage struct {
	Implemented int      // items the code implements
	OutOfScope  int      // items counted nowhere
	Cited       []string // implemented items some spec cites
	NotCited    []string // implemented items no spec cites
	Elsewhere   []string // items some spec cites that are not implemented (or out of scope)
}

// Share is the fraction of the implemented items that specs cite.
func (c CodeCoverage) Share() float64 {
	if c.Implemented == 0 {
		return 0
	}
	return float64(len(c.Cited)) / float64(c.Implemented)
}

// String is the figure in one line.
func (c CodeCoverage) String() string {
	return fmt.Sprintf("%d of the %d checklist items the code implements (%.1f%%)", len(c.Cited), c.Implemented, 100*c.Share())
}

// CoverageOf computes the figure for the items the specs cite.
func CoverageOf(cited []string) CodeCoverage {
	impl, out := ImplementedItems()
	c := CodeCoverage{Implemented: len(impl), OutOfScope: out}
	set := map[string]bool{}
	for _, id := range cited {
		set[id] = true
	}
	for _, id := range impl {
		if set[id] {
			c.Cited = append(c.Cited, id)
			delete(set, id)
		} else {
			c.NotCited = append(c.NotCited, id)
		}
	}
	c.Elsewhere = sortedSet(set)
	return c
}
