package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/loadgen"
	"github.com/gatehouse-lab/gatehouse/reports"
)

func newReportCmd() *cobra.Command {
	var (
		out, title string
		fail       bool
	)
	cmd := &cobra.Command{
		Use:   "report FILE... [-o DIR]",
		Short: "HTML, JUnit, Markdown and CSV reports from conformance, loadgen, chaos and gateway statistics files",
		Long: `Read any mix of Ginkgo JSON reports (gatehouse conformance: report.json),
loadgen results (gatehouse loadgen run -o), chaos results (gatehouse chaos run
--json: summarised in DIR/chaos.md and on stdout) and gateway statistics CSVs
(global-stats.csv, all-device-stats.csv), detected by content, and write into
DIR: report.html (self-contained), junit.xml, summary.md and CSV exports
(docs/reports.md, docs/chaos.md). Mutation results (gatehouse mutants run
--json) give the mutation score, printed and written to DIR/mutation-score.md. "compare A B" puts two load runs side by side; "demo" runs
a short conformance and load run against the lab and reports them.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			chaosResults, chaosNames, args, err := splitChaos(args)
			if err != nil {
				return err
			}
			scores, args, err := splitMutationResults(args)
			if err != nil {
				return err
			}
			failed := false
			if len(chaosResults) > 0 {
				if err := writeChaosSummary(cmd.OutOrStdout(), chaosResults, chaosNames, out); err != nil {
					return err
				}
				failed = chaosFailed(chaosResults)
			}
			if len(args) > 0 {
				r, err := buildReport(args, title)
				if err != nil {
					return err
				}
				if err := writeReport(cmd.OutOrStdout(), r, out); err != nil {
					return err
				}
				failed = failed || r.Failed()
			}
			if len(scores) > 0 {
				unexplained, err := writeMutationScore(cmd.OutOrStdout(), scores, out)
				if err != nil {
					return err
				}
				failed = failed || unexplained
			}
			if fail && failed {
				return errors.New("report: a spec failed, a threshold broke, a chaos campaign found wrong allows, wrong blocks or lost states, or a mutant survived unexplained")
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "report", "output directory")
	cmd.Flags().StringVar(&title, "title", "gatehouse report", "report title")
	cmd.Flags().BoolVar(&fail, "fail", false, "exit 1 when a spec failed or a load threshold broke")
	cmd.AddCommand(newReportCompareCmd(), newReportDemoCmd())
	return cmd
}

func buildReport(files []string, title string) (*reports.Report, error) {
	in, err := reports.Load(files...)
	if err != nil {
		return nil, err
	}
	r, err := reports.Build(in)
	if err != nil {
		return nil, err
	}
	r.Title = title
	return r, nil
}

func writeReport(w io.Writer, r *reports.Report, dir string) error {
	paths, err := r.WriteDir(dir)
	if err != nil {
		return err
	}
	for _, p := range paths {
		fmt.Fprintln(w, p)
	}
	return nil
}

func newReportCompareCmd() *cobra.Command {
	var markdown bool
	cmd := &cobra.Command{
		Use:   "compare A.json B.json",
		Short: "Two loadgen results side by side, with the ratio B/A of each figure",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := reports.LoadRunFile(args[0])
			if err != nil {
				return err
			}
			b, err := reports.LoadRunFile(args[1])
			if err != nil {
				return err
			}
			return reports.WriteCompare(cmd.OutOrStdout(), a, b, markdown)
		},
	}
	cmd.Flags().BoolVar(&markdown, "markdown", false, "print a Markdown table")
	return cmd
}

// demoSpec is the demo's short load run: a small fleet over a ramp.
const demoSpec = `name: demo
seed: 1
devices: 300
users: 8
duration: 20s
new_share: 0.5
profiles:
  default: {ping_heartbeat: 10s, sync_rate: 6/min, sendmail_rate: 1/min, attachment_share: 0.2}
arrival: {shape: ramp, over: 10s}
thresholds:
  p99: {all: 2s}
  error_rate: 0.05
`

func newReportDemoCmd() *cobra.Command {
	var (
		out, labels string
		duration    time.Duration
	)
	cmd := &cobra.Command{
		Use:   "demo [-o DIR]",
		Short: "Run a short conformance suite and a short load run against the lab, then write the report",
		Long: `Run the conformance specs selected by --label-filter (scenarios.test beside
this binary, or go test of ./scenarios in the source tree), then a 300-device load run against an in-process
lab whose gateway writes its statistics every second, and write the report of
both into DIR (report.html, junit.xml, summary.md, CSVs). About a minute.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			stderr := cmd.ErrOrStderr()
			if _, err := findSuite(ctx, "", nil); err != nil {
				return fmt.Errorf("report demo: %w", err)
			}
			inputs := []string{}
			fmt.Fprintf(stderr, "== conformance (%s)\n", labels)
			confDir := filepath.Join(out, "conformance")
			if err := os.MkdirAll(confDir, 0o755); err != nil {
				return err
			}
			suiteLog, err := os.Create(filepath.Join(confDir, "suite-output.txt"))
			if err != nil {
				return err
			}
			confErr := runConformance(ctx, conformanceRun{Results: confDir, Labels: labels}, suiteLog, stderr)
			suiteLog.Close()
			fmt.Fprintf(stderr, "suite output in %s\n", suiteLog.Name())
			if _, err := os.Stat(filepath.Join(confDir, "report.json")); err != nil {
				return fmt.Errorf("report demo: the suite wrote no report: %w", errors.Join(confErr, err))
			}
			inputs = append(inputs, filepath.Join(confDir, "report.json"))
			fmt.Fprintf(stderr, "== load run (%s)\n", duration)
			files, err := demoLoad(ctx, out, duration, nil, stderr)
			if err != nil {
				return err
			}
			inputs = append(inputs, files...)
			r, err := buildReport(inputs, "gatehouse demo report")
			if err != nil {
				return err
			}
			if err := writeReport(cmd.OutOrStdout(), r, out); err != nil {
				return err
			}
			if confErr != nil {
				return fmt.Errorf("report written, but %w", confErr)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "demo-report", "output directory")
	cmd.Flags().StringVar(&labels, "label-filter", "first-access && !disruptive && !slow && !security", "conformance specs to run")
	cmd.Flags().DurationVar(&duration, "duration", 20*time.Second, "load run duration")
	return cmd
}

// demoLoad runs the demo fleet against an in-process lab and returns
// the results file and the gateway's statistics CSVs; tick, if set, may
// end the run before duration (loadgen.Options.Tick).
func demoLoad(ctx context.Context, out string, duration time.Duration, tick func(loadgen.Point, *loadgen.Recorder) bool, progress io.Writer) ([]string, error) {
	spec, err := loadgen.ParseSpec([]byte(demoSpec))
	if err != nil {
		return nil, err
	}
	spec.Duration = loadgen.Duration(duration)
	labDir := filepath.Join(out, "lab")
	if err := os.RemoveAll(labDir); err != nil {
		return nil, err
	}
	l, err := lab.Start(ctx, lab.Config{Dir: labDir, Users: spec.Users, MessagesPerUser: 4,
		CheckInterval: 2 * time.Second, ResyncInterval: 5 * time.Second, StatsInterval: time.Second})
	if err != nil {
		return nil, err
	}
	opt := loadgen.Options{Target: l.DeviceURL(), Progress: progress, Tick: tick}
	for _, u := range l.Users() {
		opt.Users = append(opt.Users, loadgen.User{Name: u.Name, Password: u.Password, Email: u.Email})
	}
	res, runErr := loadgen.Run(ctx, spec, opt)
	// The gateway counts a write when it returns, which can be after the
	// fleet read it: the row compared with the fleet's own counts
	// (report "on the wire") is the one after the gateway closed them all.
	waitGatewayIdle(ctx, l, 10*time.Second)
	waitStatsRow(filepath.Join(l.DataDir(), "global-stats.csv"), time.Now(), 5*time.Second)
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	closeErr := l.Close(sctx)
	fmt.Fprintln(progress)
	if res == nil {
		return nil, fmt.Errorf("report demo: load run: %w", runErr)
	}
	loadFile := filepath.Join(out, "load.json")
	if err := res.WriteFile(loadFile); err != nil {
		return nil, err
	}
	files := []string{loadFile}
	for _, name := range []string{"global-stats.csv", "all-device-stats.csv"} {
		p := filepath.Join(l.DataDir(), name)
		if _, err := os.Stat(p); err == nil {
			files = append(files, p)
		}
	}
	return files, errors.Join(runErr, closeErr)
}

// waitStatsRow waits (at most timeout) until the gateway has appended a
// statistics row after t, so that the charts cover the run's end.
func waitStatsRow(path string, t time.Time, timeout time.Duration) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(timeout)
	for {
		if st, err := os.Stat(path); err == nil && st.ModTime().After(t) {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			return
		}
	}
}

// waitGatewayIdle waits (at most timeout) until the lab gateway holds no
// device connection.
func waitGatewayIdle(ctx context.Context, l *lab.Lab, timeout time.Duration) {
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if u, err := l.GatewayAdmin().Utilization(ctx); err != nil || u.OpenConnections == 0 {
			return
		}
	}
}
