// Package smtp is the lab's fake SMTP sink (ALR-10): an SMTP server on
// loopback, built on github.com/emersion/go-smtp, that keeps every message
// it accepts so that tests can read what the gateway mailed.
package smtp

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// Message is one mail the sink accepted.
type Message struct {
	From string
	To   []string
	Data []byte // the message as sent: headers, blank line, body
	User string // the AUTH PLAIN user, "" without authentication
}

// Config configures the sink. The zero value accepts mail without AUTH.
type Config struct {
	// User and Password, when set, make AUTH PLAIN mandatory.
	User, Password string
}

// Sink is a running fake SMTP server.
type Sink struct {
	cfg  Config
	srv  *gosmtp.Server
	ln   net.Listener
	mu   sync.Mutex
	msgs []Message
	rcvd chan struct{} // closed and replaced on every accepted message
}

// Start listens on 127.0.0.1 (a free port) and serves until Close.
func Start(cfg Config) (*Sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("smtp sink: %w", err)
	}
	s := &Sink{cfg: cfg, ln: ln, rcvd: make(chan struct{})}
	s.srv = gosmtp.NewServer(gosmtp.BackendFunc(func(*gosmtp.Conn) (gosmtp.Session, error) {
		return &session{sink: s}, nil
	}))
	s.srv.Domain = "smtp.lab.test"
	s.srv.AllowInsecureAuth = true // loopback, no TLS in the lab
	s.srv.MaxMessageBytes = 1 << 20
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the sink's host:port.
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// Close stops the sink.
func (s *Sink) Close() error { return s.srv.Close() }

// Messages returns a copy of the messages accepted so far, oldest first.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Received returns a channel closed when the next message arrives, for
// tests that wait without polling.
func (s *Sink) Received() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rcvd
}

func (s *Sink) add(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	close(s.rcvd)
	s.rcvd = make(chan struct{})
}

// session is one SMTP conversation.
type session struct {
	sink *Sink
	user string
	msg  Message
}

var errAuthRequired = gosmtp.ErrAuthRequired

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.sink.cfg.User || pass != s.sink.cfg.Password {
			return errors.New("smtp sink: invalid credentials")
		}
		s.user = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *gosmtp.MailOptions) error {
	if s.sink.cfg.User != "" && s.user == "" {
		return errAuthRequired
	}
	s.msg = Message{From: from, User: s.user}
	return nil
}

func (s *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("smtp sink: %w", err)
	}
	s.msg.Data = b
	s.sink.add(s.msg)
	s.msg = Message{}
	return nil
}

func (s *session) Reset()        { s.msg = Message{} }
func (s *session) Logout() error { return nil }
