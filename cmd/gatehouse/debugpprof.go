package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"
)

// debugPprofEnv names a loopback address on which any subcommand (the
// lab, the load generator) serves /debug/pprof/ for a scale run's heap
// profiles and goroutine dumps (.ci/ping-scale.sh sets it per process).
// Unset, nothing listens. The gateway has its own on the admin API.
const debugPprofEnv = "GATEHOUSE_DEBUG_PPROF"

// startDebugPprof serves the profiles on $GATEHOUSE_DEBUG_PPROF (a
// loopback address only: they reveal memory contents) and prints the
// address it bound on stderr.
func startDebugPprof() {
	addr := os.Getenv(debugPprofEnv)
	if addr == "" {
		return
	}
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		fmt.Fprintf(os.Stderr, "gatehouse: %s=%q is not a loopback address: ignored\n", debugPprofEnv, addr)
		return
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gatehouse: %s: %v\n", debugPprofEnv, err)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(os.Stderr, "gatehouse: pprof on http://%s/debug/pprof/\n", ln.Addr())
	go func() { _ = srv.Serve(ln) }()
}
