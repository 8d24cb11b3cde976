package exchange

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
)

func TestAdminInjectAndList(t *testing.T) {
	srv := startServer(t, Config{MessagesPerUser: -1})
	pdf := []byte("%PDF-1.4 fake")
	var res InjectResponse
	st := adminCall(t, srv, "POST", "/admin/v1/mailboxes/user2/messages", InjectRequest{
		From: "a@b.example", Subject: "with files", Body: "see attached",
		Attachments: []InjectAttachment{{Name: "x.pdf", ContentType: "application/pdf", Data: pdf}},
	}, &res)
	if st != http.StatusCreated || res.FolderID != "1" || len(res.Message.Attachments) != 1 {
		t.Fatalf("inject: HTTP %d %+v", st, res)
	}
	raw, _ := BuildMIME(Compose{From: "c@d.example", To: []string{"user2@example.test"}, Subject: "raw one", Text: "hi"})
	if st := adminCall(t, srv, "POST", "/admin/v1/mailboxes/user2/messages", InjectRequest{RawMIME: raw, Folder: "Drafts"}, &res); st != http.StatusCreated || res.FolderID != "2" {
		t.Fatalf("raw inject: HTTP %d %+v", st, res)
	}
	var mi MailboxInfo
	adminCall(t, srv, "GET", "/admin/v1/mailboxes/user2", nil, &mi)
	sum := sha256.Sum256(pdf)
	a := mi.Folders[0].Messages[0].Attachments[0]
	if a.Name != "x.pdf" || a.Size != len(pdf) || a.SHA256 != hex.EncodeToString(sum[:]) || a.ContentType != "application/pdf" {
		t.Fatalf("attachment view: %+v", a)
	}
	if mi.Folders[1].Messages[0].Subject != "raw one" {
		t.Fatalf("drafts: %+v", mi.Folders[1])
	}
	var users []UserView
	adminCall(t, srv, "GET", "/admin/v1/users", nil, &users)
	if len(users) != 3 || users[0].Password == "" {
		t.Fatalf("users: %+v", users)
	}
}

func TestAdminErrors(t *testing.T) {
	srv := startServer(t, Config{MessagesPerUser: -1})
	for _, tc := range []struct {
		name, method, path, token string
		body                      any
		status                    int
		code                      string
	}{
		{"no token", "GET", "/admin/v1/devices", "-", nil, 401, "unauthorized"},
		{"unknown user", "GET", "/admin/v1/mailboxes/nobody", "", nil, 404, "no_such_user"},
		{"unknown field", "POST", "/admin/v1/mailboxes/user1/messages", "", map[string]any{"subjekt": "x"}, 400, "invalid_field"},
		{"empty message", "POST", "/admin/v1/mailboxes/user1/messages", "", map[string]any{}, 400, "invalid_field"},
		{"bad redirect", "PUT", "/admin/v1/mailboxes/user1/redirect", "", RedirectRequest{URL: "ftp://x"}, 400, "invalid_field"},
		{"unknown device", "POST", "/admin/v1/devices/user1/NODEV/wipe", "", nil, 404, "no_such_device"},
		{"no endpoint", "GET", "/admin/v1/nothing", "", nil, 404, "not_found"},
		{"wrong method", "PATCH", "/admin/v1/faults", "", nil, 405, "method_not_allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e errorBody
			var st int
			if tc.token == "-" {
				req, _ := http.NewRequest(tc.method, srv.AdminURL()+tc.path, nil)
				resp, err := httpClient(srv).Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				st, e.Error = resp.StatusCode, &APIError{Code: "unauthorized"}
			} else {
				st = adminCall(t, srv, tc.method, tc.path, tc.body, &e)
			}
			if st != tc.status || e.Error == nil || e.Error.Code != tc.code {
				t.Fatalf("HTTP %d %+v, want %d %s", st, e.Error, tc.status, tc.code)
			}
		})
	}
	big := strings.Repeat("x", 2<<20)
	srv2 := startServer(t, Config{MessagesPerUser: -1, MaxAdminBody: 1 << 20})
	var e errorBody
	if st := adminCall(t, srv2, "POST", "/admin/v1/mailboxes/user1/messages", InjectRequest{Subject: "big", Body: big}, &e); st != http.StatusRequestEntityTooLarge || e.Error.Code != "body_too_large" {
		t.Fatalf("oversized body: HTTP %d %+v", st, e.Error)
	}
}
