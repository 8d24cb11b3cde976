package scenarios_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

func init() { framework.RegisterFlags() }

// DefaultLabelFilter applies when no --label-filter is given.
const DefaultLabelFilter = "!slow"

func TestScenarios(t *testing.T) {
	RegisterFailHandler(Fail)
	framework.WatchSignals()
	suiteConfig, reporterConfig := GinkgoConfiguration()
	if suiteConfig.LabelFilter == "" {
		suiteConfig.LabelFilter = DefaultLabelFilter
	}
	RunSpecs(t, "gatehouse scenarios", suiteConfig, reporterConfig)
}

// The gatehouse binary for subprocess worlds is the one given
// (--gateway-binary), else each process builds one the first time a spec
// needs it (framework.GatewayBinary); none in the default run.
var _ = BeforeSuite(func() { framework.SetGatewayBinary(framework.TestContext.GatewayBinary) })

var _ = AfterSuite(framework.RemoveBuiltGateway)

var _ = ReportAfterSuite("done marker", framework.WriteDone)
