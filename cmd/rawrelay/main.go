// Command rawrelay runs internal/rawrelay on a port of its own, as a
// target of .ci/proxy-bench.sh (RELAY=1): the CPU a request costs a Go
// TLS relay with no HTTP library, beside nginx's and the gateway's in the
// same run. A benchmark tool, not part of gatehouse.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"time"

	"github.com/gatehouse-lab/gatehouse/internal/rawrelay"
	"github.com/gatehouse-lab/gatehouse/internal/selfsigned"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (loopback)")
	upstream := flag.String("upstream", "", "the TLS server to relay to, host:port (its certificate is not checked)")
	debug := flag.String("pprof", "", "serve /debug/pprof/ on this loopback address (.ci/ping-mem.sh reads the heap there)")
	flag.Parse()
	if *debug != "" {
		if err := servePprof(*debug); err != nil {
			fmt.Fprintln(os.Stderr, "rawrelay:", err)
			os.Exit(1)
		}
	}
	if err := run(*listen, *upstream); err != nil {
		fmt.Fprintln(os.Stderr, "rawrelay:", err)
		os.Exit(1)
	}
}

func run(listen, upstream string) error {
	if upstream == "" {
		return fmt.Errorf("--upstream is required")
	}
	if err := loopbackOnly("--listen", listen); err != nil {
		return err
	}
	cert, err := selfsigned.Generate("rawrelay", time.Now())
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	fmt.Println("listening on", ln.Addr())
	// The benchmark's own lab server: nothing to verify, as nginx's
	// proxy_ssl_verify is off in the same run.
	r := rawrelay.New(upstream, &tls.Config{InsecureSkipVerify: true}) // #nosec G402 -- loopback benchmark peer
	defer r.Close()
	return r.Serve(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))
}

func loopbackOnly(flagName, addr string) error {
	if host, _, err := net.SplitHostPort(addr); err != nil || !net.ParseIP(host).IsLoopback() {
		return fmt.Errorf("%s %q: a loopback address and port", flagName, addr)
	}
	return nil
}

// servePprof serves the runtime's profiles (net/http/pprof registers on
// the default mux) on a loopback address, unauthenticated as it is a
// benchmark's tool.
func servePprof(addr string) error {
	if err := loopbackOnly("--pprof", addr); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Println("pprof on", ln.Addr())
	go http.Serve(ln, nil) //nolint:errcheck // lives as long as the process
	return nil
}
