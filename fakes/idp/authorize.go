package idp

import (
	"crypto/sha256"
	"crypto/subtle"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-lab/gatehouse/protocol/oauth"
)

// signInPage is the sign-in form. Its action is empty: the browser posts
// back to the URL it was served from, query included, so the form works
// the same through the gateway's /proxyservice/oauth2/authorize.
var signInPage = template.Must(template.New("signin").Parse(`<!doctype html>
<html><head><title>Sign in</title></head><body>
<h1>Sign in to your account</h1>{{if .}}<p class="error">{{.}}</p>{{end}}
<form method="post" action="">
<input name="login" type="text" autocomplete="username">
<input name="passwd" type="password" autocomplete="current-password">
<input type="submit" value="Sign in">
</form></body></html>
`))

// maxFormBody bounds a sign-in or token request body.
const maxFormBody = 64 << 10

// serveAuthorize is the authorization endpoint: GET shows the sign-in
// form, POST checks the credentials and redirects to redirect_uri with a
// code (PKCE S256 required) or an error.
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	q := r.Form
	if !s.allowedSource(r) {
		s.counts.caRefusals.Add(1)
		http.Error(w, "AADSTS53003: Access has been blocked by Conditional Access policies.", http.StatusForbidden)
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || q.Get("client_id") == "" || redirect.Scheme == "" || q.Get("response_type") != "code" {
		http.Error(w, "AADSTS90014: response_type=code, client_id and an absolute redirect_uri are required", http.StatusBadRequest)
		return
	}
	resource := q.Get("resource")
	if resource == "" {
		resource = s.cfg.Resources[0]
	}
	fail := func(code, desc string) {
		v := redirect.Query()
		v.Set("error", code)
		v.Set("error_description", desc)
		if st := q.Get("state"); st != "" {
			v.Set("state", st)
		}
		redirect.RawQuery = v.Encode()
		http.Redirect(w, r, redirect.String(), http.StatusFound)
	}
	switch {
	case !s.knownResource(resource):
		fail("invalid_resource", "AADSTS500011: The resource principal named "+resource+" was not found.")
		return
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		fail("invalid_request", "AADSTS9002325: Proof Key for Code Exchange (S256) is required.")
		return
	}
	if r.Method == http.MethodGet {
		s.page(w, http.StatusOK, "")
		return
	}
	user, ok := s.checkPassword(r.PostForm.Get("login"), r.PostForm.Get("passwd"))
	if !ok {
		s.counts.badPasswords.Add(1)
		s.page(w, http.StatusUnauthorized, "AADSTS50126: Error validating credentials due to invalid username or password.")
		return
	}
	s.counts.signIns.Add(1)
	code := s.grants.newCode(grant{user: user, clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"),
		resource: resource, challenge: q.Get("code_challenge"), until: s.cfg.Now().Add(s.cfg.CodeTTL)})
	v := redirect.Query()
	v.Set("code", code)
	if st := q.Get("state"); st != "" {
		v.Set("state", st)
	}
	redirect.RawQuery = v.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (s *Server) page(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = signInPage.Execute(w, msg)
}

func (s *Server) knownResource(r string) bool {
	for _, k := range s.cfg.Resources {
		if oauth.SameResource(r, k) {
			return true
		}
	}
	return false
}

// checkPassword accepts name, DOMAIN\name or name@domain; passwords are
// compared through their SHA-256 in constant time.
func (s *Server) checkPassword(login, password string) (string, bool) {
	l := strings.ToLower(strings.TrimSpace(login))
	if i := strings.LastIndexByte(l, '\\'); i >= 0 {
		l = l[i+1:]
	}
	if name, dom, ok := strings.Cut(l, "@"); ok {
		if !strings.EqualFold(dom, s.cfg.Domain) {
			return "", false
		}
		l = name
	}
	u, found := s.users[l]
	want := sha256.Sum256([]byte(u.Password))
	got := sha256.Sum256([]byte(password))
	if subtle.ConstantTimeCompare(want[:], got[:]) != 1 || !found {
		return "", false
	}
	return u.Name, true
}
