package reports

import (
	"fmt"
	"io"
	"strings"
)

// stateMark is a spec state as one symbol for tables.
func stateMark(state string) string {
	switch state {
	case "passed":
		return "✅ pass"
	case "skipped", "pending":
		return "⏭ " + state
	case StateUnselected:
		return "not selected"
	}
	return "❌ " + state
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}

// WriteMarkdown writes a summary fit for a pull-request comment: the
// conformance outcome and checklist coverage, failed specs with their
// messages, and each load run's figures and broken thresholds.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n", r.Title)
	for _, s := range r.Suites {
		verdict := "✅ passed"
		if s.Failed > 0 {
			verdict = "❌ failed"
		}
		fmt.Fprintf(&b, "### Conformance: %s (%s)\n\n", mdEscape(s.Description), verdict)
		fmt.Fprintf(&b, "%d specs: **%d passed, %d failed, %d skipped**", len(s.Specs), s.Passed, s.Failed, s.Skipped)
		if s.Unselected > 0 {
			fmt.Fprintf(&b, ", %d not selected", s.Unselected)
		}
		fmt.Fprintf(&b, " in %s", s.RunTime.Round(1e6))
		if s.LabelFilter != "" {
			fmt.Fprintf(&b, " (label filter `%s`)", s.LabelFilter)
		}
		b.WriteString(".\n\n| spec | features | checklist items | result |\n| --- | --- | --- | --- |\n")
		for _, sp := range s.Specs {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdEscape(sp.Text), strings.Join(sp.Features, ", "), strings.Join(sp.IDs, " "), stateMark(sp.State))
		}
		b.WriteString("\n")
		for _, sp := range s.Specs {
			if !sp.Failed() {
				continue
			}
			fmt.Fprintf(&b, "<details><summary>❌ %s</summary>\n\n```\n[%s] %s\n%s\n%s```\n</details>\n\n",
				mdEscape(sp.Name()), sp.Failure.Node, sp.Failure.Location, strings.TrimSpace(sp.Failure.Message), roundTripsText(sp.Failure.RoundTrips))
		}
	}
	if len(r.Suites) > 0 {
		c := r.Coverage
		fmt.Fprintf(&b, "**Checklist coverage:** %d of %d items (%.1f%%) named by a spec that ran, %d by a passing spec.",
			len(c.Ran), c.Total, 100*c.Share(), len(c.Passed))
		fmt.Fprintf(&b, " **Coverage figure:** the suite's specs cite %s (`docs/spec/implemented.yaml`).", c.Code)
		if len(c.Unknown) > 0 {
			fmt.Fprintf(&b, " Not in the checklist: %s.", strings.Join(c.Unknown, ", "))
		}
		b.WriteString("\n\n")
	}
	for _, l := range r.Loads {
		verdict := "✅ thresholds held"
		if len(l.Breaches) > 0 {
			verdict = "❌ thresholds broken"
		}
		fmt.Fprintf(&b, "### Load: %s (%s)\n\n", mdEscape(l.Name), verdict)
		fmt.Fprintf(&b, "| duration | devices | operations | throughput | error rate | p50 | p99 | p99.9 | late | dropped |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
		fmt.Fprintf(&b, "| %.0f s | %d of %d | %d | %.1f ops/s | %.2f%% | %.2f ms | %.2f ms | %.2f ms | %d | %d |\n\n",
			l.DurationS, l.DevicesArrived, l.DevicesPlanned, l.Ops, l.Throughput, 100*l.ErrorRate, l.All.P50, l.All.P99, l.All.P999, l.Late, l.Dropped)
		b.WriteString("| command | status | count | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n")
		for _, c := range l.Commands {
			fmt.Fprintf(&b, "| %s | %s | %d | %.2f | %.2f | %.2f | %.2f | %.2f |\n", c.Command, c.Status, c.Count, c.P50, c.P90, c.P99, c.P999, c.Max)
		}
		b.WriteString("\n")
		if l.Wire != nil {
			b.WriteString(l.Wire.markdown() + "\n")
		}
		for _, br := range l.Breaches {
			fmt.Fprintf(&b, "- ❌ %s\n", mdEscape(br))
		}
		if len(l.Breaches) > 0 {
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
