package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/faults"
)

// serveFaultAdmin serves in's faults as raw faults.Spec JSON at
// http://addr/faults (GET, PUT {"faults": [...]}, DELETE), for the fakes
// without an admin API (kdc, dns). Plain HTTP: loopback only. stop ends it.
func serveFaultAdmin(addr string, in *faults.Injector, out io.Writer) (stop func(), err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--fault-admin-listen %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("--fault-admin-listen %q: plain HTTP, loopback only", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("fault admin: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/faults", in.AdminHandler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(out, "fault admin: %v\n", err)
		}
	}()
	fmt.Fprintf(out, "Faults:  http://%s/faults (faults.Spec JSON)\n", ln.Addr())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
