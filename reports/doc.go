// Package reports turns the project's result files (Ginkgo JSON reports
// of the conformance suite, loadgen results, the gateway's statistics
// CSVs) into a self-contained HTML report, JUnit XML, a Markdown summary
// and CSV exports, and compares two load runs (docs/reports.md).
package reports
