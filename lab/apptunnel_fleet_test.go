package lab_test

import (
	"context"
	"testing"

	"github.com/gatehouse-lab/gatehouse/lab"
)

// StartAppTraffic returns only once the gateway applied the configuration
// it saved at the UEM (identity-certificate device auth): a fleet started
// earlier had its mail devices connect without a certificate and every
// FolderSync refused as blocked (TestMixedMailAndAppFleetThroughTheLab on
// a loaded machine).
func TestStartAppTrafficWaitsForTheGatewayConfig(t *testing.T) {
	l := startLab(t, lab.Config{Users: 1, MessagesPerUser: 1})
	be, err := l.StartAppTraffic()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(be.Close)
	entry, err := l.UEM.Gateway(l.GatewayID())
	if err != nil {
		t.Fatal(err)
	}
	st, err := l.GatewayAdmin().Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.ConfigVersion < entry.ConfigVersion {
		t.Errorf("the gateway runs configuration %d after StartAppTraffic, the UEM saved %d", st.ConfigVersion, entry.ConfigVersion)
	}
}
