//go:build containers

package gateway_test

import (
	"testing"

	"github.com/gatehouse-lab/gatehouse/containers/internal/ctrtest"
)

func TestMain(m *testing.M) { ctrtest.Main(m) }
