package chaos

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/gatehouse-lab/gatehouse/lab"
)

var (
	gatewayBinaryOnce sync.Once
	gatewayBinaryDir  string
	gatewayBinary     string
	gatewayBinaryErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if gatewayBinaryDir != "" {
		os.RemoveAll(gatewayBinaryDir)
	}
	os.Exit(code)
}

// regressionWorld is the world a regression schedule needs: in process,
// or (mode: subprocess) the gatehouse binary, built once, with the disk
// faults. Those need root and unshare -m: skipped with the reason
// elsewhere, failed under GATEHOUSE_REQUIRE_PEERS=1 (CI).
func regressionWorld(t *testing.T, s *Schedule) WorldConfig {
	t.Helper()
	if s.Mode != string(lab.Subprocess) {
		return WorldConfig{}
	}
	if err := DiskFaultsSupported(); err != nil {
		if os.Getenv("GATEHOUSE_REQUIRE_PEERS") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("subprocess regression (a gateway build) skipped with -short")
	}
	gatewayBinaryOnce.Do(func() {
		gatewayBinaryDir, gatewayBinaryErr = os.MkdirTemp("", "gatehouse-chaos-bin-")
		if gatewayBinaryErr == nil {
			gatewayBinary, gatewayBinaryErr = lab.BuildGateway(context.Background(), gatewayBinaryDir)
		}
	})
	if gatewayBinaryErr != nil {
		t.Fatal(gatewayBinaryErr)
	}
	return WorldConfig{Mode: lab.Subprocess, Binary: gatewayBinary, DiskFaults: true}
}
