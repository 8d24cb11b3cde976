package exchange

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
)

// User is a mailbox owner. Name is the logon name; the SMTP address is
// Name@Config.Domain unless Email is set.
type User struct {
	Name        string `json:"name"`
	Email       string `json:"email"`
	DisplayName string `json:"display_name"`
	Password    string `json:"-"`
}

// Errors an Authenticator returns.
var (
	// ErrNoCredentials: the request carries no credentials this
	// authenticator understands (answer 401 with a challenge).
	ErrNoCredentials = errors.New("exchange: no credentials")
	// ErrBadCredentials: credentials were given and are wrong.
	ErrBadCredentials = errors.New("exchange: bad credentials")
)

// Authenticator authenticates an ActiveSync request and names the mailbox
// user. Basic is built in; a Negotiate (Kerberos) authenticator can be
// plugged in through Config.Authenticator.
type Authenticator interface {
	// Authenticate returns the logon name of the user the request is for,
	// or ErrNoCredentials / ErrBadCredentials.
	Authenticate(r *http.Request) (string, error)
	// Challenges are the WWW-Authenticate values of a 401 answer.
	Challenges() []string
}

// UserLookup finds a user by logon name, "DOMAIN\name" or SMTP address.
type UserLookup func(login string) (User, bool)

// BasicAuthenticator checks HTTP Basic credentials against a user lookup.
type BasicAuthenticator struct {
	Realm  string
	Lookup UserLookup
}

// Authenticate implements Authenticator. Passwords are compared through
// their SHA-256 in constant time.
func (b *BasicAuthenticator) Authenticate(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" || !strings.EqualFold(strings.SplitN(h, " ", 2)[0], "Basic") {
		return "", ErrNoCredentials
	}
	login, pw, ok := r.BasicAuth()
	if !ok {
		return "", ErrBadCredentials
	}
	u, found := b.Lookup(login)
	want := sha256.Sum256([]byte(u.Password))
	got := sha256.Sum256([]byte(pw))
	if subtle.ConstantTimeCompare(want[:], got[:]) != 1 || !found {
		return "", ErrBadCredentials
	}
	return u.Name, nil
}

// Challenges implements Authenticator.
func (b *BasicAuthenticator) Challenges() []string {
	return []string{`Basic realm="` + strings.ReplaceAll(b.Realm, `"`, "") + `", charset="UTF-8"`}
}

// normalizeLogin strips a "DOMAIN\" prefix and lower-cases.
func normalizeLogin(login string) string {
	if i := strings.LastIndexByte(login, '\\'); i >= 0 {
		login = login[i+1:]
	}
	return strings.ToLower(strings.TrimSpace(login))
}
