//go:build !unix

package main

// reexecWithSmallStacks does nothing where the process cannot replace
// itself: the runtime's default starting stacks stay.
func reexecWithSmallStacks() {}
