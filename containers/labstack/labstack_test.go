//go:build containers

package labstack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/containers/internal/ctr"
	"github.com/gatehouse-lab/gatehouse/containers/internal/ctrtest"
	"github.com/gatehouse-lab/gatehouse/containers/labstack"
	fakeuem "github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
)

// A registered device's first access through the containerised gateway:
// reported to the containerised UEM, allowed, and synced from the
// containerised Exchange — the three talking over their Docker network.
func TestFirstAccessThroughTheStack(t *testing.T) {
	ctrtest.NeedDocker(t)
	ctx := context.Background()
	s, err := labstack.Run(ctx, image, labstack.Config{Users: 2, MessagesPerUser: 3})
	t.Cleanup(func() {
		if err := s.Terminate(context.Background()); err != nil {
			t.Errorf("terminate: %v", err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	e, err := s.Endpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if e.Mode != labstack.Mode || len(e.Users) != 2 || e.Users[0].Name != "alice" || e.Gateway.AdminToken == "" {
		t.Fatalf("endpoints: %+v", e)
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: ctr.InsecureTLS()}}
	alice := e.Users[0]
	call(t, hc, http.MethodPost, e.UEM.AdminURL+fakeuem.AdminPrefix+"/devices", e.UEM.AdminToken,
		fakeuem.Device{UUID: "uuid-STACK0001", UserID: alice.Name, Platform: "iOS", EASDeviceIDs: []string{"STACK0001"}})

	d, err := device.New(device.Config{ID: "STACK0001", User: alice.Name, Password: alice.Password, Email: alice.Email, Platform: device.IOS}, e.Gateway.DeviceURL, hc)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Connect(ctx); err != nil {
		t.Fatalf("first access through the gateway container: %v", err)
	}
	if len(d.Messages()) == 0 {
		t.Fatal("the device synced no mail from the Exchange container")
	}
	got := call(t, hc, http.MethodGet, e.UEM.AdminURL+fakeuem.AdminPrefix+"/associations?eas_device_id=STACK0001", e.UEM.AdminToken, nil)
	if !strings.Contains(got, `"Allowed"`) {
		t.Fatalf("the UEM's association of the device: %s", got)
	}
}

func call(t *testing.T, hc *http.Client, method, url, token string, body any) string {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %s: %s", method, url, resp.Status, b)
	}
	return string(b)
}
