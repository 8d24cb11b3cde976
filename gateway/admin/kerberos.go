package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/kerberos/delegation"
)

// KerberosInit is the answer of `debug kerberos init` (KRB-07).
type KerberosInit struct {
	Already     bool   `json:"already"`
	Initialised bool   `json:"initialised"`
	Message     string `json:"message"`
	Error       string `json:"error,omitempty"`
}

var errNoKerberos = errors.New("no Kerberos configuration from the UEM")

func (a *api) kerberos() (*delegation.Delegator, bool) {
	if a.d.Kerberos == nil {
		return nil, false
	}
	k := a.d.Kerberos()
	return k, k != nil
}

// kerberosShow is `show kerberos` (KRB-11).
func (a *api) kerberosShow(w http.ResponseWriter, r *http.Request) {
	k, ok := a.kerberos()
	if !ok {
		writeErr(w, http.StatusConflict, errNoKerberos)
		return
	}
	writeJSON(w, k.Info())
}

// kerberosCache is `show kerberos cache dump [upn-filter]` (KRB-12).
func (a *api) kerberosCache(w http.ResponseWriter, r *http.Request) {
	k, ok := a.kerberos()
	if !ok {
		writeJSON(w, []delegation.CacheEntry{})
		return
	}
	out := k.Cache(r.URL.Query().Get("filter"))
	if out == nil {
		out = []delegation.CacheEntry{}
	}
	writeJSON(w, out)
}

// kerberosCacheUPN is `show kerberos cache upn <upn>` (KRB-13): exact UPN.
func (a *api) kerberosCacheUPN(w http.ResponseWriter, r *http.Request) {
	out := []delegation.CacheEntry{}
	if k, ok := a.kerberos(); ok {
		upn := r.PathValue("upn")
		for _, e := range k.Cache(upn) {
			if strings.EqualFold(e.UPN, upn) {
				e.Index = len(out)
				out = append(out, e)
			}
		}
	}
	writeJSON(w, out)
}

// kerberosPurge is `kerberos-cache purge <upn>` (KRB-14).
func (a *api) kerberosPurge(w http.ResponseWriter, r *http.Request) {
	var body struct {
		UPN string `json:"upn"`
	}
	if err := decodeBody(r, &body); err != nil || body.UPN == "" {
		writeErr(w, http.StatusBadRequest, usage(err, `body must be {"upn": "<upn>"}`))
		return
	}
	n := 0
	if k, ok := a.kerberos(); ok {
		n = k.Purge(body.UPN)
	}
	writeJSON(w, Count{Count: n, Message: fmt.Sprintf("Purged %d entries from cache", n)})
}

// kerberosKDC is `debug kerberos kdc <host> [port]` (KRB-15).
func (a *api) kerberosKDC(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Host string `json:"host"`
		Port int    `json:"port"`
	}
	if err := decodeBody(r, &body); err != nil || body.Host == "" || body.Port < 0 || body.Port > 65535 {
		writeErr(w, http.StatusBadRequest, usage(err, `body must be {"host": "<kdc>", "port": <0-65535, 0 for 88>}`))
		return
	}
	var c delegation.KDCCheck
	if k, ok := a.kerberos(); ok {
		c = delegation.CheckKDC(r.Context(), body.Host, body.Port, k.Resolver(), 5*time.Second)
	} else {
		c = delegation.CheckKDC(r.Context(), body.Host, body.Port, nil, 5*time.Second)
	}
	writeJSON(w, c)
}

// kerberosInit is `debug kerberos init` (KRB-07).
func (a *api) kerberosInit(w http.ResponseWriter, r *http.Request) {
	k, ok := a.kerberos()
	if !ok {
		writeErr(w, http.StatusConflict, errNoKerberos)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	already, err := k.Init(ctx)
	out := KerberosInit{Already: already, Initialised: k.Initialised()}
	switch {
	case already:
		out.Message = "Kerberos is already initialized."
	case err != nil:
		out.Message, out.Error = "Kerberos initialization failed.", err.Error()
	default:
		out.Message = "Kerberos initialized."
	}
	writeJSON(w, out)
}

// KerberosInfo is `show kerberos`.
func (c *Client) KerberosInfo(ctx context.Context) (*delegation.Info, error) {
	var out delegation.Info
	return &out, c.do(ctx, http.MethodGet, "kerberos", nil, &out)
}

// KerberosCache is `show kerberos cache dump [filter]`.
func (c *Client) KerberosCache(ctx context.Context, filter string) ([]delegation.CacheEntry, error) {
	var out []delegation.CacheEntry
	return out, c.do(ctx, http.MethodGet, "kerberos/cache?filter="+url.QueryEscape(filter), nil, &out)
}

// KerberosCacheUPN is `show kerberos cache upn <upn>`.
func (c *Client) KerberosCacheUPN(ctx context.Context, upn string) ([]delegation.CacheEntry, error) {
	var out []delegation.CacheEntry
	return out, c.do(ctx, http.MethodGet, "kerberos/cache/upn/"+url.PathEscape(upn), nil, &out)
}

// KerberosPurge is `kerberos-cache purge <upn>`.
func (c *Client) KerberosPurge(ctx context.Context, upn string) (*Count, error) {
	var out Count
	return &out, c.do(ctx, http.MethodPost, "kerberos-cache/purge", map[string]string{"upn": upn}, &out)
}

// KerberosKDC is `debug kerberos kdc <host> [port]` (port 0: 88).
func (c *Client) KerberosKDC(ctx context.Context, host string, port int) (*delegation.KDCCheck, error) {
	var out delegation.KDCCheck
	return &out, c.do(ctx, http.MethodPost, "kerberos/kdc", map[string]any{"host": host, "port": port}, &out)
}

// KerberosInit is `debug kerberos init`.
func (c *Client) KerberosInit(ctx context.Context) (*KerberosInit, error) {
	var out KerberosInit
	return &out, c.do(ctx, http.MethodPost, "kerberos/init", nil, &out)
}

// RenderKerberosInfo prints `show kerberos` as the seed does (KRB-11).
func RenderKerberosInfo(w io.Writer, i *delegation.Info) error {
	_, err := fmt.Fprintf(w, "sentry-spn = %s\nrealm = %s\ncache-ticket-idle-timeout = %d\ncache-size = %d\ninitialized = %t\n",
		Printable(i.SentrySPN), Printable(i.Realm), i.CacheTicketIdleTimeout, i.CacheSize, i.Initialised)
	if err == nil && i.LastError != "" {
		_, err = fmt.Fprintf(w, "last-error = %s\n", Printable(i.LastError))
	}
	return err
}

// RenderKerberosCache prints the cache dump columns (KRB-12).
func RenderKerberosCache(w io.Writer, es []delegation.CacheEntry) error {
	if _, err := fmt.Fprintf(w, "%-5s %-40s %-12s %-12s %s\n", "Indx", "User-UPN", "Created (m)", "IdleTime (m)", "SPN"); err != nil {
		return err
	}
	for _, e := range es {
		if _, err := fmt.Fprintf(w, "%-5d %-40s %-12d %-12d %s\n", e.Index, Printable(e.UPN), e.CreatedMin, e.IdleTimeMin, Printable(e.SPN)); err != nil {
			return err
		}
	}
	return nil
}

// RenderKerberosUPN prints `show kerberos cache upn` (KRB-13).
func RenderKerberosUPN(w io.Writer, upn string, es []delegation.CacheEntry) error {
	if _, err := fmt.Fprintf(w, "Kerberos Cache for UPN: %s\n", Printable(upn)); err != nil {
		return err
	}
	for _, e := range es {
		if _, err := fmt.Fprintf(w, "[%d]user-upn = %s\n[%d]idle-time-min = %d\n[%d]creation-time = %s\n[%d]spn = %s\n",
			e.Index, Printable(e.UPN), e.Index, e.IdleTimeMin, e.Index, e.Created.Format(time.UnixDate), e.Index, Printable(e.SPN)); err != nil {
			return err
		}
	}
	return nil
}
