package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/loadgen"
)

// exitCodeError makes main exit with a given code (thresholds: 99).
type exitCodeError struct {
	code int
	msg  string
}

func (e *exitCodeError) Error() string { return e.msg }

func newLoadgenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "loadgen",
		Short: "Drive fleets of simulated ActiveSync devices against a gateway",
		Long: `Drive a fleet of simulated devices (a YAML spec, see docs/loadgen.md) against a
gateway, measure every command in HDR histograms and write mergeable results.
The exit code is 99 when a threshold of the spec breaks.`,
	}
	cmd.AddCommand(newLoadgenRunCmd(), newLoadgenMergeCmd(), newLoadgenPresetCmd(), newLoadgenBenchCmd())
	return cmd
}

// loadgenRun is one `gatehouse loadgen run`: its flags.
type loadgenRun struct {
	specPath, target, preset, shard, out, runID, labDir string
	cpuProfile                                          string
	useLab, quiet, labSubprocess, labHTTP2              bool
	labIntegrated                                       bool // --lab-integrated
	sources, labMessages, maxConns                      int
	duration, statsInterval                             time.Duration
	params                                              loadgen.PresetParams
}

func newLoadgenRunCmd() *cobra.Command {
	var r loadgenRun
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run a fleet (--spec or --preset) against --target URL or an in-process --lab",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return r.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&r.specPath, "spec", "", "fleet spec (YAML)")
	f.StringVar(&r.preset, "preset", "", "preset run: "+strings.Join(loadgen.PresetNames(), ", ")+" (its built-in spec unless --spec)")
	f.DurationVar(&r.duration, "duration", 0, "override the spec's duration (soak: --duration 8h for a long run)")
	f.BoolVar(&r.labSubprocess, "lab-subprocess", false, "run the lab's gateway as a subprocess of this binary (real restarts; its memory apart from the load generator's)")
	f.StringVar(&r.cpuProfile, "cpuprofile", "", "write a CPU profile of this process (go tool pprof)")
	f.BoolVar(&r.labHTTP2, "lab-http2", false, "the lab's Exchange offers HTTP/2 and its gateway multiplexes Pings upstream on it")
	f.BoolVar(&r.labIntegrated, "lab-integrated", false, "integrated mode: the fleet talks to the lab's Exchange itself, which enforces the UEM's decisions through the integrated connector (docs/integrated.md)")
	f.BoolVar(&r.params.ColdStart.UEMDown, "uem-down", false, "coldstart: take the UEM down before the restart (the gateway starts from its persistent list)")
	f.BoolVar(&r.params.ColdStart.Purge, "purge", false, "coldstart: empty the gateway's cache and list before the restart (control: every device a first access)")
	f.BoolVar(&r.params.ColdStart.Unregistered, "unregistered", false, "coldstart: do not register the devices at the UEM (init from the UEM loads registered devices only)")
	f.IntVar(&r.params.Generate, "generate", 20000, "resync: synthetic associations added at the UEM so that a resync lists that many devices more")
	f.DurationVar(&r.params.SoakInterval, "interval", 5*time.Second, "soak: sample latency and the gateway's memory this often")
	f.StringVar(&r.target, "target", "", "the gateway's device-facing base URL (https://127.0.0.1:8443)")
	f.BoolVar(&r.useLab, "lab", false, "boot an in-process lab (fake UEM, fake Exchange, gateway) and aim at its gateway")
	f.IntVar(&r.labMessages, "lab-messages", 4, "mails per lab mailbox")
	f.StringVar(&r.labDir, "lab-dir", "", "keep the lab's files here (the gateway's global-stats.csv is in DIR/gateway-data); a temporary directory when empty")
	f.DurationVar(&r.statsInterval, "lab-stats-interval", time.Minute, "how often the lab gateway appends to global-stats.csv (gatehouse report charts it)")
	f.StringVar(&r.shard, "shard", "", "i/n: run this process's slice of the fleet (device ids and arrival rate)")
	f.StringVarP(&r.out, "out", "o", "", "results file (JSON with HDR histograms)")
	f.StringVar(&r.runID, "run-id", "", "run id in new devices' ids (random by default)")
	f.IntVar(&r.sources, "sources", 8, "loopback source addresses 127.0.0.2... to spread connections over")
	f.IntVar(&r.maxConns, "max-conns", 0, "bound the open connections (keep under ulimit -n); 0: no bound")
	f.IntVar(&r.params.Blocked, "blocked", 5, "failopen: devices blocked at the UEM before the outage")
	f.BoolVarP(&r.quiet, "quiet", "q", false, "no progress line")
	return cmd
}

// run checks the flags, starts the lab if asked, runs the fleet or the
// preset and reports.
func (r *loadgenRun) run(ctx context.Context, stdout, stderr io.Writer) error {
	spec, err := loadSpec(r.specPath, r.preset)
	if err != nil {
		return err
	}
	if r.useLab == (r.target != "") {
		return errors.New("loadgen: give exactly one of --target URL or --lab")
	}
	var preset loadgen.Preset
	if r.preset != "" {
		if preset, err = loadgen.LookupPreset(r.preset); err != nil {
			return err
		}
		if preset.NeedsLab && !r.useLab {
			return fmt.Errorf("loadgen: the %s preset needs --lab (it drives the lab's UEM and gateway)", preset.Name)
		}
	}
	if r.duration > 0 {
		spec.Duration = loadgen.Duration(r.duration)
	}
	if r.cpuProfile != "" {
		// The whole process: the load generator, and with --lab the
		// gateway and fakes in it, to find what bounds a fleet.
		f, err := os.Create(r.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	opt := loadgen.Options{Target: r.target, SourceAddrs: r.sources, RunID: r.runID, MaxConns: r.maxConns}
	if r.shard != "" {
		if opt.Shard, err = loadgen.ParseShard(r.shard); err != nil {
			return err
		}
	}
	if !r.quiet {
		opt.Progress = stderr
	}
	var l *lab.Lab
	if r.useLab {
		if l, err = r.startLab(ctx, spec.Users, &opt, stderr); err != nil {
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			l.Close(sctx)
		}()
	}
	if spec.Apps != nil && spec.Apps.Share > 0 {
		stop, err := labAppTraffic(l, r.labIntegrated, &opt)
		if err != nil {
			return err
		}
		defer stop()
	}
	var res *loadgen.Results
	if r.preset != "" {
		res, err = preset.Run(ctx, l, spec, opt, r.params)
	} else {
		res, err = loadgen.Run(ctx, spec, opt)
	}
	if res == nil {
		return err
	}
	return report(stdout, res, r.out, err)
}

// startLab boots the in-process lab and aims opt at its gateway and users.
func (r *loadgenRun) startLab(ctx context.Context, users int, opt *loadgen.Options, stderr io.Writer) (*lab.Lab, error) {
	lc := lab.Config{Users: users, MessagesPerUser: r.labMessages, Dir: r.labDir,
		CheckInterval: 2 * time.Second, ResyncInterval: 5 * time.Second, StatsInterval: r.statsInterval, HTTP2: r.labHTTP2, Integrated: r.labIntegrated}
	if r.labSubprocess {
		// This binary is the gateway: restarts are real, and its memory
		// is its own.
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		lc.Mode, lc.Binary = lab.Subprocess, exe
	}
	l, err := lab.Start(ctx, lc)
	if err != nil {
		return nil, err
	}
	opt.Target = l.DeviceURL()
	if r.labIntegrated {
		opt.Target = l.Exchange.URL() // no gateway in the mail path
	}
	for _, u := range l.Users() {
		opt.Users = append(opt.Users, loadgen.User{Name: u.Name, Password: u.Password, Email: u.Email})
	}
	fmt.Fprintf(stderr, "lab target at %s (integrated: %v)\n", opt.Target, r.labIntegrated)
	return l, nil
}

func loadSpec(path, preset string) (*loadgen.Spec, error) {
	if path == "" {
		if preset == "" {
			return nil, errors.New("loadgen: give --spec FILE or --preset NAME")
		}
		return loadgen.PresetSpec(preset)
	}
	if preset != "" {
		if _, err := loadgen.LookupPreset(preset); err != nil {
			return nil, err
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := loadgen.ParseSpec(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// report prints the summary, writes the results and turns broken
// thresholds into exit code 99.
func report(w io.Writer, res *loadgen.Results, out string, runErr error) error {
	fmt.Fprint(w, res.Summary())
	if ex := res.Extra; ex != nil {
		keys := make([]string, 0, len(ex))
		for k := range ex {
			if k != "curve" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := ex[k]
			if sr, ok := v.(*loadgen.SoakReport); ok { // the samples are in the results file
				c := *sr
				c.Samples = nil
				v = &c
			}
			b, err := json.MarshalIndent(v, "", "  ")
			if err != nil {
				return fmt.Errorf("loadgen: %s report: %w", k, err)
			}
			fmt.Fprintf(w, "%s: %s\n", k, b)
		}
	}
	if out != "" {
		if err := res.WriteFile(out); err != nil {
			return err
		}
	}
	if runErr != nil {
		return runErr
	}
	if code := res.ExitCode(); code != 0 {
		return &exitCodeError{code: code, msg: "loadgen: thresholds broken: " + strings.Join(res.Breaches, "; ")}
	}
	return nil
}

func newLoadgenMergeCmd() *cobra.Command {
	var out, specPath string
	cmd := &cobra.Command{
		Use:   "merge a.json b.json ... -o merged.json",
		Short: "Merge results of shards or runs (histograms added losslessly)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var rs []*loadgen.Results
			for _, a := range args {
				r, err := loadgen.ReadResults(a)
				if err != nil {
					return err
				}
				rs = append(rs, r)
			}
			m, err := loadgen.Merge(rs...)
			if err != nil {
				return err
			}
			if specPath != "" {
				s, err := loadSpec(specPath, "")
				if err != nil {
					return err
				}
				if _, err := m.Check(s.Thresholds); err != nil {
					return err
				}
			}
			return report(cmd.OutOrStdout(), m, out, nil)
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "merged results file")
	cmd.Flags().StringVar(&specPath, "spec", "", "check this spec's thresholds on the merged results (exit 99 when broken)")
	return cmd
}

func newLoadgenPresetCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "preset NAME",
		Short: "Print a preset's spec (" + strings.Join(loadgen.PresetNames(), ", ") + ") to start your own from",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := loadgen.LookupPreset(args[0])
			if err != nil {
				return err
			}
			_, err = io.WriteString(cmd.OutOrStdout(), p.Spec)
			return err
		},
	}
}

func newLoadgenBenchCmd() *cobra.Command {
	var (
		cfg      loadgen.BenchConfig
		headers  []string
		bodyFile string
		out      string
		plain    bool
	)
	cmd := &cobra.Command{
		Use:   "bench --url URL --rate R --duration D",
		Short: "Send one request at a constant open-model rate (compare the load generator with a baseline client)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Header = map[string][]string{}
			for _, h := range headers {
				k, v, ok := strings.Cut(h, ":")
				if !ok {
					return fmt.Errorf("loadgen: header %q is not Name: value", h)
				}
				cfg.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			}
			if bodyFile != "" {
				b, err := os.ReadFile(bodyFile)
				if err != nil {
					return err
				}
				cfg.Body = b
			}
			run := loadgen.Bench
			if plain {
				run = loadgen.BenchPlain
			}
			res, err := run(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			return report(cmd.OutOrStdout(), res, out, nil)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.URL, "url", "", "endpoint (loopback)")
	f.StringVar(&cfg.Method, "method", "POST", "HTTP method")
	f.StringArrayVarP(&headers, "header", "H", nil, "request header, Name: value (repeatable)")
	f.StringVar(&bodyFile, "body-file", "", "request body")
	f.Float64Var(&cfg.Rate, "rate", 1000, "requests per second")
	f.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long")
	f.IntVar(&cfg.SourceAddrs, "sources", 1, "loopback source addresses")
	f.IntVar(&cfg.MaxConns, "max-conns", 0, "bound the open connections; 0: no bound")
	f.BoolVar(&plain, "plain", false, "baseline: the simplest Go client loop instead of the load generator's pacer")
	f.StringVarP(&out, "out", "o", "", "results file")
	return cmd
}
