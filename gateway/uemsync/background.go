package uemsync

import "context"

// Stop cancels the work the link runs in the background (the reconnect
// work) and waits for it to end: once Stop returns the link makes no UEM
// call and writes neither the cache nor the persistent list on its own.
// Call it before ending Run, so that Run's final write holds that work's
// result. Stop may be called more than once.
func (l *Link) Stop() {
	l.mu.Lock()
	l.bgStopped = true
	stop := l.stopBg
	l.mu.Unlock()
	if stop != nil {
		stop()
	}
	l.bgWG.Wait()
}

// goBackground runs fn on its own goroutine, owned by the link: fn gets
// the link's background context and Stop waits for it. After Stop, fn is
// not run.
func (l *Link) goBackground(fn func(ctx context.Context)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bgStopped {
		return
	}
	if l.bg == nil {
		l.bg, l.stopBg = context.WithCancel(context.Background())
	}
	ctx := l.bg
	l.bgWG.Add(1)
	go func() {
		defer l.bgWG.Done()
		fn(ctx)
	}()
}
