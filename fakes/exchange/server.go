// Package exchange is a fake Exchange ActiveSync server: per-user
// mailboxes generated from a seed, MS-ASCMD commands over MS-ASHTTP
// (protocol 12.1 to 16.1, Basic auth, HTTPS), provisioning with remote
// wipe, 451 redirects, a health check, fault injection and a
// token-authenticated admin API (/admin/v1) for scenarios and the lab.
// Start it in-process on 127.0.0.1:0 and read the URLs back.
package exchange

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/faults"
	"github.com/gatehouse-lab/gatehouse/fakes/internal/servers"
	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
	"github.com/gatehouse-lab/gatehouse/internal/selfsigned"
)

// Server is a fake Exchange ActiveSync server.
type Server struct {
	cfg        Config
	log        *slog.Logger
	now        func() time.Time
	auth       Authenticator
	tlsConf    *tls.Config
	certPool   *x509.CertPool
	adminToken string
	faults     *faultState
	devices    *devices
	journal    *journal // nil when off
	mgmt       *Management

	mailboxes map[string]*mailbox // by lower-case logon name
	byEmail   map[string]*mailbox // by lower-case SMTP address
	generated map[string][]*GeneratedMessage

	waitingPings atomic.Int64

	outMu    sync.Mutex
	outbound []OutboundMessage

	mu        sync.Mutex
	started   bool
	addr      string
	adminAddr string
	servers   servers.Group // ActiveSync, admin API
	stopping  chan struct{} // closed by Shutdown: releases hanging Pings
}

// New validates cfg, creates the users and generates their mail. Nothing
// listens until Start.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, now: cfg.Now, adminToken: cfg.AdminToken, faults: newFaultState(cfg.Seed),
		devices: newDevices(), journal: newJournal(cfg.JournalEntries, cfg.JournalBodyBytes), mailboxes: map[string]*mailbox{}, byEmail: map[string]*mailbox{},
		generated: map[string][]*GeneratedMessage{}, stopping: make(chan struct{})}
	if s.adminToken == "" {
		var b [24]byte
		_, _ = rand.Read(b[:])
		s.adminToken = hex.EncodeToString(b[:])
	}
	if !cfg.PlainHTTP {
		cert, err := selfsigned.ServerCert(cfg.Certificate, cfg.TLSCertFile, cfg.TLSKeyFile, "gatehouse fake Exchange", cfg.Now())
		if err != nil {
			return nil, fmt.Errorf("exchange: TLS certificate: %w", err)
		}
		s.tlsConf = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
		if cfg.HTTP2 {
			s.tlsConf.NextProtos = []string{"h2", "http/1.1"}
		}
		s.certPool = selfsigned.Pool(cert)
	}
	s.servers.TLS, s.servers.Log, s.servers.Name, s.servers.IdleTimeout = s.tlsConf, s.log, "exchange", 5*time.Minute
	s.seed()
	s.mgmt = newMgmt(s)
	s.auth = cfg.Authenticator
	if s.auth == nil {
		s.auth = &BasicAuthenticator{Realm: cfg.Realm, Lookup: s.lookupUser}
	}
	if cfg.Bearer != nil {
		s.auth = newBearerAuth(*cfg.Bearer, s.auth, cfg.Now)
	}
	return s, nil
}

// seed creates the users and fills their mailboxes deterministically.
func (s *Server) seed() {
	rng := mrand.New(mrand.NewPCG(s.cfg.Seed, s.cfg.Seed^0xbb67ae8584caa73b))
	users := s.cfg.Users
	if len(users) == 0 {
		const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
		for i := 1; i <= s.cfg.NumUsers; i++ {
			pw := make([]byte, 12)
			for j := range pw {
				pw[j] = alphabet[rng.IntN(len(alphabet))]
			}
			first := firstNames[(i-1)%len(firstNames)]
			users = append(users, User{Name: fmt.Sprintf("user%d", i), DisplayName: fmt.Sprintf("%s User%d", first, i), Password: string(pw)})
		}
	}
	next, done := seedStream(seedKey(s.cfg, users), func() *Generator { return NewGenerator(s.cfg.Seed, s.cfg.Domain) })
	base := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	for i, u := range users {
		if u.Email == "" {
			u.Email = strings.ToLower(u.Name) + "@" + s.cfg.Domain
		}
		if u.DisplayName == "" {
			u.DisplayName = u.Name
		}
		mb := newMailbox(u, uint64(i+1)*1_000_000_000)
		s.mailboxes[strings.ToLower(u.Name)] = mb
		s.byEmail[strings.ToLower(u.Email)] = mb
		if s.cfg.MessagesPerUser < 0 {
			continue
		}
		place := func(typ int, n int, read bool) {
			for j := 0; j < n; j++ {
				gm, pm, err := next(userAddress(u))
				if typ == FolderTypeInbox {
					s.generated[mb.user.Name] = append(s.generated[mb.user.Name], gm)
				}
				if err != nil {
					panic(fmt.Sprintf("exchange: generated message does not parse: %v", err))
				}
				mb.addLocked(mb.folderByType(typ), gm.Raw, pm, read, pm.Date.Add(time.Minute).Truncate(time.Second))
			}
		}
		place(FolderTypeInbox, s.cfg.MessagesPerUser, false)
		place(FolderTypeSent, s.cfg.MessagesPerUser/4, true)
		place(FolderTypeDeleted, s.cfg.MessagesPerUser/6, true)
		_ = base
	}
	done()
}

// lookupUser finds a user by logon name, DOMAIN\name or SMTP address.
func (s *Server) lookupUser(login string) (User, bool) {
	mb := s.mailbox(login)
	if mb == nil {
		return User{}, false
	}
	return mb.user, true
}

func (s *Server) mailbox(login string) *mailbox {
	l := normalizeLogin(login)
	if mb := s.mailboxes[l]; mb != nil {
		return mb
	}
	return s.byEmail[l]
}

// Users returns the mailbox users (with passwords), sorted by name.
func (s *Server) Users() []User {
	out := make([]User, 0, len(s.mailboxes))
	for _, mb := range s.mailboxes {
		out = append(out, mb.user)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Generated returns the generated messages of a user's Inbox, in delivery
// order, so tests can compare what a client receives with what was made.
func (s *Server) Generated(user string) []*GeneratedMessage {
	mb := s.mailbox(user)
	if mb == nil {
		return nil
	}
	return s.generated[mb.user.Name]
}

// Start listens on the configured addresses and serves until Shutdown.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("exchange: already started")
	}
	// Down closes this listener and listens again on the same address
	// when cleared.
	ln, err := s.faults.Injector().Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("exchange: listener: %w", err)
	}
	var lc net.ListenConfig
	adminLn, err := lc.Listen(ctx, "tcp", s.cfg.AdminAddr)
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("exchange: admin listener: %w", err)
	}
	s.started = true
	s.addr, s.adminAddr = ln.Addr().String(), adminLn.Addr().String()
	s.servers.Serve(ln, s.journal.wrap(s.faults.middleware(s.easHandler())))
	s.servers.Serve(adminLn, s.adminHandler())
	s.log.Info("fake Exchange started", "url", s.URL(), "admin_url", s.AdminURL(), "users", len(s.mailboxes))
	return nil
}

// Shutdown answers hanging Pings (Status 1), then stops both listeners
// gracefully, waiting for in-flight requests until ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.started {
		s.mu.Unlock()
		return nil
	}
	s.started = false
	close(s.stopping)
	s.mu.Unlock()
	s.faults.Injector().Stop() // hung requests go on, delays end
	return s.servers.Shutdown(ctx)
}

func (s *Server) scheme() string {
	if s.tlsConf == nil {
		return "http"
	}
	return "https"
}

// Addr is the bound address of the ActiveSync listener.
func (s *Server) Addr() string { return s.addr }

// URL is the ActiveSync base URL (scheme://host:port, without the path).
func (s *Server) URL() string { return s.scheme() + "://" + s.addr }

// EASURL is the full ActiveSync endpoint URL.
func (s *Server) EASURL() string { return s.URL() + EASPath }

// AdminURL is the admin API base URL (without /admin/v1).
func (s *Server) AdminURL() string { return s.scheme() + "://" + s.adminAddr }

// AdminToken is the admin API bearer token.
func (s *Server) AdminToken() string { return s.adminToken }

// CertPool trusts the server's certificate; nil with PlainHTTP.
func (s *Server) CertPool() *x509.CertPool { return s.certPool }

// Faults returns the current fault injection state.
func (s *Server) Faults() Faults { return s.faults.Get() }

// SetFaults replaces the fault injection state. Down closes the ActiveSync
// listener (connections are refused); clearing it listens again on the same
// address. The admin API is never affected.
func (s *Server) SetFaults(f Faults) error {
	if err := f.validate(); err != nil {
		return err
	}
	if err := s.faults.Set(f); err != nil {
		return fmt.Errorf("exchange: %w", err)
	}
	return nil
}

// FaultInjector is the shared fault layer of the ActiveSync listener, for
// a chaos driver's faults.Specs; SetFaults replaces what it holds.
func (s *Server) FaultInjector() *faults.Injector { return s.faults.Injector() }

func (s *Server) checkAdmin(r *http.Request) bool {
	return httpapi.BearerMatches(r.Header, s.adminToken)
}
