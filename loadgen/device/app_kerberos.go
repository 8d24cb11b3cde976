package device

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/kerberos"
)

// proxyAuth sets Proxy-Authorization from the app's Kerberos ticket.
func (a *App) proxyAuth(ctx context.Context, h http.Header) error {
	if a.Kerberos == nil {
		return nil
	}
	v, err := a.Kerberos(ctx)
	if err != nil {
		return fmt.Errorf("device: app %s: Kerberos: %w", a.BundleID, err)
	}
	h.Set("Proxy-Authorization", v)
	return nil
}

// KerberosAuth is App.Kerberos for a user's Kerberos client (Principal
// the user's name, Secret the password, Transport the way to the KDC):
// it gets the user's ticket to the gateway's principal spn once, renews it
// a minute before it ends, and builds a new authenticator for every call
// (the gateway refuses a replayed one).
func KerberosAuth(c *kerberos.S4UClient, spn string) func(ctx context.Context) (string, error) {
	var mu sync.Mutex
	var cred kerberos.Credential
	return func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if cred.EndTime.Before(time.Now().Add(time.Minute)) {
			cr, err := c.OwnTicket(ctx, spn)
			if err != nil {
				return "", err
			}
			cred = cr
		}
		return cred.NegotiateHeader(time.Now())
	}
}
