package chaos

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// diskStep injects or removes a data directory fault (subprocess mode
// with DiskFaults; skipped elsewhere).
func (r *runner) diskStep(ctx context.Context, st Step) error {
	d := r.w.disk
	if d == nil {
		return errSkip
	}
	if st.Op == OpDiskFull {
		err := d.setFull(st.On)
		r.updateDisk()
		return err
	}
	return r.readOnly(ctx, st.On)
}

// readOnly remounts the data directory read-only or read-write. Linux
// refuses to make a file system read-only while a process has a file
// open for writing on it (the gateway's device list), so the gateway is
// stopped for it and started again: a read-only data directory is one
// the gateway starts on. A gateway that does not start there stays down
// until the directory is writable again.
func (r *runner) readOnly(ctx context.Context, on bool) error {
	l := r.w.lab
	if ro, _ := r.w.disk.state(); ro == on {
		return nil
	}
	if !r.waitStart {
		r.down()
		if err := l.StopGateway(ctx); err != nil {
			return err
		}
	}
	err := r.w.disk.setReadOnly(on)
	r.updateDisk()
	if err != nil {
		return err
	}
	if err := l.StartGateway(ctx); err != nil {
		if !on {
			return err
		}
		r.waitStart = true // down until the directory is writable
		return nil
	}
	r.waitStart = false
	r.up()
	return nil
}

// diskHeal clears both data directory faults.
func (r *runner) diskHeal(ctx context.Context) error {
	err := r.w.disk.setFull(false)
	r.updateDisk()
	if err != nil {
		return err
	}
	return r.readOnly(ctx, false)
}

// updateDisk records whether the gateway can write its data directory.
func (r *runner) updateDisk() {
	if r.w.disk == nil {
		return
	}
	ro, full := r.w.disk.state()
	r.o.disk.set(time.Now(), !ro && !full)
}

// writeFailedLogged reports whether the gateway logged a failed write of
// device id's state to its data directory: the one way it says that a
// decision may not survive a restart (docs/chaos.md, "Disk faults").
func (w *world) writeFailedLogged(id string) bool {
	if w.disk == nil {
		return false
	}
	b, err := os.ReadFile(filepath.Join(w.dir, "gateway.log"))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, `"msg":"`+journalFailedMsg+`"`) && strings.Contains(line, `"device":"`+id+`"`) {
			return true
		}
	}
	return false
}

// journalFailedMsg is the gateway's log message for a decision it could
// not write to disk (gateway/uemsync, Link.journal).
const journalFailedMsg = "writing a blocked device to disk failed"
