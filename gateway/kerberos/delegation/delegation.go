// Package delegation is the gateway's Kerberos Constrained Delegation for
// ActiveSync (KRB-01 to KRB-16): it logs the gateway's service principal
// in at start (retrying as DEF-06 says), obtains service tickets for a
// device's UPN to the ActiveSync server's SPN with S4U2Self + S4U2Proxy,
// caches them per (UPN, SPN) with an idle timeout, and builds the
// "Authorization: Negotiate" header. It also serves KKDCP (proxy.go) and
// the KDC connectivity check of the admin CLI.
package delegation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/gatehouse-lab/gatehouse/gateway/kerberos/discovery"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/protocol/kerberos"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// DefaultIdleTimeout is how long an unused service ticket stays cached.
// KRB-11 prints "cache-ticket-idle-timeout = 48" without a unit; the
// cache dump columns are in minutes, so we read it as 48 minutes.
const DefaultIdleTimeout = 48 * time.Minute

// Backoff is the initialisation retry schedule (DEF-06): Initial, doubling,
// capped at Max, each delay moved by up to ±Jitter of itself (the cap
// applies before the jitter, so a capped delay is Max ± Jitter).
type Backoff struct {
	Initial, Max time.Duration
	Jitter       float64
}

// DefaultBackoff is DEF-06: 1 minute doubling to 1 hour, ±20 % jitter.
var DefaultBackoff = Backoff{Initial: time.Minute, Max: time.Hour, Jitter: 0.2}

// BackOff returns a fresh schedule: its NextBackOff is the wait after
// each failed attempt in turn.
func (b Backoff) BackOff() *backoff.ExponentialBackOff {
	return &backoff.ExponentialBackOff{InitialInterval: b.Initial, Multiplier: 2, MaxInterval: b.Max, RandomizationFactor: b.Jitter}
}

// Options are the parts that do not come from the UEM.
type Options struct {
	Resolver    discovery.Resolver  // net.DefaultResolver when nil
	StaticHosts map[string][]string // the static hosts file (KDC-10)
	PerKDC      time.Duration       // timeout for one KDC, 3 s when zero
	IdleTimeout time.Duration       // DefaultIdleTimeout when zero
	Retry       Backoff             // DefaultBackoff when Initial is zero
	// After waits for the retry delay; time.After when nil (tests inject
	// a fake clock).
	After  func(time.Duration) <-chan time.Time
	Now    func() time.Time // time.Now when nil
	Peaks  *stats.Peaks     // peak-kerb-servtkt-cache-size; nil: none
	Log    *slog.Logger
	Dialer func(ctx context.Context, network, addr string) (net.Conn, error) // net.Dialer when nil
}

// Delegator is one Kerberos configuration in use: it obtains and caches
// the tickets of Kerberos Constrained Delegation. Safe for concurrent use.
type Delegator struct {
	cfg     uemapi.KerberosConfig
	opts    Options
	realm   string
	spn     string // the gateway's service principal
	loc     *discovery.Locator
	res     discovery.Resolver
	tr      *discovery.Transport
	client  *kerberos.S4UClient
	initMu  sync.Mutex // one initialisation at a time
	mu      sync.Mutex
	inited  bool
	lastErr error
	tries   int
	cache   map[cacheKey]*entry
	calls   map[cacheKey]*call // tickets being requested: one request per key
	pruned  time.Time
	// proxyRealms are the realms the KDC proxy relays to, upper-cased.
	proxyRealms atomic.Pointer[map[string]bool]
	accept      acceptKeys // the gateway's own keys, for tickets devices present (accept.go)
}

// call is one ticket request others for the same key wait for.
type call struct {
	done chan struct{}
	cred kerberos.Credential
	err  error
}

type cacheKey struct{ upn, spn string }

type entry struct {
	cred     kerberos.Credential
	created  time.Time
	lastUsed time.Time
}

// New checks cfg and prepares the client; it does no I/O (see Run, Init).
func New(cfg uemapi.KerberosConfig, opts Options) (*Delegator, error) {
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	if len(opts.StaticHosts) > 0 {
		opts.Resolver = discovery.StaticHosts(opts.Resolver, opts.StaticHosts)
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.Retry.Initial <= 0 {
		opts.Retry = DefaultBackoff
	}
	if opts.Retry.Max < opts.Retry.Initial {
		opts.Retry.Max = opts.Retry.Initial
	}
	if opts.After == nil {
		opts.After = time.After
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	k := &Delegator{cfg: cfg, opts: opts, realm: cfg.Realm, spn: cfg.ServicePrincipal, res: opts.Resolver, cache: map[cacheKey]*entry{}, calls: map[cacheKey]*call{}}
	var secret kerberos.Secret
	if cfg.UseKeytab {
		kt := new(keytab.Keytab)
		if err := kt.Unmarshal(cfg.Keytab); err != nil {
			return nil, fmt.Errorf("delegation: keytab: %w", err)
		}
		if len(kt.Entries) == 0 {
			return nil, errors.New("delegation: keytab has no entries")
		}
		e := kt.Entries[0].Principal
		if k.realm == "" {
			k.realm = e.Realm
		}
		if k.spn == "" {
			k.spn = strings.Join(e.Components, "/")
		}
		secret.Keytab = kt
	} else {
		secret.Password = cfg.Password
	}
	if k.realm == "" || k.spn == "" {
		return nil, errors.New("delegation: realm and service principal are required")
	}
	lc := discovery.Config{Realm: k.realm, DisableDiscovery: !cfg.DNSDiscovery}
	if cfg.KDCs != "" {
		lc.KDCs = []string{cfg.KDCs}
	}
	for _, r := range cfg.AdditionalRealms {
		lc.AdditionalRealms = append(lc.AdditionalRealms, discovery.Realm{Name: r.Realm, KDCs: []string{r.KDCs}})
	}
	loc, err := discovery.New(lc, opts.Resolver)
	if err != nil {
		return nil, fmt.Errorf("delegation: %w", err)
	}
	k.loc = loc
	k.tr = &discovery.Transport{Locator: loc, PerTarget: opts.PerKDC, DialContext: opts.Dialer}
	k.client = &kerberos.S4UClient{Principal: k.spn, Realm: k.realm, Secret: secret, Transport: k.tr, Now: opts.Now}
	k.SetProxyRealms(cfg.KDCProxyRealms)
	return k, nil
}

// Realm is the gateway's realm; ServicePrincipal its principal.
func (k *Delegator) Realm() string { return k.realm }

// ServicePrincipal is the gateway's service principal (sentry-spn).
func (k *Delegator) ServicePrincipal() string { return k.spn }

// Init initialises Kerberos by hand (KRB-07, `debug kerberos init`): it
// gets the gateway's TGT, and does nothing when already initialised.
// already reports that case.
func (k *Delegator) Init(ctx context.Context) (already bool, err error) {
	k.initMu.Lock()
	defer k.initMu.Unlock()
	if k.Initialised() {
		return true, nil
	}
	_, err = k.client.Login(ctx)
	k.mu.Lock()
	k.tries++
	k.lastErr = err
	if err == nil {
		k.inited = true
	}
	k.mu.Unlock()
	return false, err
}

// Initialised reports whether the gateway holds its TGT.
func (k *Delegator) Initialised() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.inited
}

// Run initialises Kerberos at start (KRB-06): on failure it logs a warning
// and retries after Options.Retry's delays until it succeeds or ctx ends.
func (k *Delegator) Run(ctx context.Context) error {
	retry := k.opts.Retry.BackOff()
	for {
		_, err := k.Init(ctx)
		if err == nil {
			k.opts.Log.Info("Kerberos initialised", "principal", k.spn, "realm", k.realm)
			return nil
		}
		d := retry.NextBackOff()
		k.opts.Log.Warn("Kerberos initialisation failed; retrying", "principal", k.spn, "realm", k.realm, "retry_in", d, "error", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-k.opts.After(d):
		}
	}
}

// NegotiateHeader returns the "Negotiate …" Authorization value that
// authenticates upn to the server spn, using a cached service ticket when
// one is fresh (KRB-16) and S4U2Self + S4U2Proxy otherwise.
func (k *Delegator) NegotiateHeader(ctx context.Context, upn, spn string) (string, error) {
	cred, err := k.Ticket(ctx, upn, spn)
	if err != nil {
		return "", err
	}
	return cred.NegotiateHeader(k.opts.Now())
}

// Ticket returns the service ticket for (upn, spn), cached or new.
// Concurrent misses for one key share one request to the KDC, so that
// devices reconnecting together do not multiply S4U exchanges.
func (k *Delegator) Ticket(ctx context.Context, upn, spn string) (kerberos.Credential, error) {
	now := k.opts.Now()
	key := cacheKey{upn, spn}
	k.mu.Lock()
	if e, ok := k.cache[key]; ok {
		if k.fresh(e, now) {
			e.lastUsed = now
			cred := e.cred
			k.mu.Unlock()
			return cred, nil
		}
		delete(k.cache, key)
	}
	if c, ok := k.calls[key]; ok {
		k.mu.Unlock()
		select {
		case <-c.done:
			return c.cred, c.err
		case <-ctx.Done():
			return kerberos.Credential{}, ctx.Err()
		}
	}
	c := &call{done: make(chan struct{})}
	k.calls[key] = c
	k.mu.Unlock()

	// Others wait for this request: a device going away must not fail
	// it for them. The per-KDC timeouts bound it; so does this.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	c.cred, c.err = k.RequestTicket(rctx, upn, spn)
	cancel()
	k.mu.Lock()
	delete(k.calls, key)
	n := 0
	if c.err == nil {
		if now.Sub(k.pruned) > time.Minute {
			k.prune(now)
		}
		k.cache[key] = &entry{cred: c.cred, created: now, lastUsed: now}
		n = len(k.cache)
		k.inited = true // a ticket needs the TGT: initialised whatever Run says
	}
	k.mu.Unlock()
	close(c.done)
	if c.err == nil && k.opts.Peaks != nil {
		k.opts.Peaks.Observe(stats.PeakKerbServtktCacheSize, float64(n), now)
	}
	return c.cred, c.err
}

// fresh reports whether a cached ticket may be used: used within the
// idle timeout and valid for at least another minute.
func (k *Delegator) fresh(e *entry, now time.Time) bool {
	return now.Sub(e.lastUsed) < k.opts.IdleTimeout && e.cred.EndTime.After(now.Add(time.Minute))
}

// prune drops the tickets that may no longer be used; k.mu is held.
func (k *Delegator) prune(now time.Time) {
	k.pruned = now
	for key, e := range k.cache {
		if !k.fresh(e, now) {
			delete(k.cache, key)
		}
	}
}

// RequestTicket obtains a new ticket without caching it (KRB-10's test
// tickets, which are not cached or reused).
func (k *Delegator) RequestTicket(ctx context.Context, upn, spn string) (kerberos.Credential, error) {
	if spn == "" {
		return kerberos.Credential{}, errors.New("delegation: no SPN for the ActiveSync server")
	}
	cred, err := k.client.ServiceCredential(ctx, upn, spn)
	if err != nil {
		return kerberos.Credential{}, fmt.Errorf("delegation: ticket for %s to %s: %w", upn, spn, err)
	}
	return cred, nil
}

// Info is `show kerberos` (KRB-11).
type Info struct {
	SentrySPN              string `json:"sentry-spn"`
	Realm                  string `json:"realm"`
	CacheTicketIdleTimeout int    `json:"cache-ticket-idle-timeout"` // minutes
	CacheSize              int    `json:"cache-size"`
	Initialised            bool   `json:"initialised"`
	InitAttempts           int    `json:"init-attempts"`
	LastError              string `json:"last-error,omitempty"`
}

// Info reports the module's state.
func (k *Delegator) Info() Info {
	now := k.opts.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	k.prune(now)
	i := Info{SentrySPN: k.spn, Realm: k.realm, CacheTicketIdleTimeout: int(k.opts.IdleTimeout / time.Minute),
		CacheSize: len(k.cache), Initialised: k.inited, InitAttempts: k.tries}
	if k.lastErr != nil && !k.inited {
		i.LastError = k.lastErr.Error()
	}
	return i
}

// CacheEntry is one row of `show kerberos cache dump` (KRB-12, KRB-13).
type CacheEntry struct {
	Index       int       `json:"indx"`
	UPN         string    `json:"user-upn"`
	SPN         string    `json:"spn"`
	CreatedMin  int       `json:"created-m"`
	IdleTimeMin int       `json:"idle-time-m"`
	Created     time.Time `json:"creation-time"`
}

// Cache lists the cached tickets whose UPN contains filter (a full or
// partial UPN, case-insensitive; "" for all), by UPN then SPN.
func (k *Delegator) Cache(filter string) []CacheEntry {
	now := k.opts.Now()
	filter = strings.ToLower(filter)
	k.mu.Lock()
	k.prune(now)
	var out []CacheEntry
	for key, e := range k.cache {
		if filter != "" && !strings.Contains(strings.ToLower(key.upn), filter) {
			continue
		}
		out = append(out, CacheEntry{UPN: key.upn, SPN: key.spn, Created: e.created,
			CreatedMin: int(now.Sub(e.created) / time.Minute), IdleTimeMin: int(now.Sub(e.lastUsed) / time.Minute)})
	}
	k.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].UPN != out[j].UPN {
			return out[i].UPN < out[j].UPN
		}
		return out[i].SPN < out[j].SPN
	})
	for i := range out {
		out[i].Index = i
	}
	return out
}

// Forget drops the cached ticket of (upn, spn), which a server refused
// (a 401: the service's key changed, or the ticket is otherwise stale),
// so that the next request for it gets a new one. It reports whether
// there was one.
func (k *Delegator) Forget(upn, spn string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	key := cacheKey{upn, spn}
	_, ok := k.cache[key]
	delete(k.cache, key)
	return ok
}

// Purge drops the cached tickets of upn (exact, case-insensitive) and
// returns how many (KRB-14).
func (k *Delegator) Purge(upn string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := 0
	for key := range k.cache {
		if strings.EqualFold(key.upn, upn) {
			delete(k.cache, key)
			n++
		}
	}
	return n
}

// SPNFor returns the SPN of the ActiveSync server of svc at hostport (as
// the server list or a 451 location writes it) (KRB-02). With DeriveSPN
// it is "http/<host>", the host exactly as written. Otherwise the SPN
// list pairs with the server list by position (the first server gets the
// first SPN, as the seeds' Server SPN List does) when both have as many
// entries and the server is in the list; else the listed SPN whose host
// part equals the host exactly (SPNs are case-sensitive); else the first.
func SPNFor(svc uemapi.ActiveSyncService, hostport string) (string, error) {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if svc.DeriveSPN {
		if host == "" {
			return "", errors.New("delegation: no server host to derive the SPN from")
		}
		return "http/" + host, nil
	}
	list := splitList(svc.SPNs)
	if len(list) == 0 {
		return "", fmt.Errorf("delegation: service %s has no SPN", svc.Name)
	}
	if servers := splitList(svc.Servers); len(servers) == len(list) {
		if i := serverIndex(servers, hostport, host); i >= 0 {
			return list[i], nil
		}
	}
	for _, s := range list {
		h := s[strings.IndexByte(s, '/')+1:]
		if i := strings.IndexByte(h, '@'); i >= 0 {
			h = h[:i]
		}
		if h == host {
			return s, nil
		}
	}
	return list[0], nil
}

// serverIndex finds a server in the server list: the same host:port, or
// an entry of the same host that leaves the port out.
func serverIndex(servers []string, hostport, host string) int {
	for i, s := range servers {
		if s == hostport {
			return i
		}
	}
	for i, s := range servers {
		if s == host {
			return i
		}
	}
	return -1
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ";") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
