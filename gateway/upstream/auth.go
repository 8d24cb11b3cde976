package upstream

import (
	"context"
	"fmt"
	"net/http"
)

// Authorizer gives each attempt at a server the credentials the gateway
// itself presents for the device (Kerberos server authentication,
// KRB-02). It is asked per server, so the credentials follow the server
// actually chosen: a failover to the next server of the list, or a 451
// redirect, gets that server's own.
type Authorizer interface {
	// Authorize sets out's credentials for the server at hostport (as the
	// server list or the 451 location writes it).
	Authorize(ctx context.Context, out *http.Request, hostport string) error
	// Refused is told each time the server at hostport answered 401 to
	// those credentials; true asks for one more attempt at the same
	// server with fresh credentials from Authorize. A request gets at
	// most one such retry: a second 401 goes to the device.
	Refused(ctx context.Context, hostport string) bool
}

// AuthError is an attempt the Authorizer could not give credentials to.
// It is nobody's fault at the server: no other server is tried and the
// server's health is untouched.
type AuthError struct {
	Addr string
	Err  error
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("upstream: credentials for %s: %v", e.Addr, e.Err)
}

func (e *AuthError) Unwrap() error { return e.Err }
