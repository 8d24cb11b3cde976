//go:build containers

package kdc_test

import (
	"context"
	"fmt"
	"log"

	"github.com/testcontainers/testcontainers-go"

	"github.com/gatehouse-lab/gatehouse/containers/kdc"
)

func ExampleRun() {
	ctx := context.Background()
	c, err := kdc.Run(ctx, image, kdc.WithRealm("CORP.EXAMPLE"),
		kdc.WithPrincipal("alice", "alice-secret"),
		kdc.WithPrincipal("HTTP/sentry1_eas_kcd", "sentry-secret"),
		kdc.WithPrincipal("http/mail.corp.example", "mail-secret"),
		kdc.WithDelegation("HTTP/sentry1_eas_kcd", "http/mail.corp.example"))
	defer func() {
		if err := testcontainers.TerminateContainer(c); err != nil {
			log.Printf("terminate: %v", err)
		}
	}()
	if err != nil {
		log.Printf("run: %v", err)
		return
	}
	// Krb5Conf names the mapped TCP port: write it to a file and point
	// KRB5_CONFIG at it for kinit, or parse it with gokrb5's config.
	if _, err := c.Krb5Conf(ctx); err != nil {
		log.Printf("krb5.conf: %v", err)
		return
	}
	fmt.Println(c.Realm())
	// Output: CORP.EXAMPLE
}
