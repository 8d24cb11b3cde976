package uem

import (
	"net/http"
	"strconv"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// AdminPrefix is the URL prefix of the admin API.
const AdminPrefix = "/admin/v1"

// adminHandler is the admin API: JSON, bearer-token authenticated, never
// affected by faults.
func (s *Server) adminHandler() http.Handler {
	mux := http.NewServeMux()
	p := AdminPrefix
	mux.HandleFunc("/", notFound)
	mux.Handle(p+"/users", methods{"POST": create(s.AddUser)})
	mux.Handle(p+"/users/{id}", methods{"GET": get(s.User)})
	mux.Handle(p+"/devices", methods{"POST": create(s.AddDevice)})
	mux.Handle(p+"/devices/{id}", methods{"GET": get(s.Device)})
	mux.Handle(p+"/devices/{id}/security-violation", methods{"POST": s.adminViolation})
	mux.Handle(p+"/devices/{id}/apptunnels", methods{"POST": s.adminDeviceTunnels})
	mux.Handle(p+"/devices/{id}/retire", methods{"POST": func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK)(s.RetireDevice(r.PathValue("id")))
	}})
	mux.Handle(p+"/devices/{id}/certificate", methods{"POST": func(w http.ResponseWriter, r *http.Request) {
		var req CertRequest
		if err := decodeBody(w, r, maxAdminBody, &req); err != nil {
			writeErr(w, err)
			return
		}
		req.DeviceUUID = r.PathValue("id")
		reply(w, http.StatusCreated)(s.IssueDeviceCertificate(req))
	}})
	mux.Handle(p+"/certificates/{serial}/revoke", methods{"POST": func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK)(s.RevokeCertificate(r.PathValue("serial")))
	}})
	mux.Handle(p+"/ca", methods{"GET": func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.CA()) }})
	mux.Handle(p+"/associations", methods{"GET": s.adminAssociations})
	mux.Handle(p+"/associations/{id}", methods{"GET": get(s.Association)})
	mux.Handle(p+"/associations/{id}/actions", methods{"POST": s.adminAct})
	mux.Handle(p+"/apptunnels", methods{"GET": s.adminTunnels})
	mux.Handle(p+"/apptunnels/{id}/actions", methods{"POST": func(w http.ResponseWriter, r *http.Request) {
		var a TunnelAction
		if err := decodeBody(w, r, maxAdminBody, &a); err != nil {
			writeErr(w, err)
			return
		}
		reply(w, http.StatusOK)(s.ActOnTunnel(r.PathValue("id"), a))
	}})
	mux.Handle(p+"/events", methods{"GET": s.adminEvents})
	mux.Handle(p+"/preferences", methods{
		"GET": func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Preferences()) },
		"PUT": func(w http.ResponseWriter, r *http.Request) {
			pr := s.Preferences()
			if err := decodeBody(w, r, maxAdminBody, &pr); err != nil {
				writeErr(w, err)
				return
			}
			reply(w, http.StatusOK)(s.SetPreferences(pr))
		},
	})
	mux.Handle(p+"/attachment-key", methods{"GET": func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.AttachmentKey()) }})
	mux.Handle(p+"/attachment-key/regenerate", methods{"POST": func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.RegenerateKey()) }})
	mux.Handle(p+"/policies", methods{
		"GET": func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Policies()) },
		"POST": func(w http.ResponseWriter, r *http.Request) {
			pol := uemapi.NewPolicy("")
			if err := decodeBody(w, r, maxAdminBody, &pol); err != nil {
				writeErr(w, err)
				return
			}
			reply(w, http.StatusCreated)(s.CreatePolicy(pol))
		},
	})
	mux.Handle(p+"/policies/{id}", methods{
		"GET": get(s.Policy),
		"PUT": func(w http.ResponseWriter, r *http.Request) {
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
		},
		"DELETE": func(w http.ResponseWriter, r *http.Request) {
			if err := s.DeletePolicy(r.PathValue("id")); err != nil {
				writeErr(w, err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		},
	})
	mux.Handle(p+"/gateways", methods{
		"GET":  func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Gateways()) },
		"POST": create(s.AddGateway),
	})
	mux.Handle(p+"/gateways/{id}", methods{
		"GET": get(s.Gateway),
		"DELETE": func(w http.ResponseWriter, r *http.Request) {
			if err := s.DeleteGateway(r.PathValue("id")); err != nil {
				writeErr(w, err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		},
	})
	mux.Handle(p+"/gateways/{id}/config", methods{"PUT": func(w http.ResponseWriter, r *http.Request) {
		var c uemapi.GatewayConfig
		if err := decodeBody(w, r, maxAdminBody, &c); err != nil {
			writeErr(w, err)
			return
		}
		reply(w, http.StatusOK)(s.SetGatewayConfig(r.PathValue("id"), c))
	}})
	mux.Handle(p+"/gateways/{id}/enable", methods{"POST": func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK)(s.SetGatewayEnabled(r.PathValue("id"), true))
	}})
	mux.Handle(p+"/gateways/{id}/disable", methods{"POST": func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK)(s.SetGatewayEnabled(r.PathValue("id"), false))
	}})
	mux.Handle(p+"/notifications", methods{"GET": func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Deliveries()) }})
	mux.Handle(p+"/faults", methods{
		"GET": func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Faults()) },
		"PUT": func(w http.ResponseWriter, r *http.Request) {
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
		},
		"DELETE": func(w http.ResponseWriter, r *http.Request) {
			if err := s.SetFaults(Faults{}); err != nil {
				writeErr(w, err)
				return
			}
			writeJSON(w, http.StatusOK, s.Faults())
		},
	})
	mux.Handle(p+"/generate", methods{"POST": func(w http.ResponseWriter, r *http.Request) {
		var g Generate
		if err := decodeBody(w, r, maxAdminBody, &g); err != nil {
			writeErr(w, err)
			return
		}
		if err := s.Generate(g); err != nil {
			writeErr(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.checkAdmin(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse-uem-admin"`)
			writeErr(w, uemapi.Errorf(uemapi.CodeUnauthorized, "missing or invalid admin token"))
			return
		}
		mux.ServeHTTP(w, r)
	})
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
