package oauth

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-lab/gatehouse/protocol/oauth"
)

// Bounds of what the proxy reads: a sign-in form or token request, and
// the IdP's answer (a sign-in page, a token response).
const (
	maxRequestBody  = 64 << 10
	maxResponseBody = 1 << 20
)

// Proxy serves /proxyservice/oauth2/authorize and /token (OAU-04). The
// wire mechanics, which the seeds leave open (docs/oauth.md):
//   - authorize (GET and POST): the device's query, and a form body,
//     go to the destination authorize endpoint with resource swapped
//     from the Sentry resource to the destination resource and the Key
//     Value Pairs added; the answer (sign-in page, 302 to the app's
//     redirect_uri with the code) comes back as is, except a Location
//     on the destination's authorize endpoint, which is pointed back at
//     the gateway;
//   - token (POST): the form goes to the destination token endpoint with
//     the same swap; a JSON answer's "resource" is swapped back, so the
//     device sees the resource it asked for. The access token itself is
//     the destination's (aud = destination resource), which Exchange
//     needs.
//
// The gateway's own address is the source the IdP sees, which is what
// conditional access trusts (OAU-07); X-Forwarded-For is not added.
type Proxy struct {
	// Gate returns the configuration in force; nil: OAuth is off (404).
	Gate func() *Gate
	Log  *slog.Logger
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g := p.Gate()
	if g == nil {
		http.NotFound(w, r)
		return
	}
	switch {
	case r.URL.Path == AuthorizePath && (r.Method == http.MethodGet || r.Method == http.MethodPost):
		p.forward(w, r, g, g.set.AuthorizeEndpoint, false)
	case r.URL.Path == TokenPath && r.Method == http.MethodPost:
		p.forward(w, r, g, g.set.TokenEndpoint, true)
	case r.URL.Path == AuthorizePath || r.URL.Path == TokenPath:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	default:
		http.NotFound(w, r)
	}
}

// swap replaces a Sentry resource by the destination resource in v and
// adds the Key Value Pairs the UEM configured.
func (g *Gate) swap(r *http.Request, v url.Values) url.Values {
	if res := v.Get("resource"); res != "" && g.isSentryResource(r, res) {
		v.Set("resource", g.set.DestinationResource)
	}
	for _, kv := range g.set.KeyValuePairs {
		v.Set(kv.Key, kv.Value)
	}
	return v
}

func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, g *Gate, endpoint string, token bool) {
	target, err := url.Parse(endpoint)
	if err != nil {
		http.Error(w, "bad destination endpoint", http.StatusBadGateway)
		return
	}
	q := g.swap(r, r.URL.Query())
	if !token {
		target.RawQuery = q.Encode()
	}
	var body io.Reader
	if r.Method == http.MethodPost {
		raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
		if err != nil {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			form, err := url.ParseQuery(string(raw))
			if err != nil {
				http.Error(w, "bad form", http.StatusBadRequest)
				return
			}
			raw = []byte(g.swap(r, form).Encode())
		}
		body = bytes.NewReader(raw)
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, target.String(), body)
	if err != nil {
		http.Error(w, "bad destination request", http.StatusBadGateway)
		return
	}
	for _, h := range []string{"Content-Type", "Accept", "Accept-Language", "User-Agent", "Cookie"} {
		if v := r.Header.Get(h); v != "" {
			out.Header.Set(h, v)
		}
	}
	resp, err := g.client.Do(out)
	if err != nil {
		g.counts.refuse("idp_unreachable")
		p.Log.Warn("OAuth destination unreachable", "endpoint", target.Host+target.Path, "error", err)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, `{"error":"temporarily_unavailable","error_description":"the identity provider cannot be reached"}`)
		return
	}
	defer func() { _ = resp.Body.Close() }()
	p.answer(w, r, g, resp, token)
}

// answer relays the destination's answer, pointing its authorize
// Location back at the gateway and, for a token answer, the resource
// back to the one the device asked for.
func (p *Proxy) answer(w http.ResponseWriter, r *http.Request, g *Gate, resp *http.Response, token bool) {
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil || len(raw) > maxResponseBody {
		http.Error(w, "bad answer from the identity provider", http.StatusBadGateway)
		return
	}
	if token && resp.StatusCode == http.StatusOK {
		raw = g.swapBack(r, raw)
	}
	for _, h := range []string{"Content-Type", "Cache-Control", "Pragma", "Set-Cookie"} {
		for _, v := range resp.Header.Values(h) {
			w.Header().Add(h, v)
		}
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		if strings.HasPrefix(loc, g.set.AuthorizeEndpoint) {
			loc = g.SignInURL(r) + strings.TrimPrefix(loc, g.set.AuthorizeEndpoint)
		}
		w.Header().Set("Location", loc)
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(raw)
}

// swapBack sets a token answer's resource to the Sentry resource the
// device asked for; anything that is not a JSON object passes unchanged.
func (g *Gate) swapBack(r *http.Request, raw []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return raw
	}
	var res string
	if json.Unmarshal(m["resource"], &res) != nil || !oauth.SameResource(res, g.set.DestinationResource) {
		return raw
	}
	m["resource"], _ = json.Marshal(g.SentryResource(r))
	out, err := json.Marshal(m)
	if err != nil {
		return raw
	}
	return out
}
