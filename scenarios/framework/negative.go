package framework

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2/types"
)

// The negative control runs the suite in conformance mode against a
// gateway that makes no decisions (nginx relaying to the fake Exchange,
// scenarios/negative). A decision spec that passes there cannot fail: it
// is a defect of the suite.

// IsDecisionSpec reports whether a spec with these labels checks a
// decision of the gateway: a conformance spec with a decision label
// (LabelTable).
func IsDecisionSpec(labels []string) bool {
	if !slices.Contains(labels, LabelConformance) {
		return false
	}
	for _, l := range labels {
		if info, ok := LookupLabel(l); ok && info.Decision {
			return true
		}
	}
	return false
}

// DecisionFilter is the Ginkgo label filter selecting the decision specs
// (IsDecisionSpec), slow ones included.
func DecisionFilter() string {
	return LabelConformance + " && (" + strings.Join(DecisionLabels(), " || ") + ")"
}

// ControlResult is what the negative control found in a run's report:
// the decision specs by outcome, as "Describe / text".
type ControlResult struct {
	Failed  []string // failed in their body, as they must against a gateway that decides nothing
	Passed  []string // passed: they cannot fail, a defect of the suite
	Skipped []string // skipped by the spec (they cannot run against another gateway)
	// Broken failed before their body ran (the world did not start) or
	// were interrupted: the control did not exercise them.
	Broken []string
}

// NegativeControl sorts the decision specs of a conformance run against a
// gateway that makes no decisions. A spec whose body passed but whose
// cleanup failed counts as passed: its assertions all held.
func NegativeControl(r types.Report) ControlResult {
	var c ControlResult
	for _, sr := range r.SpecReports {
		if sr.LeafNodeType != types.NodeTypeIt || !IsDecisionSpec(sr.Labels()) {
			continue
		}
		name := strings.Join(append(slices.Clone(sr.ContainerHierarchyTexts), sr.LeafNodeText), " / ")
		switch {
		case sr.State == types.SpecStatePassed:
			c.Passed = append(c.Passed, name)
		case sr.State == types.SpecStateSkipped && sr.Failure.Message == "":
			// Not selected by the label filter or focus.
		case sr.State == types.SpecStateSkipped || sr.State == types.SpecStatePending:
			c.Skipped = append(c.Skipped, name)
		case sr.State.Is(types.SpecStateInterrupted | types.SpecStateAborted):
			c.Broken = append(c.Broken, name)
		case sr.State.Is(types.SpecStateFailureStates):
			switch {
			case sr.Failure.FailureNodeType == types.NodeTypeIt:
				c.Failed = append(c.Failed, name)
			case sr.Failure.FailureNodeType.Is(types.NodeTypeCleanupAfterEach | types.NodeTypeAfterEach | types.NodeTypeJustAfterEach):
				c.Passed = append(c.Passed, name+" (its body passed; a cleanup failed)")
			default:
				c.Broken = append(c.Broken, fmt.Sprintf("%s (failed in %s: %s)", name, sr.Failure.FailureNodeType, firstLine(sr.Failure.Message)))
			}
		}
	}
	return c
}

// Err is nil when every decision spec that ran failed in its body, and at
// least one ran.
func (c ControlResult) Err() error {
	var errs []error
	if len(c.Passed) > 0 {
		errs = append(errs, fmt.Errorf("%d decision specs passed against a gateway that makes no decisions (they cannot fail):\n  %s",
			len(c.Passed), strings.Join(c.Passed, "\n  ")))
	}
	if len(c.Broken) > 0 {
		errs = append(errs, fmt.Errorf("%d decision specs did not run their body:\n  %s", len(c.Broken), strings.Join(c.Broken, "\n  ")))
	}
	if len(c.Failed)+len(c.Passed) == 0 {
		errs = append(errs, errors.New("no decision spec ran"))
	}
	return errors.Join(errs...)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
