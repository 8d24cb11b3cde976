// Package layers holds the test that keeps gatehouse's package layers
// honest (docs/architecture.md): dependencies point down only, and a
// server never imports a sibling server tree (the gateway never imports a
// fake, a fake never imports the gateway).
package layers
