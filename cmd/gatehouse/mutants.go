package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-lab/gatehouse/scenarios/mutation"
)

func newMutantsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mutants",
		Short: "The mutation catalogue: realistic gateway defects, and whether the conformance suite catches them",
		Long: `The mutation catalogue (` + mutation.DefaultDir + `/NN-name.patch): each patch puts one
realistic defect into the bundled gateway. "run" applies each to a copy of
the source tree and runs the conformance suite against it, in-process (the
suite's worlds run the mutant gateway) or black-box (the unmutated suite
tests the mutant gatehouse binary as an external gateway), and reports
which spec caught it. Run from the gatehouse source tree; see
docs/conformance.md, "Mutation score".`,
	}
	cmd.AddCommand(newMutantsListCmd(), newMutantsRunCmd())
	return cmd
}

func newMutantsListCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the catalogue: name, the items each mutant breaks, its defect",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ms, err := mutation.Load(dir)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "FILE\tBREAKS\tDEFECT")
			for _, m := range ms {
				breaks := strings.Join(m.Breaks, " ")
				if m.Focus != "" {
					breaks = strings.TrimSpace(breaks + " [" + m.Focus + "]")
				}
				defect := m.Defect
				for _, mode := range []mutation.Mode{mutation.InProcess, mutation.BlackBox} {
					if why := m.ExpectedSurvival(mode); why != "" {
						defect += " (expected to survive " + string(mode) + ": " + why + ")"
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", m.File, breaks, defect)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&dir, "dir", mutation.DefaultDir, "catalogue directory")
	return cmd
}

// mutantsRun is the run command's flags.
type mutantsRun struct {
	dir, mode, key, json, labels string
	only                         []string
	sample, jobs                 int
	timeout                      time.Duration
	noTargeted, keep, skipExpect bool
}

func newMutantsRunCmd() *cobra.Command {
	var o mutantsRun
	cmd := &cobra.Command{
		Use:   "run [--only NAME...] [--sample N] [--mode in-process|black-box|both] [--json FILE]",
		Short: "Try mutants against the conformance suite and print the score",
		Long: `Try each selected mutant: copy the source tree (without .git) to a temporary
directory, apply the patch, and run the suite with fail-fast, the specs of
the items the mutant breaks first. A mutant is caught when a spec fails.
Prints a line per mutant, then the score as a Markdown table; --json writes
the results (gatehouse report reads them). Exits 1 when a mutant survived
without a reason in its patch, or could not be tried.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runMutants(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.dir, "dir", mutation.DefaultDir, "catalogue directory")
	f.StringSliceVar(&o.only, "only", nil, "only these mutants (names or file names; repeat or comma-separate)")
	f.IntVar(&o.sample, "sample", 0, "try a sample of this many, chosen by --key (0: all)")
	f.StringVar(&o.key, "key", "", "sample rotation key (default: the HEAD commit hash, so each commit tries another sample)")
	f.StringVar(&o.mode, "mode", string(mutation.InProcess), "in-process, black-box or both")
	f.IntVar(&o.jobs, "jobs", 1, "mutants tried at once (each builds and runs the suite)")
	f.StringVar(&o.json, "json", "", "write the results to this JSON file (rewritten as each mutant ends)")
	f.StringVar(&o.labels, "label-filter", mutation.DefaultLabelFilter, "the suite's specs")
	f.DurationVar(&o.timeout, "timeout", 20*time.Minute, "longest one suite run may take")
	f.BoolVar(&o.noTargeted, "no-targeted", false, "run the whole suite at once instead of the mutant's own items first")
	f.BoolVar(&o.keep, "keep", false, "keep each mutant's directory (build and suite logs)")
	f.BoolVar(&o.skipExpect, "skip-expected", false, "leave out the mutants whose patch says why they survive (a quick sample)")
	return cmd
}

func runMutants(ctx context.Context, o mutantsRun, stdout, stderr io.Writer) error {
	modes, err := parseModes(o.mode)
	if err != nil {
		return err
	}
	all, err := mutation.Load(o.dir)
	if err != nil {
		return err
	}
	commit := headCommit(ctx)
	key := o.key
	if key == "" {
		key = commit
	}
	if o.skipExpect {
		all = slices.DeleteFunc(all, func(m mutation.Mutant) bool { return m.ExpectedSurvival(mutation.InProcess) != "" })
	}
	ms, err := mutation.Select(all, o.only, o.sample, key)
	if err != nil {
		return err
	}
	if err := sourceTree(); err != nil {
		return fmt.Errorf("mutants: %w", err)
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "mutants: %d of %d, %s, label filter %q\n", len(ms), len(all), o.mode, o.labels)
	res := &mutation.Results{Kind: mutation.ResultsKind, Commit: commit, Started: time.Now().UTC(), LabelFilter: o.labels}
	var writeErr error
	opts := mutation.Options{Root: root, Modes: modes, Jobs: o.jobs, LabelFilter: o.labels, Targeted: !o.noTargeted,
		Timeout: o.timeout, Keep: o.keep, Progress: stderr,
		OnResult: func(r mutation.Result) {
			res.Runs = append(res.Runs, r)
			if o.json != "" {
				writeErr = errors.Join(writeErr, res.WriteFile(o.json))
			}
		}}
	runs, runErr := mutation.Run(ctx, opts, ms)
	if len(runs) > 0 {
		res.Runs = runs // catalogue order
		if o.json != "" {
			writeErr = res.WriteFile(o.json)
		}
		fmt.Fprintln(stdout)
		if err := mutation.WriteMarkdown(stdout, runs); err != nil {
			return err
		}
	}
	if err := errors.Join(runErr, writeErr); err != nil {
		return err
	}
	var bad []string
	for _, r := range runs {
		if r.Unexpected() {
			bad = append(bad, r.Mutant+" ("+string(r.Mode)+", "+string(r.Outcome)+")")
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("mutants: not caught and not explained: %s", strings.Join(bad, ", "))
	}
	return nil
}

func parseModes(s string) ([]mutation.Mode, error) {
	switch mutation.Mode(s) {
	case mutation.InProcess, mutation.BlackBox:
		return []mutation.Mode{mutation.Mode(s)}, nil
	case "both":
		return []mutation.Mode{mutation.InProcess, mutation.BlackBox}, nil
	}
	return nil, fmt.Errorf("mutants: --mode %q: in-process, black-box or both", s)
}

// headCommit is the HEAD commit of the source tree, "" outside git.
func headCommit(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
