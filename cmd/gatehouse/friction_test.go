package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gatehouse-lab/gatehouse/lab"
)

// The ctl command `gatehouse lab` prints works as pasted: it runs the
// source with go run (no installed binary), trusts the lab's gateway
// certificate (--ca, also in --json) and reads the token from a file.
// Here the part after `go run ./cmd/gatehouse` runs in-process.
func TestLabCtlCommandWorksAsPrinted(t *testing.T) {
	l, err := lab.Start(context.Background(), lab.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(context.Background()) })
	e := l.Endpoints()
	line := e.Gateway.CtlCommand
	const prefix = "go run ./cmd/gatehouse "
	if !strings.HasPrefix(line, prefix) {
		t.Fatalf("printed command %q does not start with %q", line, prefix)
	}
	if e.Gateway.CAFile == "" || !strings.Contains(line, "--ca "+e.Gateway.CAFile) {
		t.Fatalf("CA file %q missing from --json or the command %q", e.Gateway.CAFile, line)
	}
	if strings.Contains(line, e.Gateway.AdminToken) {
		t.Fatalf("the printed command shows the token itself: %q", line)
	}
	var out bytes.Buffer
	root := newRootCmd()
	root.SetArgs(strings.Fields(strings.TrimPrefix(line, prefix)))
	root.SetOut(&out)
	root.SetErr(&out)
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out.String())
	}
	var printed bytes.Buffer
	printEndpoints(&printed, e)
	if !strings.Contains(printed.String(), line) {
		t.Fatalf("gatehouse lab does not print %q:\n%s", line, printed.String())
	}
}

// gateway, exchange and uem run side by side with their defaults: no two
// default listen addresses are the same.
func TestServerDefaultPortsDiffer(t *testing.T) {
	root := newRootCmd()
	seen := map[string]string{}
	for _, name := range []string{"gateway", "exchange", "uem"} {
		cmd, _, err := root.Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if !strings.HasSuffix(f.Name, "listen") || f.DefValue == "" || strings.HasSuffix(f.DefValue, ":0") {
				return
			}
			if other, dup := seen[f.DefValue]; dup {
				t.Errorf("%s --%s and %s both default to %s", name, f.Name, other, f.DefValue)
			}
			seen[f.DefValue] = name + " --" + f.Name
		})
	}
	if len(seen) < 5 {
		t.Fatalf("found only %v", seen)
	}
}

// Every server takes --admin-token-file; the old value spellings still
// work (deprecated) so scripts do not break.
func TestAdminTokenFlagsOneSpelling(t *testing.T) {
	tokFile := filepath.Join(t.TempDir(), "tok")
	if err := os.WriteFile(tokFile, []byte("s3cret-token-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	root := newRootCmd()
	// Every subcommand with an admin token flag, found from the tree so
	// that a new server cannot slip back to the old spelling.
	type tokenCmd struct {
		cmd   *cobra.Command
		flags *pflag.FlagSet
		old   string
	}
	var cmds []tokenCmd
	for _, c := range root.Commands() {
		switch {
		case c.PersistentFlags().Lookup("token") != nil:
			cmds = append(cmds, tokenCmd{c, c.PersistentFlags(), "token"})
		case c.Flags().Lookup("admin-token") != nil:
			cmds = append(cmds, tokenCmd{c, c.Flags(), "admin-token"})
		}
	}
	if len(cmds) < 4 {
		t.Fatalf("only %d commands with an admin token flag", len(cmds))
	}
	for _, tc := range cmds {
		flags := tc.flags
		nf, old := flags.Lookup("admin-token-file"), flags.Lookup(tc.old)
		if nf == nil || old == nil {
			t.Fatalf("%s: --admin-token-file %v, --%s %v", tc.cmd.Name(), nf, tc.old, old)
		}
		if old.Deprecated == "" {
			t.Errorf("%s --%s is not marked deprecated", tc.cmd.Name(), tc.old)
		}
		if err := nf.Value.Set(tokFile); err != nil {
			t.Fatal(err)
		}
		if got := old.Value.String(); got != "s3cret-token-value" {
			t.Errorf("%s: --admin-token-file gave %q", tc.cmd.Name(), got)
		}
	}
}

// Every subcommand of gatehouse has an example in its help.
func TestEveryCommandHasAnExample(t *testing.T) {
	for _, c := range newRootCmd().Commands() {
		if c.Example == "" && !c.Hidden && c.Name() != "help" && c.Name() != "completion" {
			t.Errorf("gatehouse %s has no example in its help", c.Name())
		}
	}
}

// `gatehouse exchange` and `gatehouse lab` have the same demo users in the
// same domain by default.
func TestExchangeAndLabShareDemoUsers(t *testing.T) {
	root := newRootCmd()
	x, _, _ := root.Find([]string{"exchange"})
	lb, _, _ := root.Find([]string{"lab"})
	if xu, lu := x.Flags().Lookup("users").DefValue, lb.Flags().Lookup("users").DefValue; xu != lu {
		t.Errorf("exchange --users %s, lab --users %s", xu, lu)
	}
	if d := x.Flags().Lookup("domain").DefValue; d != lab.DefaultDomain {
		t.Errorf("exchange --domain %s, lab %s", d, lab.DefaultDomain)
	}
}

// Two labs side by side: the second's dashboard takes a free port when
// the default one is taken (and says so), rather than failing the lab;
// an address given explicitly is kept or fails.
func TestLabDashboardDefaultPortTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	l, err := lab.Start(context.Background(), lab.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(context.Background()) })
	if _, err := startDashboard(l, taken.Addr().String(), false, io.Discard); err == nil {
		t.Fatal("an explicit, taken address did not fail")
	}
	var warn bytes.Buffer
	d, err := startDashboard(l, taken.Addr().String(), true, &warn)
	if err != nil {
		t.Fatalf("default address taken: %v", err)
	}
	defer d.Shutdown(context.Background())
	if strings.Contains(d.URL(), taken.Addr().String()) || !strings.Contains(warn.String(), "is taken") {
		t.Errorf("dashboard at %s, warning %q", d.URL(), warn.String())
	}
}
