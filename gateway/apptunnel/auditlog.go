package apptunnel

import (
	"net"
	"net/http"
	"strconv"

	"github.com/gatehouse-lab/gatehouse/gateway/audit"
)

// auditRequest writes the REQUEST entry of one tunnel request (AUD-04,
// AUD-10): APP_TUNNEL with the full URL for HTTP, TCP_TUNNEL for CONNECT.
func (s *Server) auditRequest(r *http.Request, c *call, action string) *audit.UseCase {
	if s.cfg.Audit == nil {
		return nil
	}
	host, port := splitPort(c.hostport)
	req := audit.Request{ServiceType: audit.ServiceAppTunnel, ServiceName: c.svc.name, Client: c.client,
		ServerHost: host, ServerPort: port, AppID: c.app, Action: action, DeviceID: c.uuid}
	if c.id != nil {
		req.User = c.id.UPN
	}
	if r.Method == http.MethodConnect {
		req.ServiceType = audit.ServiceTCPTunnel
	} else {
		req.URL, req.Method = r.URL.String(), r.Method
	}
	if c.svc.kind == KindCIFS {
		req.ServiceType = audit.ServiceCIFS
	}
	return s.cfg.Audit.Begin(req)
}

func (s *Server) auditBlock(r *http.Request, c *call) {
	s.auditRequest(r, c, audit.ActionBlock)
}

func splitPort(hp string) (string, int) {
	h, p, err := net.SplitHostPort(hp)
	if err != nil {
		return hp, 0
	}
	n, _ := strconv.Atoi(p)
	return h, n
}
