package gateway

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/kerberos/delegation"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// applyKerberos starts using the UEM's Kerberos configuration: a new Delegator
// whose initialisation (with its retry, KRB-06) runs in the background.
// An unchanged configuration keeps the Delegator, its TGT and ticket cache.
func (s *Server) applyKerberos(kc *uemapi.KerberosConfig) error {
	s.kkdcp.Store(kc != nil && kc.KDCProxy)
	var raw []byte
	if kc != nil {
		// Switching the KDC proxy on or off, or changing the realms it
		// serves, keeps the Delegator and its tickets.
		c := *kc
		c.KDCProxy, c.KDCProxyRealms = false, nil
		raw, _ = json.Marshal(c)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if string(raw) == string(s.krbCfg) && (kc == nil) == (s.krb.Load() == nil) {
		if k := s.krb.Load(); k != nil {
			k.SetProxyRealms(kc.KDCProxyRealms)
		}
		return nil
	}
	if s.runCtx.Err() != nil {
		return ErrStopped // Shutdown is waiting for the background work: start none
	}
	var k *delegation.Delegator
	if kc != nil {
		first := s.cfg.KerberosRetry
		if first <= 0 {
			first = time.Minute
		}
		var err error
		k, err = delegation.New(*kc, delegation.Options{Resolver: s.resolver(), Retry: delegation.Backoff{Initial: first, Max: 60 * first, Jitter: 0.2},
			Peaks: s.peaks, Log: s.log.With("component", "kerberos")})
		if err != nil {
			return err
		}
	}
	if s.krbStop != nil {
		s.krbStop()
		s.krbStop = nil
	}
	s.krb.Store(k)
	s.krbCfg = raw
	if k == nil {
		s.as.SetKerberos(nil)
		return nil
	}
	s.as.SetKerberos(k)
	ctx, cancel := context.WithCancel(s.runCtx)
	s.krbStop = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = k.Run(ctx)
	}()
	return nil
}

// resolver is the DNS resolver of KDC discovery: the configured DNS
// server, else the system's.
func (s *Server) resolver() *net.Resolver {
	if s.cfg.DNSServer == "" {
		return net.DefaultResolver
	}
	addr := s.cfg.DNSServer
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// Kerberos returns the Kerberos configuration in use, nil when the UEM
// configured none.
func (s *Server) Kerberos() *delegation.Delegator { return s.krb.Load() }

// serveKKDCP is the KDC proxy (KKD-01) on the device listener; it needs
// the Kerberos configuration to know the realms' KDCs.
func (s *Server) serveKKDCP(w http.ResponseWriter, r *http.Request) {
	if !s.kkdcp.Load() {
		http.Error(w, "the Kerberos proxy is not enabled (Enable Kerberos Proxy)", http.StatusNotFound)
		return
	}
	k := s.krb.Load()
	if k == nil {
		http.Error(w, "Kerberos is not configured", http.StatusServiceUnavailable)
		return
	}
	k.ServeKKDCP(w, r)
}
