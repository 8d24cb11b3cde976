package oauth

import (
	"strings"

	"github.com/go-jose/go-jose/v4/jwt"
)

// Claims are the access token claims an Azure AD v1 endpoint issues and
// Exchange reads: the registered ones plus upn / unique_name (the user),
// appid (the client) and ipaddr (where the user signed in).
type Claims struct {
	jwt.Claims
	UPN        string `json:"upn,omitempty"`
	UniqueName string `json:"unique_name,omitempty"`
	AppID      string `json:"appid,omitempty"`
	IPAddr     string `json:"ipaddr,omitempty"`
	Scope      string `json:"scp,omitempty"`
}

// User is the user the token speaks for: upn, else unique_name. Never the
// query's User (docs/security.md).
func (c Claims) User() string {
	if u := strings.TrimSpace(c.UPN); u != "" {
		return u
	}
	return strings.TrimSpace(c.UniqueName)
}
