package framework

import (
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"
)

// The list is in source order (file, then line), splits the id: labels
// off into IDs and carries no line numbers.
func TestSpecListSourceOrderWithoutLines(t *testing.T) {
	it := func(file string, line int, text string, labels ...string) types.SpecReport {
		return types.SpecReport{LeafNodeType: types.NodeTypeIt, ContainerHierarchyTexts: []string{"Wipe"}, LeafNodeText: text,
			LeafNodeLabels: labels, LeafNodeLocation: types.CodeLocation{FileName: "/src/gatehouse/scenarios/" + file, LineNumber: line}}
	}
	r := types.Report{SpecReports: types.SpecReports{
		it("wipe_test.go", 40, "second", "conformance"),
		{LeafNodeType: types.NodeTypeReportAfterSuite},
		it("wipe_test.go", 17, "first", "conformance", "wipe", "id:ACT-07", "id:ACT-05"),
		it("access_test.go", 90, "earlier file"),
	}}
	specs := SpecList(r, "scenarios")
	var got []string
	for _, s := range specs {
		got = append(got, s.File+" "+s.Text)
	}
	if want := "scenarios/access_test.go earlier file,scenarios/wipe_test.go first,scenarios/wipe_test.go second"; strings.Join(got, ",") != want {
		t.Fatalf("order %q, want %q", got, want)
	}
	if s := specs[1]; strings.Join(s.IDs, " ") != "ACT-05 ACT-07" || strings.Join(s.Labels, " ") != "conformance wipe" {
		t.Errorf("ids %q labels %q", s.IDs, s.Labels)
	}
	b, err := MarshalSpecList(specs)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DO NOT EDIT", "- describe: Wipe\n  text: first\n  ids: [ACT-05, ACT-07]\n  labels: [conformance, wipe]\n  file: scenarios/wipe_test.go\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("list lacks %q:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), "17") || strings.Contains(string(b), "40") {
		t.Errorf("the list holds line numbers:\n%s", b)
	}
}

func TestReplaceSpecTable(t *testing.T) {
	doc := "# Doc\n\n" + SpecTableBegin + "\nold table\n" + SpecTableEnd + "\n\n## Next\n"
	got, err := ReplaceSpecTable(doc, "| new |\n")
	if want := "# Doc\n\n" + SpecTableBegin + "\n\n| new |\n\n" + SpecTableEnd + "\n\n## Next\n"; err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	if _, err := ReplaceSpecTable("# Doc without markers\n", "| new |\n"); err == nil {
		t.Error("a document without the markers: no error")
	}
}
