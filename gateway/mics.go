package gateway

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gatehouse-lab/gatehouse/gateway/alerts"
	"github.com/gatehouse-lab/gatehouse/gateway/logctl"
)

// MICSLogFile is the MICS log in the data directory (LOG-01): the
// gateway's calls to the UEM and the UEM's connectivity changes, while
// `ctl log mics on`.
const MICSLogFile = "mics.log"

func (s *Server) openMICSLog() error {
	f, err := os.OpenFile(filepath.Join(s.cfg.DataDir, MICSLogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("gateway: mics log: %w", err)
	}
	s.micsF = f
	s.mics.SetOutput(f)
	return nil
}

// MICSLog exposes the MICS log switch to in-process tests and the lab.
func (s *Server) MICSLog() *logctl.MICS { return s.mics }

// micsConnectivity is the UEM link's OnConnectivity: a MICS log line for
// each change, and a MICS alert (ALR-04's id) when the UEM is lost or
// refuses the gateway, which the seeds' viewer shows for the
// configuration service.
func (s *Server) micsConnectivity(up bool, by string, err error) {
	if up {
		s.mics.Printf("uem connectivity: connected (detected by %s)", by)
		return
	}
	s.mics.Printf("uem connectivity: not connected (detected by %s): %v", by, err)
	if s.alerts != nil { // nil until openRecords, after the link is made
		s.alerts.Raise(alerts.Alert{ID: alerts.IDMICS, Level: alerts.Error, Service: "UEM",
			Description: fmt.Sprintf("UEM link failed (detected by %s): %v", by, err)})
	}
}
