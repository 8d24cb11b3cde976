// Package layers holds the test that keeps gatehouse's package layers
// honest (docs/architecture.md): dependencies point down only, and a
// server never imports a sibling server tree (the gateway never imports a
// fake, a fake never imports the gateway). Drivers (layer 2) may use one
// another: the lab hands out simulated devices. Every top-level directory
// has a layer, and internal/, which any layer may use, imports none.
package layers
