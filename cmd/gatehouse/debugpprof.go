package main

import (
	"errors"
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

// startDebugPprof serves the profiles on $GATEHOUSE_DEBUG_PPROF and prints
// the address it bound on stderr; a bad address is reported and ignored
// (a debugging aid must not stop the command).
func startDebugPprof() {
	addr := os.Getenv(debugPprofEnv)
	if addr == "" {
		return
	}
	ln, err := debugPprofListen(addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gatehouse: %s: %v\n", debugPprofEnv, err)
		return
	}
	fmt.Fprintf(os.Stderr, "gatehouse: pprof on http://%s/debug/pprof/\n", ln.Addr())
	srv := &http.Server{Handler: debugPprofMux(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
}

// debugPprofListen listens on addr, a loopback address only: the
// profiles reveal memory contents.
func debugPprofListen(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return nil, errors.New("not a loopback address: " + addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("debug pprof: %w", err)
	}
	return ln, nil
}

// debugPprofMux serves the runtime's profiles (index, named profiles, CPU).
func debugPprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	return mux
}
