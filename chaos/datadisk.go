package chaos

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-lab/gatehouse/internal/selfsigned"
	"github.com/gatehouse-lab/gatehouse/lab"
)

// dataDisk puts a subprocess world's gateway data directory on a small
// tmpfs in a private mount namespace, so that a schedule can make it full
// or read-only. CI runs as root, for whom chmod stops nothing; a
// read-only remount and ENOSPC stop root too. A holder process keeps the
// namespace alive across the gateway's restarts and kills; the gateway is
// started inside it through nsenter (a wrapper script given to the lab as
// the gateway binary). Nothing is mounted outside the namespace.
type dataDisk struct {
	data    string // the data directory, the tmpfs's mount point inside the namespace
	wrapper string // the gateway binary, run in the namespace
	holder  *exec.Cmd
	stdin   io.WriteCloser // closing it ends the holder (and the namespace with the gateway)

	mu             sync.Mutex
	readOnly, full bool
}

// dataDiskSize is the tmpfs's size: room for the device list of a few
// dozen devices, the certificate and the statistics files.
const dataDiskSize = "16m"

// filler is the file that fills the tmpfs (a name the gateway never uses).
const filler = ".chaos-filler"

// holderScript runs under unshare: it copies what the lab put in the
// data directory ($1: its certificate) onto a new tmpfs mounted there,
// says ready, and lives until its stdin closes.
const holderScript = `set -e
tmp=$(mktemp -d)
cp -a "$1/." "$tmp/"
mount -t tmpfs -o size=$2,mode=0700 gatehouse-chaos "$1"
cp -a "$tmp/." "$1/"
rm -rf "$tmp"
echo ready
exec cat >/dev/null`

var (
	diskProbeOnce sync.Once
	diskProbeErr  error
)

// DiskFaultsSupported reports whether this machine can run the disk
// faults (root and unshare -m: a tmpfs in a private mount namespace); the
// error says why not. Probed once.
func DiskFaultsSupported() error {
	diskProbeOnce.Do(func() {
		out, err := exec.Command("unshare", "--mount", "--propagation", "private",
			"sh", "-c", `d=$(mktemp -d) && mount -t tmpfs -o size=1m t "$d" && mount -o remount,ro "$d" && umount "$d" && rmdir "$d"`).CombinedOutput()
		if err != nil {
			diskProbeErr = fmt.Errorf("disk faults need a private mount namespace with tmpfs (root, unshare -m): %v: %s", err, strings.TrimSpace(string(out)))
		}
	})
	return diskProbeErr
}

// newDataDisk mounts a tmpfs on data (which holds what the gateway needs
// at its first start) in a new mount namespace and writes, in dir, a
// wrapper that runs binary inside it.
func newDataDisk(dir, data, binary string) (*dataDisk, error) {
	if err := DiskFaultsSupported(); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(binary)
	if err != nil {
		return nil, fmt.Errorf("chaos: data disk: %w", err)
	}
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", holderScript, "holder", data, dataDiskSize)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("chaos: data disk: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("chaos: data disk: %w", err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("chaos: data disk: start the namespace: %w", err)
	}
	d := &dataDisk{data: data, holder: cmd, stdin: stdin}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		d.close()
		return nil, fmt.Errorf("chaos: data disk: the namespace did not come up: %s", strings.TrimSpace(stderr.String()))
	}
	d.wrapper = filepath.Join(dir, "gatehouse-in-namespace")
	script := "#!/bin/sh\nexec nsenter -t " + strconv.Itoa(cmd.Process.Pid) + " -m -- " + shellQuote(abs) + " \"$@\"\n"
	if err := os.WriteFile(d.wrapper, []byte(script), 0o700); err != nil {
		d.close()
		return nil, fmt.Errorf("chaos: data disk: %w", err)
	}
	return d, nil
}

// in runs a shell command inside the namespace.
func (d *dataDisk) in(script string) error {
	out, err := exec.Command("nsenter", "-t", strconv.Itoa(d.holder.Process.Pid), "-m", "--", "sh", "-c", script, "disk", d.data).CombinedOutput()
	if err != nil {
		return fmt.Errorf("chaos: data disk: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// setReadOnly remounts the data directory read-only (on) or read-write.
func (d *dataDisk) setReadOnly(on bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.readOnly == on {
		return nil
	}
	mode := "rw"
	if on {
		mode = "ro"
	}
	if err := d.in(`mount -o remount,` + mode + ` "$1"`); err != nil {
		return err
	}
	d.readOnly = on
	return nil
}

// setFull fills the tmpfs with a filler file (on: writes fail with
// ENOSPC) or removes it. A read-only disk is made writable for the
// moment it takes.
func (d *dataDisk) setFull(on bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.full == on {
		return nil
	}
	script := `rm -f "$1/` + filler + `"`
	if on {
		// cat stops at ENOSPC; its failure is the point.
		script = `cat /dev/zero > "$1/` + filler + `" 2>/dev/null; test -s "$1/` + filler + `"`
	}
	if d.readOnly {
		script = `mount -o remount,rw "$1" && { ` + script + `; }; r=$?; mount -o remount,ro "$1"; exit $r`
	}
	if err := d.in(script); err != nil {
		return err
	}
	d.full = on
	return nil
}

// state reports the faults in force.
func (d *dataDisk) state() (readOnly, full bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.readOnly, d.full
}

// close ends the holder; the namespace (and the tmpfs) goes with the
// last process in it (the lab stops the gateway).
func (d *dataDisk) close() {
	d.stdin.Close()
	_ = d.holder.Wait()
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// prepareDisk makes the lab's directory, the gateway's certificate in its
// data directory (as lab.Start would, so that the UEM trusts it), and the
// data disk; lc then starts the gateway through the disk's wrapper.
func prepareDisk(ctx context.Context, lc *lab.Config) (*dataDisk, error) {
	dir, err := os.MkdirTemp("", "gatehouse-chaos-")
	if err != nil {
		return nil, fmt.Errorf("chaos: data disk: %w", err)
	}
	fail := func(err error) (*dataDisk, error) {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("chaos: data disk: %w", err)
	}
	data := filepath.Join(dir, "gateway-data")
	if _, err := selfsigned.LoadOrCreate(filepath.Join(data, "tls"), "gatehouse gateway", time.Now()); err != nil {
		return fail(err)
	}
	bin := lc.Binary
	if bin == "" {
		if bin, err = lab.BuildGateway(ctx, dir); err != nil {
			return fail(err)
		}
	}
	d, err := newDataDisk(dir, data, bin)
	if err != nil {
		return fail(err)
	}
	lc.Dir, lc.Binary = dir, d.wrapper
	return d, nil
}
