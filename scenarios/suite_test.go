package scenarios_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/lab"
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

// The gatehouse binary for subprocess worlds is built once, by process 1,
// only when a selected spec needs it.
var _ = SynchronizedBeforeSuite(func(ctx context.Context) []byte {
	if framework.ConformanceMode() || framework.TestContext.GatewayBinary != "" {
		return []byte(framework.TestContext.GatewayBinary)
	}
	filter := GinkgoLabelFilter()
	if filter == "" {
		filter = DefaultLabelFilter
	}
	if !Label(framework.LabelDisruptive).MatchesLabelFilter(filter) {
		return nil
	}
	dir, err := os.MkdirTemp("", "gatehouse-scenarios-bin-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, dir)
	bin, err := lab.BuildGateway(ctx, dir)
	Expect(err).NotTo(HaveOccurred())
	return []byte(bin)
}, func(bin []byte) {
	framework.SetGatewayBinary(strings.TrimSpace(string(bin)))
}, NodeTimeout(5*time.Minute))

var _ = ReportAfterSuite("done marker", framework.WriteDone)
