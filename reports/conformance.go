package reports

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/gatehouse-lab/gatehouse/internal/roundtrip"
)

// Labels that say how a spec runs rather than what it covers
// (scenarios/framework/labels.go); every other label is a feature.
var metaLabels = []string{"conformance", "disruptive", "introspection", "slow"}

// Suite is one conformance suite run.
type Suite struct {
	Source      string
	Description string
	Succeeded   bool
	Start       time.Time
	RunTime     time.Duration
	LabelFilter string
	Specs       []Spec
	Features    []string // feature labels of its specs, sorted
	Passed      int
	Failed      int
	Skipped     int // skipped by the spec itself (Skip), or pending
	Unselected  int // left out by the label filter or focus
}

// StateUnselected is the state of a spec the run's label filter or focus
// left out (Ginkgo reports it as skipped, with no message).
const StateUnselected = "unselected"

// Spec is one It of a suite.
type Spec struct {
	Container string // the Describe/Context texts, joined with " / "
	Text      string
	State     string // passed, failed, skipped, pending, panicked, ..., or unselected
	Labels    []string
	Features  []string
	IDs       []string // checklist items it checks (its id: labels)
	RunTime   time.Duration
	Failure   *Failure
}

// Name is the spec's full text.
func (s Spec) Name() string {
	if s.Container == "" {
		return s.Text
	}
	return s.Container + " / " + s.Text
}

// Has reports whether the spec carries feature label f.
func (s Spec) Has(f string) bool { return slices.Contains(s.Features, f) }

// Failed reports whether the spec failed in any way.
func (s Spec) Failed() bool { return s.Failure != nil }

// Failure is what a failed spec left: the message, where, and the
// devices' recorded round trips when the framework attached them
// (scenarios/framework/roundtrips.go).
type Failure struct {
	Message    string
	Location   string
	Node       string
	RoundTrips []roundtrip.DeviceLog
}

func buildSuite(in SuiteInput) Suite {
	r := in.Report
	s := Suite{Source: filepath.Base(in.Path), Description: r.SuiteDescription, Succeeded: r.SuiteSucceeded,
		Start: r.StartTime.UTC(), RunTime: r.RunTime, LabelFilter: r.SuiteConfig.LabelFilter}
	features := map[string]bool{}
	for _, sr := range r.SpecReports {
		if sr.LeafNodeType != types.NodeTypeIt {
			continue
		}
		sp := Spec{Container: strings.Join(sr.ContainerHierarchyTexts, " / "), Text: sr.LeafNodeText,
			State: sr.State.String(), Labels: sr.Labels(), IDs: specIDs(sr), RunTime: sr.RunTime}
		for _, l := range sp.Labels {
			if _, isID := labelID(l); !isID && !slices.Contains(metaLabels, l) {
				sp.Features = append(sp.Features, l)
				features[l] = true
			}
		}
		switch {
		case sr.State.Is(types.SpecStateFailureStates):
			s.Failed++
			sp.Failure = &Failure{Message: sr.Failure.Message, Location: sr.Failure.Location.String(),
				Node: sr.Failure.FailureNodeType.String()}
			for _, e := range sr.ReportEntries {
				if e.Name != roundtrip.EntryName {
					continue
				}
				var dl roundtrip.DeviceLog
				if json.Unmarshal([]byte(e.Value.AsJSON), &dl) == nil {
					sp.Failure.RoundTrips = append(sp.Failure.RoundTrips, dl)
				}
			}
		case sr.State == types.SpecStatePassed:
			s.Passed++
		case sr.State == types.SpecStateSkipped && sr.Failure.Message == "":
			// Left out by the label filter or focus: not a Skip() in the spec.
			sp.State = StateUnselected
			s.Unselected++
		default:
			s.Skipped++
		}
		s.Specs = append(s.Specs, sp)
	}
	for f := range features {
		s.Features = append(s.Features, f)
	}
	sort.Strings(s.Features)
	return s
}

// specIDs are the checklist items a spec checks: its id: labels
// (scenarios/framework.IDs), or for a result file written before specs
// carried them, the IDs its text names.
func specIDs(sr types.SpecReport) []string {
	if ids := LabelIDs(sr.Labels()); len(ids) > 0 {
		return ids
	}
	return ItemIDs(sr.LeafNodeText)
}

// Coverage is how much of SPEC-CHECKLIST.md the suites' specs name.
type Coverage struct {
	Total  int      // items in the checklist
	Ran    []string // items named by a spec that ran (passed or failed)
	Passed []string // items named by a spec that passed
	// Unknown are IDs named by specs but missing from the checklist
	// (a typo, or a checklist older than the suite).
	Unknown  []string
	Sections []SectionCoverage
	// Cited are the items named by any spec of the suites, whatever it
	// did in this run (unselected and skipped specs too).
	Cited []string
	// Code is the coverage figure: the cited share of the items the code
	// implements (docs/spec/implemented.yaml).
	Code CodeCoverage
}

// SectionCoverage is one checklist section's share.
type SectionCoverage struct {
	Section string
	Items   int
	Ran     int
}

// Share is the fraction of the checklist named by specs that ran.
func (c Coverage) Share() float64 {
	if c.Total == 0 {
		return 0
	}
	return float64(len(c.Ran)) / float64(c.Total)
}

func buildCoverage(suites []Suite) Coverage {
	known := map[string]string{}
	for _, it := range checklist {
		known[it.ID] = it.Section
	}
	ran, passed, unknown, cited := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, s := range suites {
		for _, sp := range s.Specs {
			for _, id := range sp.IDs {
				if _, ok := known[id]; !ok {
					unknown[id] = true
					continue
				}
				cited[id] = true
				if sp.State == "passed" || sp.Failed() {
					ran[id] = true
				}
				if sp.State == "passed" {
					passed[id] = true
				}
			}
		}
	}
	c := Coverage{Total: len(checklist), Ran: sortedSet(ran), Passed: sortedSet(passed), Unknown: sortedSet(unknown), Cited: sortedSet(cited)}
	c.Code = CoverageOf(c.Cited)
	var cur *SectionCoverage
	for _, it := range checklist {
		if cur == nil || cur.Section != it.Section {
			c.Sections = append(c.Sections, SectionCoverage{Section: it.Section})
			cur = &c.Sections[len(c.Sections)-1]
		}
		cur.Items++
		if ran[it.ID] {
			cur.Ran++
		}
	}
	return c
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
