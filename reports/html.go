package reports

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

// The charting library, vendored from npm (uplot 1.6.32, MIT, licence in
// assets/uPlot.LICENSE) and inlined so the page opens without network.
var (
	//go:embed assets/uPlot.iife.min.js
	uplotJS string
	//go:embed assets/uPlot.min.css
	uplotCSS string
	//go:embed assets/report.js
	reportJS string
	//go:embed assets/report.html.tmpl
	htmlTemplate string
)

const uplotVersion = "1.6.32"

var pageTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"join":   strings.Join,
	"pct":    func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) },
	"mul100": func(f float64) float64 { return 100 * f },
	"dur":    func(d time.Duration) string { return d.Round(time.Millisecond).String() },
	"short":  shortState,
	"item":   itemTitle,
}).Parse(htmlTemplate))

// chartRun is what the page's script draws for one load run.
type chartRun struct {
	Series  []SeriesPoint  `json:"series"`
	Curves  []Curve        `json:"curves"`
	Gateway *GatewaySeries `json:"gateway"`
}

type chartData struct {
	Loads []chartRun `json:"loads"`
}

// WriteHTML writes the self-contained HTML report: summary, conformance
// matrix, failures with device round trips, coverage, and per load run
// its figures and charts (uPlot, inlined).
func (r *Report) WriteHTML(w io.Writer) error {
	data := chartData{Loads: []chartRun{}}
	for _, l := range r.Loads {
		cr := chartRun{Series: l.Series, Curves: l.Curves, Gateway: l.Gateway}
		if cr.Series == nil {
			cr.Series = []SeriesPoint{}
		}
		if cr.Curves == nil {
			cr.Curves = []Curve{}
		}
		data.Loads = append(data.Loads, cr)
	}
	return pageTemplate.Execute(w, struct {
		*Report
		Data              chartData
		UPlotJS, ReportJS template.JS
		UPlotCSS          template.CSS
		UPlotVersion      string
	}{r, data, template.JS(uplotJS), template.JS(reportJS), template.CSS(uplotCSS), uplotVersion})
}

// shortState is a spec state in a matrix cell (plain text: headless
// browsers and printers may lack emoji fonts).
func shortState(state string) string {
	switch state {
	case "passed":
		return "pass"
	case "skipped", "pending":
		return "skip"
	case StateUnselected:
		return "–"
	}
	return "FAIL"
}

// itemTitle is a checklist item's section and text, for tooltips.
func itemTitle(id string) string {
	if it, ok := LookupItem(id); ok {
		return it.Section + ": " + it.Title
	}
	return "not in SPEC-CHECKLIST.md"
}
