// Package scenarios holds the Ginkgo conformance suites: black-box specs
// acting through simulated devices, the fake UEM and the fake Exchange
// (scenarios/framework), runnable against our gateway or another build.
// See docs/conformance.md; the specs are listed in
// docs/spec/conformance-specs.yaml, which go generate rewrites from a dry
// run of the suite.
package scenarios

//go:generate go test -count=1 -run TestSpecListIsUpToDate . -args -update-spec-list
