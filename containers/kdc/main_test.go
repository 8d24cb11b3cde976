//go:build containers

package kdc_test

import (
	"testing"

	"github.com/gatehouse-lab/gatehouse/containers/internal/ctrtest"
)

func TestMain(m *testing.M) { ctrtest.Main(m) }

// image is the gatehouse image the tests and examples run:
// "gatehouse:dev" (ci/image-build.sh) unless GATEHOUSE_IMAGE names another.
var image = ctrtest.Image()
