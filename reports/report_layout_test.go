package reports

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// In a run with a label filter the selected specs come first in the
// matrix and the unselected ones are collapsed below it; the coverage
// card shows the suite's total beside the run's share.
func TestHTMLSelectedSpecsFirstUnselectedCollapsed(t *testing.T) {
	r := testReport(t)
	s := &r.Suites[0]
	s.Specs = append([]Spec{{Text: "an unselected spec", State: StateUnselected, IDs: []string{"DC-17"}}}, s.Specs...)
	s.Unselected++
	var b bytes.Buffer
	if err := r.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	start := strings.Index(page, `id="matrix-0"`)
	if start < 0 {
		t.Fatal("no matrix")
	}
	main := page[start : start+strings.Index(page[start:], "</table>")]
	if strings.Contains(main, `data-state="unselected"`) || !strings.Contains(main, `data-state="passed"`) {
		t.Errorf("the main matrix holds unselected specs or lacks the selected ones:\n%s", main)
	}
	rest := page[start+len(main):]
	d := strings.Index(rest, `<details class="unselected"`)
	if d < 0 || !strings.Contains(rest[d:], "an unselected spec") || strings.Contains(rest[d:strings.Index(rest[d:], "</summary>")+d], " open") {
		t.Errorf("the unselected specs are not collapsed below the matrix")
	}
	want := fmt.Sprintf("by the whole suite: %d / %d", len(r.Coverage.Cited), r.Coverage.Total)
	if !strings.Contains(page, want) {
		t.Errorf("the coverage card lacks %q", want)
	}
}
