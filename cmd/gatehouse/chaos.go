package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-lab/gatehouse/chaos"
	"github.com/gatehouse-lab/gatehouse/lab"
)

// chaosExitFindings is the exit code of a campaign, replay or shrink that
// found something.
const chaosExitFindings = 99

// chaosFlags are the world flags every chaos subcommand shares.
type chaosFlags struct {
	mode, binary                  string
	gatewayURL, notifyURL         string
	restartCmd, killCmd, startCmd string
	uemListen, exchangeListen     string
	check, resync, grace          time.Duration
	out                           string
	diskFaults                    bool
}

func (f *chaosFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.mode, "mode", "in-process", "gateway mode: in-process, subprocess (real kill -9) or external")
	fl.StringVar(&f.binary, "gateway-binary", "", "subprocess: the gatehouse binary (default: this one)")
	fl.StringVar(&f.gatewayURL, "gateway-url", "", "external: the gateway's device-facing base URL")
	fl.StringVar(&f.notifyURL, "notify-url", "", "external: where the gateway receives UEM notifications")
	fl.StringVar(&f.restartCmd, "restart-cmd", "", "external: shell command restarting the gateway gracefully")
	fl.StringVar(&f.killCmd, "kill-cmd", "", "external: shell command killing the gateway (SIGKILL)")
	fl.StringVar(&f.startCmd, "start-cmd", "", "external: shell command starting it after a kill")
	fl.StringVar(&f.uemListen, "uem-listen", "", "external: the fake UEM's gateway API address the gateway is configured with")
	fl.StringVar(&f.exchangeListen, "exchange-listen", "", "external: the fake Exchange's address")
	fl.DurationVar(&f.check, "check-interval", time.Second, "the gateway's connectivity check interval (the oracle's staleness)")
	fl.DurationVar(&f.resync, "resync-interval", 2*time.Second, "the gateway's resync interval (the oracle's staleness)")
	fl.DurationVar(&f.grace, "grace", 2*time.Second, "added to every staleness bound")
	fl.StringVar(&f.out, "json", "", "write the JSON result to this file (- for stdout)")
	fl.BoolVar(&f.diskFaults, "disk-faults", true, "subprocess: data directory full and read-only faults (root, unshare -m; skipped with the reason when unavailable)")
}

func (f *chaosFlags) world() (chaos.WorldConfig, error) {
	c := chaos.WorldConfig{Mode: lab.Mode(f.mode), Binary: f.binary, GatewayURL: f.gatewayURL, NotifyURL: f.notifyURL,
		RestartCmd: f.restartCmd, KillCmd: f.killCmd, StartCmd: f.startCmd, UEMListen: f.uemListen, ExchangeListen: f.exchangeListen,
		GatewayToken: os.Getenv("GATEHOUSE_UEM_TOKEN"), NotifySecret: os.Getenv("GATEHOUSE_UEM_NOTIFY_SECRET"),
		CheckInterval: f.check, ResyncInterval: f.resync, Grace: f.grace}
	switch c.Mode {
	case lab.InProcess:
	case lab.Subprocess:
		if c.Binary == "" {
			exe, err := os.Executable()
			if err != nil {
				return c, fmt.Errorf("chaos: this binary: %w", err)
			}
			c.Binary = exe
		}
		c.DiskFaults = f.diskFaults
		if err := chaos.DiskFaultsSupported(); c.DiskFaults && err != nil {
			fmt.Fprintf(os.Stderr, "chaos: disk faults skipped: %v\n", err)
			c.DiskFaults = false
		}
	case lab.External:
		if c.GatewayURL == "" || c.NotifyURL == "" {
			return c, errors.New("chaos: --mode external needs --gateway-url and --notify-url")
		}
		// The gateway keeps its cache from one campaign to the next.
		c.IDPrefix = fmt.Sprintf("X%04d", time.Now().UnixNano()%10000)
		if c.GatewayToken == "" || c.NotifySecret == "" {
			return c, errors.New("chaos: --mode external needs GATEHOUSE_UEM_TOKEN and GATEHOUSE_UEM_NOTIFY_SECRET (the gateway's UEM credentials)")
		}
	default:
		return c, fmt.Errorf("chaos: unknown --mode %q", f.mode)
	}
	return c, nil
}

func (f *chaosFlags) gen(steps, minDev, maxDev int) chaos.GenOptions {
	g := chaos.GenOptions{Steps: steps, MinDevices: minDev, MaxDevices: maxDev}
	switch lab.Mode(f.mode) {
	case lab.External:
		g.Restart, g.Kill = f.restartCmd != "", f.killCmd != "" && f.startCmd != ""
	case lab.Subprocess:
		g.Restart, g.Kill, g.FailedStart = true, true, true
		g.Disk = f.diskFaults && chaos.DiskFaultsSupported() == nil
	default:
		g.Restart, g.FailedStart, g.Clock = true, true, true
	}
	return g
}

func writeChaosJSON(path string, stdout io.Writer, v any) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if path == "-" {
		_, err = stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func newChaosCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "chaos",
		Short: "Seeded fault campaigns against a gateway, checked by a wrong-allow oracle",
		Long: `Run randomised schedules of device requests, UEM admin actions, faults and
gateway restarts against a world (fake UEM, fake Exchange, gateway) and check
every answer with an oracle: wrong allows, wrong blocks, lost states, wipes
delivered twice (docs/chaos.md). A failing schedule replays from its seed and
shrinks to a short YAML schedule to commit under chaos/testdata. The exit code
is 99 when something was found.`,
	}
	cmd.AddCommand(newChaosRunCmd(), newChaosReplayCmd(), newChaosShrinkCmd())
	return cmd
}

func newChaosRunCmd() *cobra.Command {
	var f chaosFlags
	var seed int64
	var n, parallel, steps, minDev, maxDev, stopAfter int
	var shrinkDir string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run a campaign of N schedules",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			wc, err := f.world()
			if err != nil {
				return err
			}
			errw := cmd.ErrOrStderr()
			done := 0
			c := chaos.CampaignConfig{World: wc, Gen: f.gen(steps, minDev, maxDev), Seed: seed, Schedules: n,
				Parallel: parallel, StopAfter: stopAfter,
				Progress: func(r chaos.ScheduleResult) {
					if done++; done%50 == 0 {
						fmt.Fprintf(errw, "chaos: %d/%d schedules\n", done, n)
					}
					for _, fd := range r.Findings {
						fmt.Fprintln(errw, fd)
					}
					if r.Error != "" {
						fmt.Fprintf(errw, "seed %d: world error: %s\n", r.Seed, r.Error)
					}
				}}
			res := chaos.Run(cmd.Context(), c)
			res.Schedules = nil // the totals and the failures are the result
			if shrinkDir != "" {
				for _, fr := range res.Failures {
					sh, ok := chaos.Shrink(cmd.Context(), wc, chaos.Generate(fr.Seed, c.Gen), 2, 300)
					if !ok {
						fmt.Fprintf(errw, "seed %d: did not fail again on replay\n", fr.Seed)
						continue
					}
					res.Shrunk = append(res.Shrunk, sh)
					path := filepath.Join(shrinkDir, fmt.Sprintf("seed-%d.yaml", fr.Seed))
					if err := chaos.WriteSchedule(path, sh.Schedule); err != nil {
						return err
					}
					fmt.Fprintf(errw, "seed %d: %s shrunk from %d to %d steps in %d runs: %s\n", fr.Seed, sh.Kind, sh.From, sh.Steps, sh.Runs, path)
				}
			}
			t := res.Totals
			fmt.Fprintf(cmd.OutOrStdout(), "chaos: %d schedules, %d steps, %d faults injected in %.0fs: %d wrong allows, %d wrong blocks, %d lost states, %d wipes delivered twice, %d stale policies, %d world errors\n",
				t.Schedules, t.Steps, t.Faults, res.Seconds, t.WrongAllows, t.WrongBlocks, t.LostStates, t.DoubleWipes, t.StalePolicy, t.Errors)
			if err := writeChaosJSON(f.out, cmd.OutOrStdout(), res); err != nil {
				return err
			}
			if t.Failing > 0 {
				return &exitCodeError{code: chaosExitFindings, msg: "chaos: findings (see above)"}
			}
			return nil
		},
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.Int64Var(&seed, "seed", 1, "first seed; schedule i uses seed+i")
	fl.IntVar(&n, "schedules", 20, "schedules in the campaign")
	fl.IntVar(&parallel, "parallel", 2, "worlds at a time")
	fl.IntVar(&steps, "steps", 25, "steps per schedule")
	fl.IntVar(&minDev, "min-devices", 5, "fewest devices in a world")
	fl.IntVar(&maxDev, "max-devices", 12, "most devices in a world (at most 50)")
	fl.IntVar(&stopAfter, "stop-after", 0, "stop after this many failing schedules (0: run all)")
	fl.StringVar(&shrinkDir, "shrink", "", "shrink every failing schedule and write it as seed-N.yaml into this directory")
	return cmd
}

// scheduleArg is a seed (replayed with the generator's options) or a
// YAML schedule file.
func scheduleArg(arg string, g chaos.GenOptions, steps int) (*chaos.Schedule, error) {
	var seed int64
	if _, err := fmt.Sscan(arg, &seed); err == nil {
		g.Steps = steps
		return chaos.Generate(seed, g), nil
	}
	return chaos.LoadSchedule(arg)
}

// regenFlags are the generator flags replay and shrink take to
// regenerate a campaign's schedule from its seed.
type regenFlags struct{ steps, minDev, maxDev int }

func (g *regenFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.IntVar(&g.steps, "steps", 25, "steps per schedule (as the campaign had)")
	fl.IntVar(&g.minDev, "min-devices", 5, "as the campaign had")
	fl.IntVar(&g.maxDev, "max-devices", 12, "as the campaign had")
}

// load is the world and the schedule arg names (a seed or a YAML file).
func (g *regenFlags) load(f *chaosFlags, arg string) (chaos.WorldConfig, *chaos.Schedule, error) {
	wc, err := f.world()
	if err != nil {
		return wc, nil, err
	}
	s, err := scheduleArg(arg, f.gen(g.steps, g.minDev, g.maxDev), g.steps)
	return wc, s, err
}

func newChaosReplayCmd() *cobra.Command {
	var f chaosFlags
	var g regenFlags
	cmd := &cobra.Command{
		Use:   "replay SEED|SCHEDULE.yaml",
		Short: "Replay one schedule from its seed (same generator flags) or a YAML file",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			wc, s, err := g.load(&f, args[0])
			if err != nil {
				return err
			}
			r := chaos.RunSchedule(cmd.Context(), wc, s)
			for i, st := range s.Steps {
				fmt.Fprintf(cmd.ErrOrStderr(), "%3d %s\n", i, st)
			}
			for _, fd := range r.Findings {
				fmt.Fprintln(cmd.OutOrStdout(), fd)
			}
			if r.Error != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), "world error:", r.Error)
			}
			res := chaos.Result{Kind: chaos.ResultKind, Mode: f.mode, Seed: s.Seed, Started: time.Now().UTC(), Seconds: float64(r.Millis) / 1000}
			res.Totals.Add(r)
			res.Schedules = []chaos.ScheduleResult{r}
			if r.Failed() {
				res.Failures = res.Schedules
			}
			if err := writeChaosJSON(f.out, cmd.OutOrStdout(), res); err != nil {
				return err
			}
			if r.Failed() {
				return &exitCodeError{code: chaosExitFindings, msg: "chaos: findings (see above)"}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "seed %d: %d steps, no findings\n", s.Seed, len(s.Steps))
			return nil
		},
	}
	f.register(cmd)
	g.register(cmd)
	return cmd
}

func newChaosShrinkCmd() *cobra.Command {
	var f chaosFlags
	var g regenFlags
	var tries, maxRuns int
	var write, note string
	cmd := &cobra.Command{
		Use:   "shrink SEED|SCHEDULE.yaml",
		Short: "Shrink a failing schedule by delta debugging to a minimal YAML schedule",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			wc, s, err := g.load(&f, args[0])
			if err != nil {
				return err
			}
			sh, ok := chaos.Shrink(cmd.Context(), wc, s, tries, maxRuns)
			if !ok {
				return fmt.Errorf("chaos: seed %d does not fail (nothing to shrink)", s.Seed)
			}
			sh.Schedule.Note = note
			fmt.Fprintf(cmd.OutOrStdout(), "seed %d: %s shrunk from %d to %d steps in %d runs\n", sh.Seed, sh.Kind, sh.From, sh.Steps, sh.Runs)
			for i, st := range sh.Schedule.Steps {
				fmt.Fprintf(cmd.OutOrStdout(), "%3d %s\n", i, st)
			}
			for _, fd := range sh.Findings {
				fmt.Fprintln(cmd.OutOrStdout(), fd)
			}
			if write != "" {
				if err := chaos.WriteSchedule(write, sh.Schedule); err != nil {
					return err
				}
			}
			res := chaos.Result{Kind: chaos.ResultKind, Mode: f.mode, Seed: s.Seed, Started: time.Now().UTC(), Shrunk: []chaos.Shrunk{sh}}
			if err := writeChaosJSON(f.out, cmd.OutOrStdout(), res); err != nil {
				return err
			}
			return &exitCodeError{code: chaosExitFindings, msg: "chaos: findings (see above)"}
		},
	}
	f.register(cmd)
	g.register(cmd)
	fl := cmd.Flags()
	fl.IntVar(&tries, "tries", 2, "runs of a candidate before it counts as passing (faults race timers)")
	fl.IntVar(&maxRuns, "max-runs", 300, "most worlds to start")
	fl.StringVar(&write, "write", "", "write the shrunk schedule (YAML) here, e.g. chaos/testdata/NAME.yaml")
	fl.StringVar(&note, "note", "", "the note the YAML schedule carries")
	return cmd
}
