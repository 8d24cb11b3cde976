// Package conformance runs the conformance scenarios (./scenarios, in the
// framework's External mode) against a gateway running as a container
// image: the test in this package (build tag "containers") starts the
// image with containers/gateway, points the suite at it and restarts it
// with `docker restart` in the disruptive specs. See docs/containers.md.
package conformance
