// Package ctr holds what the container modules share: tokens, TLS
// settings for the fakes' throwaway certificates, and URL helpers.
package ctr

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"

	"github.com/testcontainers/testcontainers-go"
)

// RandomToken is a fresh 128-bit hex token.
func RandomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// InsecureTLS trusts any certificate: the servers make self-signed ones
// at start.
func InsecureTLS() *tls.Config {
	return &tls.Config{InsecureSkipVerify: true} //nolint:gosec // throwaway certificates of test containers
}

// Answers accepts any HTTP status but a 5xx: the server is up.
func Answers(status int) bool { return status > 0 && status < 500 }

// HostURL is https://host:port of an exposed container port as seen from
// the machine running the tests.
func HostURL(ctx context.Context, c testcontainers.Container, port string) (string, error) {
	host, err := c.Host(ctx)
	if err != nil {
		return "", err
	}
	p, err := c.MappedPort(ctx, port)
	if err != nil {
		return "", err
	}
	return "https://" + net.JoinHostPort(host, p.Port()), nil
}

// NetworkURL is https://alias:port, the URL other containers on the
// same network use.
func NetworkURL(alias, port string) string {
	return fmt.Sprintf("https://%s", net.JoinHostPort(alias, portNumber(port)))
}

// portNumber strips "/tcp" from "8600/tcp".
func portNumber(port string) string {
	for i := range len(port) {
		if port[i] == '/' {
			return port[:i]
		}
	}
	return port
}
