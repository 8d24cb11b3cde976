package lab

import (
	"context"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/exmgmt"
)

// TestIntegratedLabSyncsAPartnership: a lab with the connector beside the
// gateway; a device that synced through the gateway is a partnership in
// Exchange, which the connector's differential reports and allows there.
func TestIntegratedLabSyncsAPartnership(t *testing.T) {
	ctx := context.Background()
	l, err := Start(ctx, Config{Integrated: true, MessagesPerUser: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close(context.Background()) })
	c := l.Connector()
	gomega.NewWithT(t).Eventually(func() time.Time { return c.State().LastFull }).WithTimeout(20*time.Second).
		ShouldNot(gomega.BeZero(), "the connector's first full sync (INT-05)")
	u := l.Users()[0]
	d, err := l.NewDevice(device.Config{User: u.Name, Password: u.Password, ID: "LABPHONE1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Sync(ctx, "differential"); err != nil {
		t.Fatal(err)
	}
	md, ok := l.Exchange.Management().Device(u.Name, "LABPHONE1")
	if !ok || md.AccessState != exmgmt.StateAllowed || md.AccessStateReason != exmgmt.ReasonIndividual {
		t.Fatalf("Exchange: %+v", md)
	}
	if _, err := l.UEM.FindAssociation("LABPHONE1", u.Name); err != nil {
		t.Fatal(err)
	}
}
