package reports

import (
	"slices"
	"testing"

	"github.com/onsi/ginkgo/v2/types"
)

func TestLabelIDs(t *testing.T) {
	for _, c := range []struct {
		labels []string
		want   []string
	}{
		{[]string{"conformance", "id:FO-02", "fail-open", "id:FLOW-05", "id:FO-02"}, []string{"FLOW-05", "FO-02"}},
		{[]string{"id: DC-06", "ID-07", "identity:x"}, []string{"DC-06"}},
		{[]string{"conformance", "security"}, []string{}},
	} {
		if got := LabelIDs(c.labels); !slices.Equal(got, c.want) {
			t.Errorf("LabelIDs(%q) = %q, want %q", c.labels, got, c.want)
		}
	}
}

// A spec carries its checklist items as id: labels (scenarios/framework.IDs):
// reports reads them there, not from the text, and they are not features.
// A result file written before, whose specs named items in their text only,
// still counts through the text.
func TestSpecIDsComeFromLabelsWithTheTextAsFallback(t *testing.T) {
	spec := func(text string, labels ...string) types.SpecReport {
		return types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: text, LeafNodeLabels: labels, State: types.SpecStatePassed}
	}
	s := buildSuite(SuiteInput{Path: "r.json", Report: types.Report{SpecReports: types.SpecReports{
		spec("lets new devices in with the server's policy", "conformance", "fail-open", "id:FLOW-05", "id:FO-02", "id:DC-06"),
		spec("FLOW-13 a dropped block notification is repaired by the periodic resync", "conformance", "resync"),
		spec("mentions ACT-02 in passing but is labelled", "conformance", "id:ACT-03"),
	}}})
	want := [][]string{{"DC-06", "FLOW-05", "FO-02"}, {"FLOW-13"}, {"ACT-03"}}
	for i, sp := range s.Specs {
		if !slices.Equal(sp.IDs, want[i]) {
			t.Errorf("spec %d (%q): IDs %q, want %q", i, sp.Text, sp.IDs, want[i])
		}
	}
	if !slices.Equal(s.Specs[0].Features, []string{"fail-open"}) || !slices.Equal(s.Features, []string{"fail-open", "resync"}) {
		t.Errorf("features %q (suite %q): id: labels are not features", s.Specs[0].Features, s.Features)
	}
	c := buildCoverage([]Suite{s})
	if !slices.Equal(c.Passed, []string{"ACT-03", "DC-06", "FLOW-05", "FLOW-13", "FO-02"}) || len(c.Unknown) != 0 {
		t.Errorf("coverage passed %q unknown %q", c.Passed, c.Unknown)
	}
}
