package kdc

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gatehouse-lab/gatehouse/protocol/kerberos"
)

const (
	corp       = "CORP.EXAMPLE"
	emea       = "EMEA.EXAMPLE"
	sentrySPN  = "HTTP/sentry1_eas_kcd"
	sentryPass = "sentry-secret"
	mailSPN    = "http/mail.corp.example"
)

// netTransport sends to each realm's KDC over TCP (or UDP).
type netTransport struct {
	addrs map[string]string
	udp   bool
}

func (t netTransport) RoundTrip(ctx context.Context, realm string, msg []byte) ([]byte, error) {
	addr, ok := t.addrs[realm]
	if !ok {
		return nil, fmt.Errorf("no KDC for realm %s", realm)
	}
	var d net.Dialer
	network := "tcp"
	if t.udp {
		network = "udp"
	}
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	if t.udp {
		if _, err := c.Write(msg); err != nil {
			return nil, err
		}
		buf := make([]byte, 65536)
		n, err := c.Read(buf)
		return buf[:n], err
	}
	if _, err := c.Write(kerberos.FrameTCP(msg)); err != nil {
		return nil, err
	}
	return kerberos.ReadFrame(c, kerberos.MaxMessageSize)
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startKDC(t testing.TB, realm string) *Server {
	t.Helper()
	s, err := New(Config{Realm: realm, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return s
}

func mustAdd(t testing.TB, s *Server, p Principal) {
	t.Helper()
	if err := s.AddPrincipal(p); err != nil {
		t.Fatal(err)
	}
}

// corpLab is CORP.EXAMPLE with the gateway's service principal allowed to
// delegate to the mail server, and two users.
func corpLab(t testing.TB) *Server {
	s := startKDC(t, corp)
	mustAdd(t, s, Principal{Name: sentrySPN, Password: sentryPass})
	mustAdd(t, s, Principal{Name: mailSPN, Password: "mail-secret"})
	mustAdd(t, s, Principal{Name: "http/files.corp.example", Password: "files-secret"})
	mustAdd(t, s, Principal{Name: "alice", Password: "alice-pw"})
	mustAdd(t, s, Principal{Name: "carol", Password: "carol-pw"})
	if err := s.AllowDelegation(sentrySPN, mailSPN); err != nil {
		t.Fatal(err)
	}
	return s
}

func sentryClient(addrs map[string]string) *kerberos.S4UClient {
	return &kerberos.S4UClient{Principal: sentrySPN, Realm: corp, Secret: kerberos.Secret{Password: sentryPass},
		Transport: netTransport{addrs: addrs}}
}

func wantCode(t *testing.T, err error, code int32) {
	t.Helper()
	got, ok := kerberos.ErrorCode(err)
	if !ok {
		t.Fatalf("error %v carries no KRB-ERROR, want code %d", err, code)
	}
	if got != code {
		t.Fatalf("KRB-ERROR code %d (%v), want %d", got, err, code)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func kerberosPrincipal(name string) types.PrincipalName { return kerberos.PrincipalFromSPN(name) }

type typesKey = types.EncryptionKey

func testRC4Key() types.EncryptionKey {
	k := make([]byte, 16)
	for i := range k {
		k[i] = byte(3*i + 5)
	}
	return types.EncryptionKey{KeyType: RC4, KeyValue: k}
}
