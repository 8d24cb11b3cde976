#!/usr/bin/env bash
# The nightly mutation run of the CI templates (ci/github-actions.yml,
# ci/gitlab-ci.yml; docs/ci.md): every mutant of scenarios/mutants put
# into the bundled gateway, one at a time, in-process and black-box
# (docs/conformance.md, "Mutation score"), then the score as a report.
# It measures the suite, not your gateway. Runnable by hand from a
# gatehouse checkout.
#
# Environment (all optional):
#   GATEHOUSE_RESULTS        output directory (default gatehouse-results)
#   GATEHOUSE_MUTANT_MODE    in-process, black-box or both (default both)
#   GATEHOUSE_MUTANT_JOBS    mutants tried at once (default 2)
#
# Exit status: 1 when a mutant survived without a reason in its patch or
# could not be tried; the report is written either way.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${GATEHOUSE_RESULTS:-gatehouse-results}
mkdir -p "$out" bin
step() { printf '\n=== %s\n' "$*"; }

step "build"
go build -o bin/gatehouse ./cmd/gatehouse || exit 1

step "mutants (${GATEHOUSE_MUTANT_MODE:-both})"
rc=0
bin/gatehouse mutants run --mode "${GATEHOUSE_MUTANT_MODE:-both}" --jobs "${GATEHOUSE_MUTANT_JOBS:-2}" \
	--json "$out/mutation.json" >"$out/mutation.md" || rc=$?
cat "$out/mutation.md"

step "report"
if [[ -s $out/mutation.json ]]; then
	bin/gatehouse report --title "gatehouse mutation score" -o "$out/mutation-report" "$out/mutation.json" || { ((rc == 0)) && rc=1; }
fi
if [[ -n ${GITHUB_STEP_SUMMARY:-} && -s $out/mutation.md ]]; then
	cat "$out/mutation.md" >>"$GITHUB_STEP_SUMMARY"
fi
exit "$rc"
