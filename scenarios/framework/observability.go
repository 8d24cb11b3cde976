package framework

import (
	"net/http"
	"slices"

	"github.com/gatehouse-lab/gatehouse/gateway/admin"
)

// Observability labels (issue 22): specs that drive device traffic and
// read the gateway's counters, audit entries and alerts back through the
// documented admin API (docs/gateway.md). They are introspection specs
// that use nothing but that API, so they also run against another
// gateway that offers it (--gateway-admin-url).
const (
	FeatureStatistics = "statistics"
	FeatureAudit      = "audit"
	FeatureAlerts     = "alerts"
)

// adminAPIOnly reports whether a spec carrying labels reads the gateway
// only through its documented admin API: one of its labels says so in
// LabelTable (AdminAPI).
func adminAPIOnly(labels []string) bool {
	return slices.ContainsFunc(labels, func(name string) bool {
		l, ok := LookupLabel(name)
		return ok && l.AdminAPI
	})
}

// introspectionSkip is why an introspection spec cannot run against the
// gateway under test, "" when it can: it must read the gateway only
// through the admin API, and that API's URL must be given.
func introspectionSkip(labels []string) string {
	switch {
	case !adminAPIOnly(labels):
		return "introspection specs use our gateway's internals: skipped against another gateway"
	case TestContext.GatewayAdminURL == "":
		return "the gateway under test offers no admin API to the suite: give --gateway-admin-url and GATEHOUSE_GATEWAY_ADMIN_TOKEN to run the statistics, audit and alerts specs"
	}
	return ""
}

// conformanceAdmin is the admin client of the gateway under test; nil
// when no admin URL is given.
func conformanceAdmin(hc *http.Client) *admin.Client {
	if TestContext.GatewayAdminURL == "" {
		return nil
	}
	return admin.NewClient(TestContext.GatewayAdminURL, TestContext.GatewayAdminToken, hc)
}
