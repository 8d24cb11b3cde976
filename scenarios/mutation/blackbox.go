package mutation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/gatehouse-lab/gatehouse/gateway"
	"github.com/gatehouse-lab/gatehouse/internal/loopback"
	"github.com/gatehouse-lab/gatehouse/scenarios/framework/settings"
)

// blackBox builds the mutant gatehouse binary and returns the unmutated
// suite set up to test it as an external gateway (docs/conformance.md,
// "Testing another gateway"): the suite starts its fakes on free ports and
// starts, restarts and kills the gateway with a script, whose pid file
// names the one process it may signal. stop ends that gateway.
func (r *runner) blackBox(ctx context.Context, dir, src string) (suiteRun, func(), error) {
	bin := filepath.Join(dir, "gatehouse")
	if err := build(ctx, src, filepath.Join(dir, "build.log"), "build", "-o", bin, "./cmd/gatehouse"); err != nil {
		return suiteRun{}, nil, fmt.Errorf("the mutant does not build: %w", err)
	}
	ports, err := freePorts(6)
	if err != nil {
		return suiteRun{}, nil, err
	}
	gw, notify, admin, uem, uemAdmin, exch := ports[0], ports[1], ports[2], ports[3], ports[4], ports[5]
	st, err := settings.FromEnv(func(string) string { return "" }) // the suite's defaults: token, secret
	if err != nil {
		return suiteRun{}, nil, err
	}
	adminToken := make([]byte, 16)
	_, _ = rand.Read(adminToken)
	data := filepath.Join(dir, "gateway-data")
	script := filepath.Join(dir, "gateway.sh")
	body := gatewayScript(filepath.Join(dir, "gateway.pid"), filepath.Join(dir, "gateway.log"), []string{
		"GATEHOUSE_UEM_TOKEN=" + st.GatewayToken, "GATEHOUSE_UEM_NOTIFY_SECRET=" + st.NotifySecret,
		"GATEHOUSE_ADMIN_TOKEN=" + hex.EncodeToString(adminToken),
	}, []string{bin, "gateway", "--listen", gw, "--notify-listen", notify, "--admin-listen", admin,
		"--data-dir", data, "--uem-url", "https://" + uem, "--uem-insecure", "--upstream-insecure",
		"--check-interval", "1s", "--resync-interval", "1s", "--last-seen-interval", "1s", "--persist-interval", "10s"})
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		return suiteRun{}, nil, err
	}
	sh := func(verb string) string { return "sh " + shellQuote(script) + " " + verb }
	stop := func() { _ = exec.Command("sh", script, "stop").Run() }
	st.GatewayURL, st.NotifyURL = "https://"+gw, "https://"+notify+gateway.NotificationPath
	st.RestartCmd, st.KillCmd, st.StartCmd = sh("restart"), sh("kill"), sh("start")
	st.UEMListen, st.UEMAdmin, st.ExchangeAddr = uem, uemAdmin, exch
	// The statistics, audit and alerts specs read the gateway through its
	// documented admin API only: they run against the mutant as against
	// another gateway that offers it.
	st.GatewayAdminURL, st.GatewayAdminToken = "https://"+admin, hex.EncodeToString(adminToken)
	before := func() error {
		// Each pass starts the fakes afresh: the gateway starts afresh too
		// (the suite's restart command), with an empty device list.
		stop()
		if err := os.RemoveAll(data); err != nil {
			return err
		}
		return os.MkdirAll(data, 0o700)
	}
	return suiteRun{bin: r.suite, cwd: dir, dir: dir, settings: st, before: before}, stop, nil
}

// gatewayScript is the shell script behind the suite's restart, kill and
// start commands: start runs the gateway in the background and records
// its pid; restart stops it (SIGTERM) and starts it; kill sends SIGKILL;
// stop stops it. Each waits, at most 30 s, until the process is gone.
func gatewayScript(pidfile, log string, env, argv []string) string {
	q := func(ss []string) string {
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = shellQuote(s)
		}
		return strings.Join(out, " ")
	}
	return fmt.Sprintf(`#!/bin/sh
# The mutant gateway under test (gatehouse mutants run --mode black-box).
pidfile=%s
end() {
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	rm -f "$pidfile"
	kill -"$1" "$pid" 2>/dev/null || return 0
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
}
start() {
	env %s %s >>%s 2>&1 </dev/null &
	echo $! >"$pidfile"
}
case "$1" in
start) start ;;
restart) end TERM; start ;;
kill) end KILL ;;
stop) end TERM ;;
*) echo "usage: $0 start|restart|kill|stop" >&2; exit 2 ;;
esac
`, shellQuote(pidfile), q(env), q(argv), shellQuote(log))
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// freePorts returns n loopback addresses free a moment ago, below the
// ephemeral range: the gateway binds its ports again at each restart, and
// a port from bind(0) could meanwhile go to another program.
func freePorts(n int) ([]string, error) {
	var out []string
	for range n {
		addr, err := loopback.Port()
		if err != nil {
			return nil, fmt.Errorf("mutation: free port: %w", err)
		}
		out = append(out, addr)
	}
	return out, nil
}
