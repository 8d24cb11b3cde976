package gateway

import (
	"context"
	"net/http"
	"path/filepath"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/activesync"
	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/gateway/kerberos/delegation"
	"github.com/gatehouse-lab/gatehouse/gateway/oauth"
	"github.com/gatehouse-lab/gatehouse/gateway/upstream"
	"github.com/gatehouse-lab/gatehouse/internal/httplimit"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// handlers is what each listener serves, by listener name.
func (s *Server) handlers() map[string]http.Handler {
	return map[string]http.Handler{
		"device": s.limits.Handler(deviceBodyDeadlines(func() time.Duration { return time.Duration(s.socketRW.Load()) }, s.deviceHandler())),
		"notify": s.notifyHandler(),
		"admin":  s.adminHandler(),
	}
}

// deviceHandler serves the devices: ActiveSync and the KDC proxy.
func (s *Server) deviceHandler() http.Handler {
	paths := http.NewServeMux()
	for _, p := range activesync.Paths {
		paths.Handle(p, s.as)
	}
	paths.HandleFunc(delegation.ProxyPath, s.serveKKDCP)
	paths.Handle(oauth.PathPrefix, s.oauthProxy())
	return s.withHSTS(s.logs.Devices(paths, logEntry))
}

// notifyHandler receives the UEM's notifications.
func (s *Server) notifyHandler() http.Handler {
	notify := http.NewServeMux()
	notify.Handle("POST "+NotificationPath, httplimit.Body(uemapi.MaxNotificationBody, s.link.NotificationHandler([]byte(s.cfg.UEM.NotifySecret))))
	return notify
}

// adminHandler is the admin API, metrics included.
func (s *Server) adminHandler() http.Handler {
	return admin.Handler(admin.Deps{Cache: s.cache, Store: s.store, Link: s.link, Stats: s.stats, Peaks: s.peaks, CRLs: s.crls, StatsDir: s.cfg.DataDir, Collection: s.coll, Utilization: s.utilization,
		UEMHost: s.uemHost(), DNSServers: nonEmpty(s.cfg.DNSServer), NTPServers: nonEmpty(s.cfg.NTPServer),
		Servers: func() []upstream.ServiceStatus {
			if r := s.currentRouter(); r != nil {
				return r.Status()
			}
			return nil
		},
		Diagnose: func(ctx context.Context) upstream.Diagnosis {
			if r := s.currentRouter(); r != nil {
				return r.VerifyEAS(ctx)
			}
			return upstream.Diagnosis{Service: "EAS", Date: time.Now(), Status: "Not Performed", Message: "Sentry not configured."}
		},
		Kerberos: s.Kerberos, Audit: s.audit, AuditFile: filepath.Join(s.cfg.DataDir, "audit.log"), MICS: s.mics, ClearConfig: s.clearConfig, Alerts: s.alerts, LogCtl: s.logs,
		Token: s.cfg.AdminToken, Metrics: s.metricsHandler(), ConfigVersion: s.configVersion.Load, LocalConfigFile: s.localConfigPath(),
		InitLogFile: initLogSetting(s.cfg.DataDir), GCLogFile: gcLogSetting(s.cfg.DataDir)})
}

// localConfigPath keeps the run-time local settings across restarts.
func (s *Server) localConfigPath() string { return filepath.Join(s.cfg.DataDir, "local-config.xml") }
