package chaos

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// The UEM statuses a schedule injects reach the gateway's client as the
// classes the oracle assumes: 401, 403 and 429 refuse the gateway, 5xx
// is an outage.
func TestUEMStatusFaultsClassify(t *testing.T) {
	l, err := lab.Start(context.Background(), lab.Config{Mode: lab.External, GatewayURL: "https://127.0.0.1:1", NotifyURL: "https://127.0.0.1:1/n"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(context.Background())
	ep := l.Endpoints()
	c, err := uemapi.NewClient(ep.UEM.GatewayAPIURL, ep.UEM.GatewayToken, uemapi.WithHTTPClient(l.HTTPClient()))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		f    uem.Faults
		want uemapi.Failure
	}{
		{uem.Faults{AuthStatus: http.StatusUnauthorized}, uemapi.AuthRefused},
		{uem.Faults{AuthStatus: http.StatusForbidden}, uemapi.AuthRefused},
		{uem.Faults{AuthStatus: http.StatusTooManyRequests}, uemapi.RateLimited},
		{uem.Faults{ErrorRate: 1}, uemapi.Unreachable},
		{uem.Faults{ErrorRate: 1, ErrorStatus: 500}, uemapi.Unreachable},
		{uem.Faults{ErrorRate: 1, ErrorStatus: 502}, uemapi.Unreachable},
	} {
		if err := l.UEM.SetFaults(tc.f); err != nil {
			t.Fatal(err)
		}
		_, err := c.Connectivity(context.Background())
		if got := uemapi.Classify(err); got != tc.want {
			t.Errorf("%+v: %v classified %v, want %v", tc.f, err, got, tc.want)
		}
	}
	if err := l.UEM.SetFaults(uem.Faults{AuthStatus: 418}); err == nil || !errors.As(err, new(*uemapi.Error)) {
		t.Errorf("auth_status 418 accepted: %v", err)
	}
}
