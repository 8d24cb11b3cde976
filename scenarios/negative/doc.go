// Package negative holds the conformance suite's negative control: the
// compiled suite, in conformance mode, against Debian's nginx configured
// as a plain TLS reverse proxy in front of the suite's fake Exchange
// (nginx.conf.tmpl), a gateway that makes no decisions. Every decision
// spec (framework.IsDecisionSpec) must fail there; one that passes cannot
// fail and is a defect of the suite. TestNegativeControl runs it when
// GATEHOUSE_NEGATIVE_CONTROL=1 (.ci/negative-control.sh); see
// docs/conformance.md, "Negative control".
package negative
