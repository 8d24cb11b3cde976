// Package chaos runs seeded fault campaigns against a gateway and checks
// every answer with an oracle (issue 20, docs/chaos.md).
//
// A campaign is N schedules. A schedule is a seeded random list of steps
// over a small world (fake UEM, fake Exchange, a gateway, a few users and
// 5-50 devices): device operations, UEM admin actions, faults and waits.
// The runner plays it against a lab world (in process, subprocess or an
// external gateway) and the oracle keeps a model of what the UEM decided
// and what the gateway was allowed to know when; a request of a blocked
// or wiped device that reached Exchange is a wrong allow, an allowed
// device refused outside the allowed staleness a wrong block, and so on
// (Finding). A failing schedule replays from its seed and shrinks by
// delta debugging to a short step list, written as YAML under
// chaos/testdata as a regression.
package chaos
