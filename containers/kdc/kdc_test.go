//go:build containers

package kdc_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/testcontainers/testcontainers-go"

	"github.com/gatehouse-lab/gatehouse/containers/internal/ctrtest"
	"github.com/gatehouse-lab/gatehouse/containers/kdc"
)

func TestRunIssuesATicket(t *testing.T) {
	ctrtest.NeedDocker(t)
	ctx := context.Background()
	c, err := kdc.Run(ctx, image, kdc.WithPrincipal("alice", "alice-secret"))
	testcontainers.CleanupContainer(t, c)
	if err != nil {
		t.Fatal(err)
	}
	conf, err := c.Krb5Conf(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// gokrb5 wants a bare host:port for kdc.
	cfg, err := config.NewFromString(strings.Replace(conf, "kdc = tcp/", "kdc = ", 1))
	if err != nil {
		t.Fatal(err)
	}
	cl := client.NewWithPassword("alice", c.Realm(), "alice-secret", cfg, client.DisablePAFXFAST(true))
	if err := cl.Login(); err != nil {
		t.Fatalf("AS exchange with the containerised KDC: %v", err)
	}
	cl.Destroy()
}
