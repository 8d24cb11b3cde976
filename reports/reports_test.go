package reports

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/loadgen"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// The committed inputs: a Ginkgo report (one passed, one failed spec with
// device round trips, one skipped), two loadgen runs (b breaks a
// threshold) and the gateway statistics written during run a.
var testInputs = []string{"testdata/conformance.json", "testdata/load-a.json", "testdata/load-b.json",
	"testdata/global-stats.csv", "testdata/all-device-stats.csv"}

func testReport(t *testing.T) *Report {
	t.Helper()
	in, err := Load(testInputs...)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./reports/ -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./reports/ -update rewrites it); got:\n%s", name, got)
	}
}

func TestJUnitGolden(t *testing.T) {
	var b bytes.Buffer
	if err := testReport(t).WriteJUnit(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "junit.xml", b.Bytes())
}

func TestMarkdownGolden(t *testing.T) {
	var b bytes.Buffer
	if err := testReport(t).WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "summary.md", b.Bytes())
}

func TestCompareGolden(t *testing.T) {
	a, err := LoadRunFile("testdata/load-a.json")
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadRunFile("testdata/load-b.json")
	if err != nil {
		t.Fatal(err)
	}
	var text, md bytes.Buffer
	if err := WriteCompare(&text, a, b, false); err != nil {
		t.Fatal(err)
	}
	if err := WriteCompare(&md, a, b, true); err != nil {
		t.Fatal(err)
	}
	golden(t, "compare.txt", text.Bytes())
	golden(t, "compare.md", md.Bytes())
	for _, r := range Compare(a, b) {
		if r.Figure == "throughput" && (r.A != round3(a.Throughput) || fmt.Sprintf("%.3f", r.Ratio()) != fmt.Sprintf("%.3f", b.Throughput/a.Throughput)) {
			t.Errorf("throughput row %+v, runs %.3f and %.3f", r, a.Throughput, b.Throughput)
		}
	}
}

func TestDetectByContent(t *testing.T) {
	dir := t.TempDir()
	// Misleading names: the content decides.
	cases := map[string]Kind{"testdata/conformance.json": KindGinkgo, "testdata/load-a.json": KindLoadgen,
		"testdata/global-stats.csv": KindGlobalStats, "testdata/all-device-stats.csv": KindDeviceStats}
	for src, want := range cases {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		renamed := filepath.Join(dir, "x"+strings.ReplaceAll(string(want), "-", "")+".txt")
		if err := os.WriteFile(renamed, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := Detect(b); err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", src, got, err, want)
		}
		if _, err := Load(renamed); err != nil {
			t.Errorf("%s renamed: %v", src, err)
		}
	}
	for name, content := range map[string]string{
		"empty.json":  "",
		"object.json": `{"format": "something-else/1"}`,
		"array.json":  `[{"a": 1}]`,
		"newer.json":  `{"format": "gatehouse-loadgen/9"}`,
		"notes.csv":   "time,a,b\n1,2,3\n",
		"readme.txt":  "hello, world\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(p)
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v, want one naming the file", name, err)
		}
	}
}

func TestItemIDs(t *testing.T) {
	for text, want := range map[string][]string{
		"FLOW-01 reports a new device":                                   {"FLOW-01"},
		"ACT-05/06/07 wipe at next sync":                                 {"ACT-05", "ACT-06", "ACT-07"},
		"FLOW-05 FO-02 lets new devices in ... (DC-06)":                  {"DC-06", "FLOW-05", "FO-02"},
		"DC-02/03 kill -9 during traffic, DC-02 again":                   {"DC-02", "DC-03"},
		"no ids here, nor in X-1 or lower-case act-02 or HTTP-2 framing": nil,
	} {
		got := ItemIDs(text)
		if !slices.Equal(got, want) && !(len(got) == 0 && want == nil) {
			t.Errorf("%q: %v, want %v", text, got, want)
		}
	}
}

// TestChecklistUpToDate pins the go generate step: the embedded list
// is what the generator makes from docs/spec/SPEC-CHECKLIST.md.
func TestChecklistUpToDate(t *testing.T) {
	src := "../docs/spec/SPEC-CHECKLIST.md"
	if _, err := os.Stat(src); err != nil {
		t.Fatalf("the in-repository spec copy is missing (docs/spec/README.md says how to restore it): %v", err)
	}
	out := filepath.Join(t.TempDir(), "gen.go")
	cmd := exec.Command("go", "run", "./internal/gencheck", "-in", src, "-out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gencheck: %v\n%s", err, b)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("checklist_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("checklist_gen.go is stale: run go generate ./reports/")
	}
	items := Checklist()
	if len(items) < 400 || items[0].ID != "SCOPE-01" {
		t.Fatalf("embedded checklist: %d items, first %+v", len(items), items[0])
	}
	seen := map[string]bool{}
	for _, it := range items {
		if seen[it.ID] {
			t.Errorf("duplicate item %s", it.ID)
		}
		seen[it.ID] = true
	}
}

func TestConformanceModel(t *testing.T) {
	r := testReport(t)
	if len(r.Suites) != 1 {
		t.Fatalf("%d suites", len(r.Suites))
	}
	s := r.Suites[0]
	if s.Passed != 1 || s.Failed != 1 || s.Skipped != 1 {
		t.Fatalf("passed %d failed %d skipped %d", s.Passed, s.Failed, s.Skipped)
	}
	var failed Spec
	for _, sp := range s.Specs {
		if sp.Failed() {
			failed = sp
		}
	}
	if !slices.Equal(failed.IDs, []string{"ACT-02", "ACT-03"}) || !slices.Equal(failed.Features, []string{"manual-override", "block"}) {
		t.Errorf("failed spec ids %v features %v", failed.IDs, failed.Features)
	}
	if len(failed.Failure.RoundTrips) != 1 || len(failed.Failure.RoundTrips[0].RoundTrips) == 0 {
		t.Fatalf("failure round trips: %+v", failed.Failure.RoundTrips)
	}
	// Coverage: FLOW-01 passed; ACT-02/03 ran and failed; FO-04 was skipped.
	c := r.Coverage
	if !slices.Equal(c.Ran, []string{"ACT-02", "ACT-03", "FLOW-01"}) || !slices.Equal(c.Passed, []string{"FLOW-01"}) || c.Total != len(Checklist()) {
		t.Errorf("coverage %+v", c)
	}
}

// TestHTMLHoldsTheNumbers checks the page against figures computed from
// the inputs independently of the report model.
func TestHTMLHoldsTheNumbers(t *testing.T) {
	var b bytes.Buffer
	if err := testReport(t).WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	want := []string{
		"1 passed, 1 failed, 1 skipped",
		fmt.Sprintf("3 / %d (%.1f%%)", len(Checklist()), 300/float64(len(Checklist()))),
		"ACT-02/03 manual Block and Allow override",
		"the device was blocked", // the failure message
		"GH5LWPZ0002",            // the device whose round trips are attached
		"Threshold broken: p99 of all is 12.391ms, above 5ms",
		"<script>/*! https://github.com/leeoniya/uPlot (v1.6.32) */", // inlined, no network
	}
	for _, path := range []string{"testdata/load-a.json", "testdata/load-b.json"} {
		res, err := loadgen.ReadResults(path)
		if err != nil {
			t.Fatal(err)
		}
		var ops int64
		for _, c := range res.Commands {
			if c.Command != "Ping" {
				ops += c.Count
			}
			want = append(want, fmt.Sprintf("<td>%s</td><td>%s</td><td class=\"num\">%d</td><td class=\"num\">%.2f</td>", c.Command, c.Status, c.Count, c.P50ms))
		}
		all, err := res.Histogram("all", nil)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("%.1f ops/s", float64(ops)/res.DurationS),
			fmt.Sprintf("%.2f ms", float64(all.ValueAtQuantile(99))/1000),
			fmt.Sprintf("%d of %d", res.DevicesArrived, res.DevicesPlanned))
	}
	for _, w := range want {
		if !strings.Contains(page, w) {
			t.Errorf("the page lacks %q", w)
		}
	}
	if regexp.MustCompile(`(?i)<(script|link)[^>]+(src|href)=["']?https?:`).MatchString(page) {
		t.Error("the page loads something from the network")
	}
	// The chart data: every second of each run, and the gateway rows of run a.
	m := regexp.MustCompile(`(?s)<script type="application/json" id="report-data">(.*?)</script>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no chart data")
	}
	var data chartData
	if err := json.Unmarshal([]byte(m[1]), &data); err != nil {
		t.Fatal(err)
	}
	a, _ := loadgen.ReadResults("testdata/load-a.json")
	if len(data.Loads) != 2 || len(data.Loads[0].Series) != len(a.Series) || data.Loads[0].Series[5].Ops != a.Series[5].Ops {
		t.Fatalf("chart series do not match load-a.json")
	}
	g := data.Loads[0].Gateway
	if g == nil || len(g.T) < len(a.Series) || g.CacheSize[len(g.CacheSize)-1] != float64(a.DevicesArrived) {
		t.Errorf("gateway series %+v, want the cache to reach %d devices", g, a.DevicesArrived)
	}
	if data.Loads[1].Gateway != nil {
		t.Error("run b got gateway rows from a file written during run a")
	}
}

func TestWriteDir(t *testing.T) {
	dir := t.TempDir()
	paths, err := testReport(t).WriteDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 8 {
		t.Fatalf("%d outputs", len(paths))
	}
	series, _ := os.ReadFile(filepath.Join(dir, FileSeriesCSV))
	a, _ := loadgen.ReadResults("testdata/load-a.json")
	b, _ := loadgen.ReadResults("testdata/load-b.json")
	if n := strings.Count(string(series), "\n"); n != 1+len(a.Series)+len(b.Series) {
		t.Errorf("%s: %d lines", FileSeriesCSV, n)
	}
	cov, _ := os.ReadFile(filepath.Join(dir, FileCoverageCSV))
	rows, err := csv.NewReader(bytes.NewReader(cov)).ReadAll()
	if err != nil || len(rows) != 1+len(checklist) {
		t.Fatalf("%s: %d rows, %v", FileCoverageCSV, len(rows), err)
	}
	var passed []string
	implemented := map[string]string{}
	for _, r := range rows[1:] {
		if r[2] == "true" && r[3] == "true" {
			passed = append(passed, r[0])
		}
		implemented[r[0]] = r[4]
	}
	if len(passed) != 1 || passed[0] != "FLOW-01" {
		t.Errorf("%s: passed items %v, want FLOW-01 alone", FileCoverageCSV, passed)
	}
	if implemented["FLOW-01"] != "true" || implemented["ATC-13"] != "false" {
		t.Errorf("%s: implemented FLOW-01 %q, ATC-13 (IP tunnelling) %q", FileCoverageCSV, implemented["FLOW-01"], implemented["ATC-13"])
	}
}

// A run with a label filter: Ginkgo reports the specs it left out as
// skipped with no message; the report tells them from Skip() and does
// not count their items as covered.
func TestUnselectedSpecs(t *testing.T) {
	in, err := Load("testdata/conformance-filtered.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	s := r.Suites[0]
	if s.Passed != 8 || s.Failed != 0 || s.Skipped != 0 || s.Unselected != 16 || s.LabelFilter != "first-access && !disruptive && !slow" {
		t.Fatalf("passed %d failed %d skipped %d unselected %d filter %q", s.Passed, s.Failed, s.Skipped, s.Unselected, s.LabelFilter)
	}
	for _, sp := range s.Specs {
		selected := sp.Has("first-access") && !slices.Contains(sp.Labels, "disruptive") && !slices.Contains(sp.Labels, "slow")
		if (sp.State == StateUnselected) == selected {
			t.Errorf("%s: %s", sp.Text, sp.State)
		}
	}
	if slices.Contains(r.Coverage.Ran, "FO-04") || !slices.Contains(r.Coverage.Passed, "PREF-03") {
		t.Errorf("coverage ran %v", r.Coverage.Ran)
	}
	var md bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "24 specs: **8 passed, 0 failed, 0 skipped**, 16 not selected") {
		t.Errorf("markdown:\n%s", md.String())
	}
}
