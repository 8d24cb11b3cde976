package uem

import (
	"net/http"
	"strconv"

	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// AdminPrefix is the URL prefix of the admin API.
const AdminPrefix = "/admin/v1"

// adminHandler is the admin API: JSON, bearer-token authenticated, never
// affected by faults.
func (s *Server) adminHandler() http.Handler {
	mux := httpapi.NewMux()
	s.adminDeviceRoutes(mux)
	s.adminAssociationRoutes(mux)
	s.adminPolicyRoutes(mux)
	s.adminGatewayRoutes(mux)
	s.adminFaultRoutes(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.checkAdmin(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse-uem-admin"`)
			writeErr(w, uemapi.Errorf(uemapi.CodeUnauthorized, "missing or invalid admin token"))
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// adminDeviceRoutes: users, managed devices and their certificates.
func (s *Server) adminDeviceRoutes(mux *httpapi.Mux) {
	p := AdminPrefix
	mux.HandleFunc("POST "+p+"/users", create(s.AddUser))
	mux.HandleFunc("GET "+p+"/users/{id}", get(s.User))
	mux.HandleFunc("GET "+p+"/users/{id}/exchange-accounts", get(s.ExchangeAccounts)) // accounts.go
	mux.HandleFunc("POST "+p+"/devices", create(s.AddDevice))
	mux.HandleFunc("GET "+p+"/devices/{id}", get(s.Device))
	mux.HandleFunc("POST "+p+"/devices/{id}/security-violation", s.adminViolation)
	mux.HandleFunc("POST "+p+"/devices/{id}/apptunnels", s.adminDeviceTunnels)
	mux.HandleFunc("POST "+p+"/devices/{id}/retire", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK)(s.RetireDevice(r.PathValue("id")))
	})
	mux.HandleFunc("POST "+p+"/devices/{id}/certificate", func(w http.ResponseWriter, r *http.Request) {
		var req CertRequest
		if err := decodeBody(w, r, maxAdminBody, &req); err != nil {
			writeErr(w, err)
			return
		}
		req.DeviceUUID = r.PathValue("id")
		reply(w, http.StatusCreated)(s.IssueDeviceCertificate(req))
	})
	mux.HandleFunc("POST "+p+"/certificates/{serial}/revoke", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK)(s.RevokeCertificate(r.PathValue("serial")))
	})
	mux.HandleFunc("GET "+p+"/ca", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.CA()) })
	mux.HandleFunc("POST "+p+"/generate", func(w http.ResponseWriter, r *http.Request) {
		var g Generate
		if err := decodeBody(w, r, maxAdminBody, &g); err != nil {
			writeErr(w, err)
			return
		}
		noContent(w, s.Generate(g))
	})
}

// adminAssociationRoutes: associations, app tunnels, the event log and
// the preferences.
func (s *Server) adminAssociationRoutes(mux *httpapi.Mux) {
	p := AdminPrefix
	mux.HandleFunc("GET "+p+"/associations", s.adminAssociations)
	mux.HandleFunc("GET "+p+"/associations/{id}", get(s.Association))
	mux.HandleFunc("POST "+p+"/associations/{id}/actions", s.adminAct)
	mux.HandleFunc("GET "+p+"/apptunnels", s.adminTunnels)
	mux.HandleFunc("POST "+p+"/apptunnels/{id}/actions", func(w http.ResponseWriter, r *http.Request) {
		var a TunnelAction
		if err := decodeBody(w, r, maxAdminBody, &a); err != nil {
			writeErr(w, err)
			return
		}
		reply(w, http.StatusOK)(s.ActOnTunnel(r.PathValue("id"), a))
	})
	mux.HandleFunc("GET "+p+"/events", s.adminEvents)
	mux.HandleFunc("GET "+p+"/preferences", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Preferences()) })
	mux.HandleFunc("PUT "+p+"/preferences", func(w http.ResponseWriter, r *http.Request) {
		pr := s.Preferences()
		if err := decodeBody(w, r, maxAdminBody, &pr); err != nil {
			writeErr(w, err)
			return
		}
		reply(w, http.StatusOK)(s.SetPreferences(pr))
	})
}

// adminPolicyRoutes: ActiveSync policies and the attachment key.
func (s *Server) adminPolicyRoutes(mux *httpapi.Mux) {
	p := AdminPrefix
	mux.HandleFunc("GET "+p+"/attachment-key", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.AttachmentKey()) })
	mux.HandleFunc("POST "+p+"/attachment-key/regenerate", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.RegenerateKey()) })
	mux.HandleFunc("GET "+p+"/policies", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Policies()) })
	mux.HandleFunc("POST "+p+"/policies", func(w http.ResponseWriter, r *http.Request) {
		pol := uemapi.NewPolicy("")
		if err := decodeBody(w, r, maxAdminBody, &pol); err != nil {
			writeErr(w, err)
			return
		}
		reply(w, http.StatusCreated)(s.CreatePolicy(pol))
	})
	mux.HandleFunc("GET "+p+"/policies/{id}", get(s.Policy))
	mux.HandleFunc("PUT "+p+"/policies/{id}", func(w http.ResponseWriter, r *http.Request) {
		pol, err := s.Policy(r.PathValue("id"))
		if err != nil {
			writeErr(w, err)
			return
		}
		if err := decodeBody(w, r, maxAdminBody, &pol); err != nil {
			writeErr(w, err)
			return
		}
		reply(w, http.StatusOK)(s.UpdatePolicy(r.PathValue("id"), pol))
	})
	mux.HandleFunc("DELETE "+p+"/policies/{id}", func(w http.ResponseWriter, r *http.Request) {
		noContent(w, s.DeletePolicy(r.PathValue("id")))
	})
}

// adminGatewayRoutes: gateway entries and their notification deliveries.
func (s *Server) adminGatewayRoutes(mux *httpapi.Mux) {
	p := AdminPrefix
	mux.HandleFunc("GET "+p+"/gateways", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Gateways()) })
	mux.HandleFunc("POST "+p+"/gateways", create(s.AddGateway))
	mux.HandleFunc("GET "+p+"/gateways/{id}", get(s.Gateway))
	mux.HandleFunc("GET "+p+"/gateways/{id}/emailplus-config", s.adminEmailPlus) // OAU-05
	mux.HandleFunc("DELETE "+p+"/gateways/{id}", func(w http.ResponseWriter, r *http.Request) {
		noContent(w, s.DeleteGateway(r.PathValue("id")))
	})
	mux.HandleFunc("PUT "+p+"/gateways/{id}/config", func(w http.ResponseWriter, r *http.Request) {
		var c uemapi.GatewayConfig
		if err := decodeBody(w, r, maxAdminBody, &c); err != nil {
			writeErr(w, err)
			return
		}
		reply(w, http.StatusOK)(s.SetGatewayConfig(r.PathValue("id"), c))
	})
	mux.HandleFunc("POST "+p+"/gateways/{id}/enable", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK)(s.SetGatewayEnabled(r.PathValue("id"), true))
	})
	mux.HandleFunc("POST "+p+"/gateways/{id}/disable", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK)(s.SetGatewayEnabled(r.PathValue("id"), false))
	})
	mux.HandleFunc("GET "+p+"/notifications", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Deliveries()) })
}

// adminFaultRoutes: fault injection on the gateway-facing side.
func (s *Server) adminFaultRoutes(mux *httpapi.Mux) {
	p := AdminPrefix
	mux.HandleFunc("GET "+p+"/faults", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Faults()) })
	mux.HandleFunc("PUT "+p+"/faults", func(w http.ResponseWriter, r *http.Request) {
		var f Faults
		if err := decodeBody(w, r, maxAdminBody, &f); err != nil {
			writeErr(w, err)
			return
		}
		if err := s.SetFaults(f); err != nil {
			writeErr(w, err)
			return
		}
		writeJSON(w, http.StatusOK, s.Faults())
	})
	mux.HandleFunc("DELETE "+p+"/faults", func(w http.ResponseWriter, r *http.Request) {
		if err := s.SetFaults(Faults{}); err != nil {
			writeErr(w, err)
			return
		}
		writeJSON(w, http.StatusOK, s.Faults())
	})
}

// noContent answers 204, or err.
func noContent(w http.ResponseWriter, err error) {
	if err != nil {
		writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// reply writes a (value, error) result.
func reply(w http.ResponseWriter, status int) func(any, error) {
	return func(v any, err error) {
		if err != nil {
			writeErr(w, err)
			return
		}
		writeJSON(w, status, v)
	}
}

func get[T any](fn func(string) (T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK)(fn(r.PathValue("id")))
	}
}

func create[T any](fn func(T) (T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var v T
		if err := decodeBody(w, r, maxAdminBody, &v); err != nil {
			writeErr(w, err)
			return
		}
		reply(w, http.StatusCreated)(fn(v))
	}
}

func (s *Server) adminViolation(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Violation bool `json:"violation"`
	}
	if err := decodeBody(w, r, maxAdminBody, &b); err != nil {
		writeErr(w, err)
		return
	}
	reply(w, http.StatusOK)(s.SetSecurityViolation(r.PathValue("id"), b.Violation))
}

func (s *Server) adminDeviceTunnels(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Blocked bool   `json:"blocked"`
		Note    string `json:"note"`
	}
	if err := decodeBody(w, r, maxAdminBody, &b); err != nil {
		writeErr(w, err)
		return
	}
	reply(w, http.StatusOK)(s.SetAppTunnelsBlocked(r.PathValue("id"), b.Blocked, b.Note))
}

func (s *Server) adminAct(w http.ResponseWriter, r *http.Request) {
	var a Action
	if err := decodeBody(w, r, maxAdminBody, &a); err != nil {
		writeErr(w, err)
		return
	}
	reply(w, http.StatusOK)(s.Act(r.PathValue("id"), a))
}

func boolQuery(r *http.Request, name string) (*bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, uemapi.FieldError(name, "must be true or false")
	}
	return &b, nil
}

func (s *Server) adminAssociations(w http.ResponseWriter, r *http.Request) {
	cursor, limit, err := pageQuery(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	q := r.URL.Query()
	f := AssociationFilter{State: uemapi.SyncState(q.Get("state")), EASDeviceID: q.Get("eas_device_id"), User: q.Get("user")}
	if f.State != "" && !f.State.Valid() {
		writeErr(w, uemapi.FieldError("state", "must be allowed, blocked or wiped"))
		return
	}
	if f.Registered, err = boolQuery(r, "registered"); err != nil {
		writeErr(w, err)
		return
	}
	for name, dst := range map[string]*bool{"policy_assigned": &f.PolicyAssigned, "action_this_year": &f.ActionThisYear} {
		b, err := boolQuery(r, name)
		if err != nil {
			writeErr(w, err)
			return
		}
		*dst = b != nil && *b
	}
	reply(w, http.StatusOK)(s.Associations(f, cursor, limit))
}

func (s *Server) adminTunnels(w http.ResponseWriter, r *http.Request) {
	cursor, limit, err := pageQuery(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	reply(w, http.StatusOK)(s.AppTunnels(cursor, limit))
}

func (s *Server) adminEvents(w http.ResponseWriter, r *http.Request) {
	var after int64
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeErr(w, uemapi.FieldError("after", "must be a non-negative integer"))
			return
		}
		after = n
	}
	writeJSON(w, http.StatusOK, s.Events(after))
}
