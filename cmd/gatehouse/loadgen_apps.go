package main

import (
	"errors"
	"fmt"

	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/loadgen"
)

// labAppTraffic wires a spec's app devices (docs/loadgen.md "App
// devices") to the lab: AppTunnel on at its UEM, the echo backends, each
// app device's identity certificate, and the mail devices' clients
// presenting their user's certificate (the mode AppTunnel needs). It
// returns what stops the backends.
func labAppTraffic(l *lab.Lab, integrated bool, opt *loadgen.Options) (func(), error) {
	if l == nil || integrated {
		return nil, errors.New("loadgen: the spec's app devices need --lab (without --lab-integrated): the lab provides the tunnel listener and the echo servers")
	}
	be, err := l.StartAppTraffic()
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	opt.Apps = &loadgen.AppTargets{Tunnel: be.Tunnel, HTTPURL: be.HTTPURL, TCPAddr: be.TCPAddr, Cert: l.AppCertificate}
	if opt.Clients, err = loadgen.CertClients(opt.Target, opt.Users, opt.Apps); err != nil {
		be.Close()
		return nil, err
	}
	return be.Close, nil
}
