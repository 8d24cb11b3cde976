// Package conventions holds tests that keep repository-wide conventions
// that no compiler checks: one key for errors in structured logs.
package conventions
