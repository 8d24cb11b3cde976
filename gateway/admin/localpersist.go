package admin

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"

	"github.com/gatehouse-lab/gatehouse/internal/atomicfile"
)

// The run-time local settings (audit, emm-fail-open, statistics
// collection, syslog targets, alert notifications) survive a restart, as
// the appliance's configuration does (STA-09): after each change through
// this API they are written, in the export format, to
// Deps.LocalConfigFile, and the gateway applies that file at start
// (RestoreLocalConfig). Statistics collection keeps only its interval:
// whether it runs after a restart is the bootstrap configuration's
// (INC-02). The Sentry and MICS logs are never saved (LOG-08), and Clear
// Configuration removes the file (CFG-03).

// RestoreLocalConfig applies the saved local settings; a missing file is
// no error. A damaged file is refused whole, with an error naming the file
// and the field, so that a gateway never starts with half its settings.
func RestoreLocalConfig(d Deps) error {
	if d.LocalConfigFile == "" {
		return nil
	}
	data, err := os.ReadFile(d.LocalConfigFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("local settings: %w", err)
	}
	if err := (&api{d: d}).applyLocal(data, true); err != nil {
		return fmt.Errorf("local settings %s (fix or remove it): %w", d.LocalConfigFile, err)
	}
	return nil
}

// saveLocal writes the current local settings to Deps.LocalConfigFile.
func (a *api) saveLocal() error {
	if a.d.LocalConfigFile == "" {
		return nil
	}
	out, err := xml.MarshalIndent(a.exportLocal(), "", "  ")
	if err != nil {
		return fmt.Errorf("local settings: %w", err)
	}
	data := append(append([]byte(xml.Header), out...), '\n')
	if err := atomicfile.Write(a.d.LocalConfigFile, data, 0o600); err != nil {
		return fmt.Errorf("local settings: %w", err)
	}
	return nil
}

// saved saves the settings after a change; when that fails it answers 500
// (the change is in force but would not survive a restart) and says false.
func (a *api) saved(w http.ResponseWriter) bool {
	if err := a.saveLocal(); err != nil {
		writeErr(w, http.StatusInternalServerError, fmt.Errorf("applied, but not saved, so it is lost at restart: %w", err))
		return false
	}
	return true
}
