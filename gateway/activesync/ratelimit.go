package activesync

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

// SourceLimits bound what one source address may do on the device
// listener (issue 18; the seeds' ACL "connections per minute", NET-01,
// NET-05). Zero means no limit.
type SourceLimits struct {
	// ConnectionsPerMinute bounds new connections; a source may open a
	// minute's worth at once.
	ConnectionsPerMinute int
	// RequestsPerSecond bounds requests; a source may send two seconds'
	// worth at once.
	RequestsPerSecond int
}

// maxSources bounds the sources tracked per limit. Past it idle sources
// are forgotten first (their buckets are full again, so forgetting them
// changes nothing), then arbitrary ones, which start again with a full
// bucket: at worst one more burst each.
const maxSources = 65536

// SourceLimiter applies SourceLimits per source address: one limit for
// loopback and trusted front ends (which carry many devices each), one
// for every other address. IPv6 sources count per /64, the block one
// host usually holds. Refusals count d-conn-rate-limited and
// d-rate-limited in the global statistics.
type SourceLimiter struct {
	trusted []netip.Prefix
	stats   *stats.Registry
	now     func() time.Time

	localConns, localReqs   *buckets // nil: unlimited
	remoteConns, remoteReqs *buckets
}

// NewSourceLimiter limits remote sources to remote and loopback sources
// and the trusted prefixes (front ends) to local; st may be nil.
func NewSourceLimiter(remote, local SourceLimits, trusted []netip.Prefix, st *stats.Registry) *SourceLimiter {
	return &SourceLimiter{trusted: trusted, stats: st, now: time.Now,
		localConns:  newBuckets(float64(local.ConnectionsPerMinute)/60, float64(local.ConnectionsPerMinute)),
		localReqs:   newBuckets(float64(local.RequestsPerSecond), 2*float64(local.RequestsPerSecond)),
		remoteConns: newBuckets(float64(remote.ConnectionsPerMinute)/60, float64(remote.ConnectionsPerMinute)),
		remoteReqs:  newBuckets(float64(remote.RequestsPerSecond), 2*float64(remote.RequestsPerSecond)),
	}
}

// source returns the address a limit counts and whether it is local.
func (l *SourceLimiter) source(remoteAddr string) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	a := ap.Addr().Unmap()
	if a.IsLoopback() {
		return a, true
	}
	for _, p := range l.trusted {
		if p.Contains(a) {
			return a, true
		}
	}
	if a.Is6() {
		a = netip.PrefixFrom(a, 64).Masked().Addr()
	}
	return a, false
}

// allowConn takes a connection token for the source of remoteAddr.
func (l *SourceLimiter) allowConn(remoteAddr string) bool {
	a, local := l.source(remoteAddr)
	b := l.remoteConns
	if local {
		b = l.localConns
	}
	return b.allow(a, l.now())
}

// allowRequest takes a request token for the source of remoteAddr.
func (l *SourceLimiter) allowRequest(remoteAddr string) bool {
	a, local := l.source(remoteAddr)
	b := l.remoteReqs
	if local {
		b = l.localReqs
	}
	return b.allow(a, l.now())
}

func (l *SourceLimiter) count(c stats.Counter) {
	if l.stats != nil {
		l.stats.IncGlobal(c)
	}
}

// Handler answers 429 with a Retry-After to requests over their source's
// rate and passes the others to next.
func (l *SourceLimiter) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !l.allowRequest(r.RemoteAddr) {
			l.count(stats.DRateLimited)
			w.Header().Set("Retry-After", "1")
			http.Error(w, "too many requests from this address", http.StatusTooManyRequests)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Listener closes, as soon as they are accepted, the connections over
// their source's rate, before any TLS work is spent on them.
func (l *SourceLimiter) Listener(ln net.Listener) net.Listener {
	return &limitedListener{Listener: ln, l: l}
}

type limitedListener struct {
	net.Listener
	l *SourceLimiter
}

func (ll *limitedListener) Accept() (net.Conn, error) {
	for {
		c, err := ll.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if ll.l.allowConn(c.RemoteAddr().String()) {
			return c, nil
		}
		ll.l.count(stats.DConnRateLimited)
		c.Close()
	}
}

// buckets are token buckets per source, in a bounded map.
type buckets struct {
	rate, burst float64 // tokens per second, bucket size

	mu sync.Mutex
	m  map[netip.Addr]bucket
}

type bucket struct {
	tokens float64
	at     time.Time // when tokens was right
}

// newBuckets returns nil, no limit, for a zero rate.
func newBuckets(rate, burst float64) *buckets {
	if rate <= 0 {
		return nil
	}
	return &buckets{rate: rate, burst: max(burst, 1), m: make(map[netip.Addr]bucket)}
}

func (b *buckets) allow(a netip.Addr, now time.Time) bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	k, ok := b.m[a]
	if !ok {
		if len(b.m) >= maxSources {
			b.evict(now)
		}
		k = bucket{tokens: b.burst, at: now}
	}
	k.tokens = min(b.burst, k.tokens+now.Sub(k.at).Seconds()*b.rate)
	k.at = now
	allowed := k.tokens >= 1
	if allowed {
		k.tokens--
	}
	b.m[a] = k
	return allowed
}

// evict forgets the sources whose buckets have filled up again, then
// arbitrary ones until a quarter of the room is free.
func (b *buckets) evict(now time.Time) {
	for a, k := range b.m {
		if k.tokens+now.Sub(k.at).Seconds()*b.rate >= b.burst {
			delete(b.m, a)
		}
	}
	for a := range b.m {
		if len(b.m) < maxSources*3/4 {
			break
		}
		delete(b.m, a)
	}
}

// tracked returns how many sources a limit holds, for tests.
func (b *buckets) tracked() int {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.m)
}
