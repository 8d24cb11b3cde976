package exchange

import (
	"context"
	"errors"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// The admin client sees what the server's Go API sees: the remote
// conformance world drives a containerised Exchange through it.
func TestAdminClientMirrorsTheServer(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, Config{MessagesPerUser: 2})
	c := NewAdminClient(srv.AdminURL(), srv.AdminToken(), httpClient(srv))

	users, err := c.Users(ctx)
	if err != nil || len(users) != len(srv.Users()) || users[0].Name != srv.Users()[0].Name || users[0].Password == "" {
		t.Fatalf("Users = %+v, %v", users, err)
	}
	user := users[0].Name
	tc := newClient(t, srv, user, "DEVADMIN1", eas.V141)
	tc.provision()
	ps, err := c.Partnerships(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := srv.Partnerships()
	if len(ps) != 1 || len(want) != 1 || ps[0].DeviceID != "DEVADMIN1" || !ps[0].Provisioned || !ps[0].LastSync.Equal(want[0].LastSync) {
		t.Fatalf("Partnerships = %+v, want %+v", ps, want)
	}

	res, err := c.Inject(ctx, user, InjectRequest{Subject: "from the client", Body: "hello"})
	if err != nil || res.Message.Subject != "from the client" {
		t.Fatalf("Inject = %+v, %v", res, err)
	}
	mb, err := c.Mailbox(ctx, user)
	if err != nil || len(mb.Folders[0].Messages) != 3 {
		t.Fatalf("Mailbox = %+v, %v", mb, err)
	}

	if err := c.SetRedirect(ctx, user, "https://other.example/Microsoft-Server-ActiveSync"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetRedirect(ctx, user, ""); err != nil {
		t.Fatal(err)
	}
	if err := c.SetFaults(ctx, Faults{Gzip: true}); err != nil || !srv.Faults().Gzip {
		t.Fatalf("SetFaults: %v, server has %+v", err, srv.Faults())
	}
	if v, err := c.Faults(ctx); err != nil || !v.Faults.Gzip {
		t.Fatalf("Faults = %+v, %v", v, err)
	}
	if err := c.SetFaults(ctx, Faults{}); err != nil || srv.Faults() != (Faults{}) {
		t.Fatalf("clearing faults: %v, server has %+v", err, srv.Faults())
	}
	var ae *APIError
	if err := c.SetFaults(ctx, Faults{ErrorRate: 2}); !errors.As(err, &ae) || ae.Field != "error_rate" {
		t.Fatalf("invalid fault: %v, want invalid_field error_rate", err)
	}
	if err := c.SetRedirect(ctx, user, "ftp://x"); !errors.As(err, &ae) || ae.Code != "invalid_field" || ae.Status != 400 {
		t.Fatalf("bad redirect: %v, want invalid_field", err)
	}
	if _, err := c.Inject(ctx, "nobody", InjectRequest{Subject: "x"}); !errors.As(err, &ae) || ae.Code != "no_such_user" {
		t.Fatalf("unknown user: %v, want no_such_user", err)
	}
	if _, err := NewAdminClient(srv.AdminURL(), "wrong", httpClient(srv)).Users(ctx); !errors.As(err, &ae) || ae.Code != "unauthorized" {
		t.Fatalf("wrong token: %v, want unauthorized", err)
	}
}
