// Package faults is the one fault layer of the fakes, shaped after
// Toxiproxy: a fault ("toxic") is a value of a registered kind, one file
// per kind behind a small interface, with a direction (upstream: what the
// client sends; downstream: what the server answers) and a toxicity (the
// probability, from a seeded generator, that it acts on a given
// connection or request).
//
// An Injector holds the faults of one place (a fake's gateway-facing or
// device-facing side) and applies them at two layers: its Listener wraps
// the TCP listener (down, reset_peer, slicer, bandwidth) and its
// Middleware wraps the HTTP handler (latency, error, hang, slow_body,
// reset). A Spec is a fault as data, JSON-serialisable, so that a chaos
// driver can print, replay and commit its schedules:
//
//	in := faults.New(seed)
//	ln, _ := in.Listen(ctx, "tcp", "127.0.0.1:0")
//	srv := &http.Server{Handler: in.Middleware(h)}
//	go srv.Serve(ln)
//	in.Set(faults.Spec{Direction: faults.Upstream, Toxicity: 0.2, Toxic: faults.ErrorStatus{Status: 503}})
//	in.Set(faults.Spec{Toxic: faults.Down{}}) // connections refused
//	in.Clear()                                // listening again, same address
//
// Each fake keeps the faults that are its own (the UEM's lost
// notifications and one-way partitions, Exchange's compression) and its
// admin API's fault fields, which it maps to Specs.
package faults
