package main

import "strings"

// smallStacksSetting turns off the runtime's adaptive starting stack size
// for the gateway. With it on, every new goroutine starts with the
// average stack in use at the last collection rounded up to a power of
// two: the parked handler chain of a held Ping (about 11 KB deep) puts
// that average at 8 KiB, so net/http's per-request background read
// (about 2.6 KB deep while parked) starts with 8 KiB and can never be
// shrunk below it. Off, it starts at 2 KiB and grows to 4 KiB: 4.4 KB
// less a held Ping (docs/performance.md, "Held Ping memory"). The
// runtime reads it once, at start, from GODEBUG only (no //go:debug
// directive exists for it), hence the re-execution.
const smallStacksSetting = "adaptivestackstart=0"

// smallStacksEnv returns the environment to re-execute `gatehouse
// gateway` with, and false when there is nothing to do: another
// subcommand, or GODEBUG already says something of adaptivestackstart
// (an operator's choice, or the re-executed process itself).
func smallStacksEnv(args, environ []string) ([]string, bool) {
	if len(args) < 2 || args[1] != "gateway" {
		return nil, false
	}
	godebug := ""
	env := make([]string, 0, len(environ)+1)
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
			godebug = v
			continue
		}
		env = append(env, kv)
	}
	for _, s := range strings.Split(godebug, ",") {
		if strings.HasPrefix(strings.TrimSpace(s), "adaptivestackstart=") {
			return nil, false
		}
	}
	if godebug != "" {
		godebug += ","
	}
	return append(env, "GODEBUG="+godebug+smallStacksSetting), true
}
