package main

import (
	"slices"
	"testing"
)

// `gatehouse gateway` is re-executed with adaptivestackstart=0 added to
// GODEBUG, once; other subcommands and an operator's own setting are
// left alone.
func TestSmallStacksEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		environ []string
		want    []string // nil: no re-execution
	}{
		{"gateway", []string{"gatehouse", "gateway", "--listen", ":443"}, []string{"HOME=/root"},
			[]string{"HOME=/root", "GODEBUG=adaptivestackstart=0"}},
		{"other settings kept", []string{"gatehouse", "gateway"}, []string{"GODEBUG=http2debug=1", "A=b"},
			[]string{"A=b", "GODEBUG=http2debug=1,adaptivestackstart=0"}},
		{"already re-executed", []string{"gatehouse", "gateway"}, []string{"GODEBUG=adaptivestackstart=0"}, nil},
		{"the operator's choice", []string{"gatehouse", "gateway"}, []string{"GODEBUG=x=1, adaptivestackstart=1"}, nil},
		{"another subcommand", []string{"gatehouse", "lab"}, []string{"HOME=/root"}, nil},
		{"no subcommand", []string{"gatehouse"}, nil, nil},
	} {
		got, ok := smallStacksEnv(tc.args, tc.environ)
		if ok != (tc.want != nil) || !slices.Equal(got, tc.want) {
			t.Errorf("%s: smallStacksEnv = %q, %v; want %q", tc.name, got, ok, tc.want)
		}
	}
}
