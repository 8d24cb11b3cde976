package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gatehouse-lab/gatehouse/internal/roundtrip"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Package    string          `xml:"package,attr,omitempty"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr,omitempty"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",chardata"`
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes JUnit XML: one testsuite per conformance suite (a
// testcase per spec, labels and checklist items in its name as Ginkgo
// does), and one per load run whose testcases are its thresholds and
// whether every scheduled device arrived.
func (r *Report) WriteJUnit(w io.Writer) error {
	top := junitSuites{Name: "gatehouse"}
	var total time.Duration
	for _, s := range r.Suites {
		js := junitSuite{Name: s.Description, Package: s.Source, Time: secs(s.RunTime), Timestamp: s.Start.Format("2006-01-02T15:04:05"),
			Properties: []junitProperty{{"label-filter", s.LabelFilter}}}
		total += s.RunTime
		for _, sp := range s.Specs {
			name := sp.Text
			if len(sp.Labels) > 0 {
				name += " [" + strings.Join(sp.Labels, ", ") + "]"
			}
			c := junitCase{Name: name, Classname: s.Description + ": " + sp.Container, Time: secs(sp.RunTime)}
			switch {
			case sp.Failed():
				js.Failures++
				c.Failure = &junitMessage{Message: firstLine(sp.Failure.Message), Type: sp.State,
					Body: fmt.Sprintf("[%s] %s\n%s\n%s", sp.Failure.Node, sp.Failure.Location, sp.Failure.Message, roundTripsText(sp.Failure.RoundTrips))}
			case sp.State != "passed":
				js.Skipped++
				c.Skipped = &junitMessage{Message: sp.State}
			}
			js.Tests++
			js.Cases = append(js.Cases, c)
		}
		top.add(js)
	}
	for _, l := range r.Loads {
		d := time.Duration(l.DurationS * float64(time.Second))
		total += d
		js := junitSuite{Name: "loadgen " + l.Name, Package: l.Source, Time: secs(d), Timestamp: l.Started.Format("2006-01-02T15:04:05"),
			Properties: []junitProperty{
				{"throughput_ops_per_s", fmt.Sprintf("%.1f", l.Throughput)},
				{"error_rate", fmt.Sprintf("%.4f", l.ErrorRate)},
				{"p99_ms", fmt.Sprintf("%.3f", l.All.P99)},
			}}
		th := junitCase{Name: "thresholds", Classname: "loadgen " + l.Name, Time: secs(d),
			SystemOut: fmt.Sprintf("operations %d (non-Ping %d), failed %d, p50 %.3f ms, p99 %.3f ms", l.Total, l.Ops, l.Failed, l.All.P50, l.All.P99)}
		if len(l.Breaches) > 0 {
			th.Failure = &junitMessage{Message: fmt.Sprintf("%d threshold(s) broken", len(l.Breaches)), Type: "threshold",
				Body: strings.Join(l.Breaches, "\n")}
			js.Failures++
		}
		arrived := junitCase{Name: "every scheduled device arrived", Classname: "loadgen " + l.Name, Time: "0.000"}
		if l.DevicesArrived < l.DevicesPlanned*99/100 {
			arrived.Failure = &junitMessage{Message: fmt.Sprintf("%d of %d devices arrived", l.DevicesArrived, l.DevicesPlanned),
				Type: "behind", Body: "the load generator could not keep up: add shards"}
			js.Failures++
		}
		js.Cases = append(js.Cases, th, arrived)
		js.Tests = len(js.Cases)
		top.add(js)
	}
	top.Time = secs(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(top); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func (t *junitSuites) add(s junitSuite) {
	t.Tests += s.Tests
	t.Failures += s.Failures
	t.Errors += s.Errors
	t.Skipped += s.Skipped
	t.Suites = append(t.Suites, s)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// roundTripsText prints a failure's device round trips as a small table.
func roundTripsText(logs []roundtrip.DeviceLog) string {
	var b strings.Builder
	for _, d := range logs {
		fmt.Fprintf(&b, "device %s (user %s, EAS %s): last %d round trips", d.Device, d.User, d.Version, len(d.RoundTrips))
		if d.Omitted > 0 {
			fmt.Fprintf(&b, " (%d earlier omitted)", d.Omitted)
		}
		b.WriteString("\n")
		for _, x := range d.RoundTrips {
			fmt.Fprintf(&b, "  %s %-14s HTTP %3d Status %3d %8.1f ms %6d B out %6d B in %s\n", x.At.Format("15:04:05.000"),
				x.Cmd, x.HTTPStatus, x.Status, x.DurationMs, x.BytesOut, x.BytesIn, x.Err)
		}
	}
	return b.String()
}
