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
	"os"
	"time"

	"github.com/gatehouse-lab/gatehouse/internal/rawrelay"
	"github.com/gatehouse-lab/gatehouse/internal/selfsigned"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (loopback)")
	upstream := flag.String("upstream", "", "the TLS server to relay to, host:port (its certificate is not checked)")
	flag.Parse()
	if err := run(*listen, *upstream); err != nil {
		fmt.Fprintln(os.Stderr, "rawrelay:", err)
		os.Exit(1)
	}
}

func run(listen, upstream string) error {
	if upstream == "" {
		return fmt.Errorf("--upstream is required")
	}
	if host, _, err := net.SplitHostPort(listen); err != nil || !net.ParseIP(host).IsLoopback() {
		return fmt.Errorf("--listen %q: a loopback address and port", listen)
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
