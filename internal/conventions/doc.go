// Package conventions holds tests that keep repository-wide conventions
// that no compiler checks: one key for errors in structured logs, and no
// non-test, non-generated Go file over 500 lines or function over 100.
package conventions
