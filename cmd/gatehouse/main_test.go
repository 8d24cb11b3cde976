package main

import (
	"os"
	"testing"
)

// envAsBinary makes this test binary behave as the gatehouse binary (its
// arguments are a gatehouse command line): the lab's gateway subprocess
// in the dashboard's browser test runs from it, so the test needs no go
// build.
const envAsBinary = "GATEHOUSE_TEST_AS_BINARY"

func TestMain(m *testing.M) {
	if os.Getenv(envAsBinary) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}
