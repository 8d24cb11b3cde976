package deviceauth

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"time"
)

// ErrLDAPDistributionPoint is returned for a certificate whose only CRL
// distribution points are LDAP URLs, which the product does not support (DA-09).
var ErrLDAPDistributionPoint = errors.New("deviceauth: LDAP CRL distribution points are not supported; use HTTP or HTTPS")

// maxCRL bounds a downloaded CRL.
const maxCRL = 16 << 20

// CRLCache downloads CRLs from HTTP and HTTPS distribution points, keeps
// them until their NextUpdate, and answers whether a certificate is revoked.
type CRLCache struct {
	client *http.Client
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]*crlEntry // by distribution point URL
}

type crlEntry struct {
	url     string
	list    *x509.RevocationList
	revoked map[string]bool // serial numbers, as decimal strings
	fetched time.Time
}

// CRLInfo describes one cached CRL for the CLI.
type CRLInfo struct {
	ID         string    `json:"id"` // what `crl-cache purge <id>` takes (DA-10)
	URL        string    `json:"url"`
	ThisUpdate time.Time `json:"this_update"`
	NextUpdate time.Time `json:"next_update"`
	Revoked    int       `json:"revoked"`
	Fetched    time.Time `json:"fetched"`
}

// NewCRLCache returns an empty cache fetching with client (a default one
// with a 10 s timeout when nil).
func NewCRLCache(client *http.Client, now func() time.Time) *CRLCache {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	if now == nil {
		now = time.Now
	}
	return &CRLCache{client: client, now: now, entries: map[string]*crlEntry{}}
}

// CRLID is the short id of a distribution point URL.
func CRLID(u string) string {
	h := sha256.Sum256([]byte(u))
	return hex.EncodeToString(h[:6])
}

// Check looks every certificate of a verified chain (leaf first, root
// last) up in its issuer's CRL (DA-08).
func (c *CRLCache) Check(ctx context.Context, chain []*x509.Certificate) error {
	for i := 0; i+1 < len(chain); i++ {
		cert, issuer := chain[i], chain[i+1]
		if len(cert.CRLDistributionPoints) == 0 {
			continue
		}
		var lastErr error
		checked := false
		for _, dp := range cert.CRLDistributionPoints {
			u, err := url.Parse(dp)
			if err != nil {
				lastErr = fmt.Errorf("deviceauth: CRL distribution point %q: %w", dp, err)
				continue
			}
			if u.Scheme == "ldap" || u.Scheme == "ldaps" {
				lastErr = ErrLDAPDistributionPoint
				continue
			}
			if u.Scheme != "http" && u.Scheme != "https" {
				lastErr = fmt.Errorf("deviceauth: CRL distribution point %q: unsupported scheme", dp)
				continue
			}
			e, err := c.get(ctx, dp, issuer)
			if err != nil {
				lastErr = err
				continue
			}
			if e.revoked[cert.SerialNumber.String()] {
				return fmt.Errorf("%w: serial %s (%s)", ErrRevoked, cert.SerialNumber, cert.Subject)
			}
			checked = true
			break
		}
		if !checked {
			return lastErr
		}
	}
	return nil
}

func (c *CRLCache) get(ctx context.Context, dp string, issuer *x509.Certificate) (*crlEntry, error) {
	c.mu.Lock()
	e := c.entries[dp]
	c.mu.Unlock()
	if e != nil && (e.list.NextUpdate.IsZero() || c.now().Before(e.list.NextUpdate)) {
		return e, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, dp, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("deviceauth: fetching CRL %s: %w", dp, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("deviceauth: fetching CRL %s: %s", dp, resp.Status)
	}
	der, err := io.ReadAll(io.LimitReader(resp.Body, maxCRL+1))
	if err != nil {
		return nil, fmt.Errorf("deviceauth: fetching CRL %s: %w", dp, err)
	}
	if len(der) > maxCRL {
		return nil, fmt.Errorf("deviceauth: CRL %s larger than %d bytes", dp, maxCRL)
	}
	list, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("deviceauth: CRL %s: %w", dp, err)
	}
	if err := list.CheckSignatureFrom(issuer); err != nil {
		return nil, fmt.Errorf("deviceauth: CRL %s not signed by %s: %w", dp, issuer.Subject, err)
	}
	e = &crlEntry{url: dp, list: list, revoked: make(map[string]bool, len(list.RevokedCertificateEntries)), fetched: c.now()}
	for _, r := range list.RevokedCertificateEntries {
		e.revoked[r.SerialNumber.String()] = true
	}
	c.mu.Lock()
	c.entries[dp] = e
	c.mu.Unlock()
	return e, nil
}

// List describes the cached CRLs, by URL.
func (c *CRLCache) List() []CRLInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]CRLInfo, 0, len(c.entries))
	for u, e := range c.entries {
		out = append(out, CRLInfo{ID: CRLID(u), URL: u, ThisUpdate: e.list.ThisUpdate, NextUpdate: e.list.NextUpdate, Revoked: len(e.revoked), Fetched: e.fetched})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].URL < out[j].URL })
	return out
}

// Purge forgets the CRL with the given id, or every CRL for "all"; the
// next check downloads it again (DA-10). It reports how many it dropped.
func (c *CRLCache) Purge(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for u := range c.entries {
		if id == "all" || CRLID(u) == id {
			delete(c.entries, u)
			n++
		}
	}
	return n
}
