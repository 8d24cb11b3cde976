package framework

import "github.com/onsi/ginkgo/v2"

// Labels select specs (`ginkgo --label-filter`, `go test -args
// -ginkgo.label-filter`). The suite's default filter is "!slow".
const (
	// LabelConformance: black-box, runs against any gateway.
	LabelConformance = "conformance"
	// LabelDisruptive: restarts or kills the gateway.
	LabelDisruptive = "disruptive"
	// LabelIntrospection: reads or drives our gateway's admin API.
	LabelIntrospection = "introspection"
	// LabelSlow: kept out of the default run.
	LabelSlow = "slow"
	// LabelSecurity: checks a security property (docs/security.md):
	// identity binding, signed notifications, relay limits, fail-closed
	// paths. Combined with conformance (Security) or introspection.
	LabelSecurity = "security"
)

// Feature labels.
const (
	FeatureFirstAccess = "first-access"
	FeatureBlock       = "block"
	FeatureManual      = "manual-override"
	FeatureWipe        = "wipe"
	FeatureFailOpen    = "fail-open"
	FeatureResync      = "resync"
	FeaturePolicy      = "policy"
	FeaturePersistence = "persistence"
	FeaturePurge       = "purge"
	FeatureRouting     = "routing"
	FeatureRedirect    = "redirect"
	FeatureAttachments = "attachments"
	FeatureDeviceAuth  = "device-auth"
	FeatureKerberos    = "kerberos"
)

// Conformance labels a black-box spec with its features.
func Conformance(features ...string) ginkgo.Labels {
	return append(ginkgo.Labels{LabelConformance}, features...)
}

// Disruptive labels a black-box spec that restarts or kills the gateway.
func Disruptive(features ...string) ginkgo.Labels {
	return append(ginkgo.Labels{LabelConformance, LabelDisruptive}, features...)
}

// Security labels a black-box spec that checks a security property.
func Security(features ...string) ginkgo.Labels {
	return append(ginkgo.Labels{LabelConformance, LabelSecurity}, features...)
}

// Introspection labels a spec that uses our gateway's admin API.
func Introspection(features ...string) ginkgo.Labels {
	return append(ginkgo.Labels{LabelIntrospection}, features...)
}
