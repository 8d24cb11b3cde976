package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

// state is where a Server is in its life. It only moves forward:
//
//	created ──Listen──▶ listening ──Start──▶ starting ──▶ running ──Shutdown──▶ stopping ──▶ stopped
//	                                            │
//	                                            └─ Start failed ─▶ failed ──Shutdown──▶ stopping ──▶ stopped
//
// Start listens first when Listen was not called. Shutdown is valid from
// every state and ends in stopped; a Shutdown during Start makes Start
// give up and waits for it. Only a device cache that was loaded (from the
// UEM or from the persistent list, cacheLoaded) is ever written back to
// disk: a gateway that never got that far leaves the list on disk as it
// found it, so a failed start cannot erase what it knew about blocked
// devices.
type state int

const (
	stateCreated   state = iota // New returned; nothing bound
	stateListening              // the listeners are bound; nothing is served
	stateStarting               // Start is loading the device cache and the configuration
	stateRunning                // serving; the link writes the persistent list
	stateFailed                 // Start failed; only Shutdown is left
	stateStopping               // Shutdown is under way
	stateStopped                // Shutdown returned; files closed
)

var stateNames = [...]string{"created", "listening", "starting", "running", "failed", "stopping", "stopped"}

func (st state) String() string {
	if st >= 0 && int(st) < len(stateNames) {
		return stateNames[st]
	}
	return fmt.Sprintf("state(%d)", int(st))
}

// ErrStopped is returned by Listen and Start once Shutdown has begun.
var ErrStopped = errors.New("gateway: shut down")

// errState says that a call does not fit the Server's state.
func errState(call string, st state) error {
	if st >= stateStopping {
		return fmt.Errorf("gateway: %s: %w", call, ErrStopped)
	}
	return fmt.Errorf("gateway: %s while %s", call, st)
}

// Start initialises the device cache (from the UEM, else from disk),
// fetches the configuration, and serves the listeners and background work.
// A Start that fails leaves the Server failed: call Shutdown, which then
// leaves the persistent device list as it was.
func (s *Server) Start(ctx context.Context) (err error) {
	defer func() { s.initLog.Finish(err) }() // init.log ends with the outcome (LOG-09)
	if err := s.beginStart(); err != nil {
		return err
	}
	defer s.wg.Done()
	// Shutdown during Start ends what Start waits for.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.runCtx, cancel)()

	uemAnswered, err := s.initCache(ctx)
	if err != nil {
		return s.startFailed(err)
	}
	s.loadConfig(ctx, uemAnswered)
	control, device := s.listenerTLS()
	handlers := s.handlers()

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateStarting { // Shutdown began while the cache loaded
		return fmt.Errorf("gateway: start: %w", ErrStopped)
	}
	s.serve(handlers, control, device)
	s.state, s.runStarted = stateRunning, true
	s.runBackground(s.runCtx)
	s.startAppTunnel(s.runCtx)
	s.log.Info("gateway started", "device", "https://"+s.addrs["device"], "admin", "https://"+s.addrs["admin"], "notify", "https://"+s.addrs["notify"]+NotificationPath)
	return nil
}

// initCache fills the device cache from the UEM, else from the
// persistent list; from then on the cache may be written to disk.
func (s *Server) initCache(ctx context.Context) (uemAnswered bool, err error) {
	res, err := s.link.Init(ctx)
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	s.cacheLoaded = true
	s.mu.Unlock()
	s.log.Info("device cache initialised", "from_uem", res.FromUEM, "devices", res.Loaded)
	return res.FromUEM, nil
}

// loadConfig fetches the UEM's configuration (else keeps the cached or
// bootstrap settings) and archives the statistics of the previous run.
// A UEM that did not answer the device list is not asked again here (a
// hanging one would hold the start for the fetch's timeout too): the
// configuration last received applies until the link reconnects.
func (s *Server) loadConfig(ctx context.Context, uemAnswered bool) {
	if !uemAnswered {
		s.useCachedConfig()
		s.log.Warn("UEM unreachable at start; using the configuration last received until it answers")
	} else if err := s.refreshConfig(ctx); err != nil {
		s.log.Warn("configuration not fetched from the UEM; using bootstrap settings", "error", err)
	}
	if u := s.as.Upstream(); u.Host == "unconfigured.invalid" {
		s.log.Warn("no ActiveSync server configured yet; requests fail until the UEM sends one")
	}
	if _, err := (stats.Files{Dir: s.cfg.DataDir}).Archive(time.Now()); err != nil {
		s.log.Warn("archiving statistics", "error", err)
	}
}

// runBackground starts the UEM link and the statistics loop; s.mu is
// held, so that Shutdown cannot cancel runCtx in between.
func (s *Server) runBackground(runCtx context.Context) {
	s.wg.Add(3)
	go func() {
		defer s.wg.Done()
		if err := s.link.Run(runCtx); err != nil {
			s.mu.Lock()
			s.runErr = err
			s.mu.Unlock()
		}
	}()
	go func() {
		defer s.wg.Done()
		s.statsLoop(runCtx)
	}()
	go func() {
		defer s.wg.Done()
		s.utilizationLoop(runCtx) // utilization.go
	}()
}

// beginStart moves the Server from listening (binding the listeners
// first if it was just created) to starting, and counts the Start in wg
// so that a Shutdown under way waits for it.
func (s *Server) beginStart() error {
	s.mu.Lock()
	created := s.state == stateCreated
	s.mu.Unlock()
	if created {
		if err := s.Listen(); err != nil {
			s.mu.Lock()
			if s.state == stateCreated {
				s.state = stateFailed
			}
			s.mu.Unlock()
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateListening {
		return errState("Start", s.state)
	}
	s.state = stateStarting
	s.wg.Add(1)
	return nil
}

// startFailed marks a Start that could not finish and closes the
// listeners it will never serve.
func (s *Server) startFailed(err error) error {
	s.mu.Lock()
	if s.state == stateStarting {
		s.state = stateFailed
	}
	s.mu.Unlock()
	s.closeListeners()
	return err
}

// Shutdown stops the listeners gracefully, ends the background work
// (the UEM link's included: nothing calls the UEM or writes the cache
// or the list once it returns), writes the persistent device list
// (DC-02) if the cache was ever loaded, and closes the files. It may be
// called in any state, and more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.state >= stateStopping {
		s.mu.Unlock()
		select {
		case <-s.stopDone:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.state = stateStopping
	s.initLog.Finish(ErrStopped) // a no-op once Start has ended it
	servers := s.servers
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.state = stateStopped
		s.mu.Unlock()
		close(s.stopDone)
	}()

	s.as.Drain() // hanging Pings are answered now, not at the deadline
	var errs []error
	for _, srv := range servers {
		if err := s.fresh.shutdown(ctx, srv); err != nil {
			errs = append(errs, err)
			srv.Close()
		}
	}
	if err := s.stopAppTunnel(ctx); err != nil {
		errs = append(errs, err)
	}
	// The reconnect work first, so that Run's final write holds its result.
	s.link.Stop()
	s.mu.Lock()
	s.cancel() // under mu: no goroutine is added to wg after this (runCtx is checked under mu)
	s.mu.Unlock()
	s.wg.Wait() // Run (its final write of the list), statistics, routers, the Delegator, a Start under way
	// Nothing calls the UEM any more: close the client's connections. A
	// connection dialled for a call that was cancelled lands in the idle
	// pool without ever carrying a request, and the UEM's graceful stop
	// waits 5 s for such a connection (net/http counts it as new).
	s.uem.CloseIdleConnections()
	s.closeListeners()
	s.mu.Lock()
	errs = append(errs, s.runErr)
	// A cache loaded by a Start that did not reach running is written
	// here; one never loaded (a failed start) never is: writing the empty
	// cache would erase the list, and with it every blocked device.
	persist := s.cacheLoaded && !s.runStarted
	s.mu.Unlock()
	if persist {
		if _, err := s.link.Persist(); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, s.store.Close())
	if s.auditF != nil {
		errs = append(errs, s.audit.Close(), s.auditF.Close()) // the buffered entries first
		for _, fwd := range s.audit.SetSyslogs(nil) {
			errs = append(errs, fwd.Close()) // sends what is queued, for at most a second
		}
	}
	errs = append(errs, s.alerts.Close()) // mails the pending batch
	s.gcLog.Stop()
	if s.logsF != nil {
		errs = append(errs, s.logsF.Close())
	}
	if s.micsF != nil {
		errs = append(errs, s.micsF.Close())
	}
	return errors.Join(errs...)
}
