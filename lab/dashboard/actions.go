package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// action is what a button posts.
type action struct {
	Kind     string `json:"kind"` // uem, fault, gateway, attachment, add, fleet, demo (op "step": pause between steps), demo_next
	Op       string `json:"op"`   // uem: allow/block/wipe/remove/assign_policy; gateway: kill/start/restart; fault: uem_down/exchange_down/drop_notifications
	Device   string `json:"device,omitempty"`
	User     string `json:"user,omitempty"`
	Policy   string `json:"policy,omitempty"`
	Platform string `json:"platform,omitempty"`
	Class    string `json:"class,omitempty"`
	On       bool   `json:"on,omitempty"`
}

func (s *Server) handleAction(w http.ResponseWriter, r *http.Request) {
	var a action
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8192))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad action: " + err.Error()})
		return
	}
	msg, err := s.do(r.Context(), a)
	if err != nil {
		s.note("%s %s failed: %v", a.Kind, a.Op, err)
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "message": err.Error()})
		return
	}
	s.note("%s", msg)
	s.tick() // show the effect without waiting for the next sample
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "message": msg})
}

// do runs one action and says what it did. Failures are answered with
// 200 and ok:false: they are the page's to show, not transport errors.
func (s *Server) do(ctx context.Context, a action) (string, error) {
	switch a.Kind {
	case "uem":
		return s.uemAction(a)
	case "fault":
		return s.fault(a.Op, a.On)
	case "gateway":
		return s.gatewayAction(ctx, a.Op)
	case "attachment":
		return s.attachment(a.On)
	case "add":
		d, err := s.fleet.add(a.User, device.Platform(a.Platform), device.Class(a.Class))
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("added %s (%s, %s) for %s", d.ID(), a.Platform, orNative(a.Class), a.User), nil
	case "fleet":
		users := s.l.Users()
		for _, p := range presetFleet {
			if _, err := s.fleet.add(users[p.user%len(users)].Name, p.platform, p.class); err != nil {
				return "", err
			}
		}
		return fmt.Sprintf("added a fleet of %d devices", len(presetFleet)), nil
	case "demo":
		if !s.demo.play(s.ctx, s.l, &s.wg, a.Op == "step") {
			return "", errors.New("the demo already ran in this lab (its devices exist now): restart the lab to play it again")
		}
		if a.Op == "step" {
			return "playing the demo step by step: Next step goes on", nil
		}
		return "playing the demo", nil
	case "demo_next":
		if !s.demo.advance() {
			return "", errors.New("the demo is not waiting for a next step")
		}
		return "next demo step", nil
	}
	return "", fmt.Errorf("unknown action %q", a.Kind)
}

func orNative(c string) string {
	if c == "" {
		return string(device.Native)
	}
	return c
}

func (s *Server) uemAction(a action) (string, error) {
	as, err := s.l.UEM.FindAssociation(a.Device, a.User)
	if err != nil {
		return "", fmt.Errorf("the UEM does not know %s/%s: %w", a.Device, a.User, err)
	}
	act := uem.Action{Note: "dashboard"}
	switch a.Op {
	case "allow":
		act.Action = uem.ActAllow
	case "block":
		act.Action = uem.ActBlock
	case "wipe":
		act.Action = uem.ActWipe
	case "remove":
		act.Action = uem.ActRemove
	case "assign_policy":
		act.Action, act.PolicyID = uem.ActAssignPolicy, a.Policy
	default:
		return "", fmt.Errorf("unknown UEM action %q", a.Op)
	}
	if _, err := s.l.UEM.Act(as.ID, act); err != nil {
		return "", err
	}
	return fmt.Sprintf("UEM: %s %s (%s)", a.Op, a.Device, a.User), nil
}

func (s *Server) fault(name string, on bool) (string, error) {
	switch name {
	case "uem_down":
		f := s.l.UEM.Faults()
		f.Down = on
		if err := s.l.UEM.SetFaults(f); err != nil {
			return "", err
		}
	case "drop_notifications":
		f := s.l.UEM.Faults()
		f.DropNotifications = on
		if err := s.l.UEM.SetFaults(f); err != nil {
			return "", err
		}
	case "exchange_down":
		f := s.l.Exchange.Faults()
		f.Down = on
		if err := s.l.Exchange.SetFaults(f); err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("unknown fault %q", name)
	}
	return fmt.Sprintf("fault %s %s", name, map[bool]string{true: "on", false: "off"}[on]), nil
}

func (s *Server) gatewayAction(ctx context.Context, op string) (string, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 90*time.Second)
	defer cancel()
	switch op {
	case "kill":
		if !s.l.CanKill() {
			return "", errors.New("kill -9 needs a gateway subprocess (gatehouse lab --gateway-subprocess)")
		}
		if err := s.l.KillGateway(); err != nil {
			return "", err
		}
		return "gateway killed (SIGKILL): it wrote nothing", nil
	case "start":
		if err := s.l.StartGateway(ctx); err != nil {
			return "", err
		}
		return "gateway started on the same data directory", nil
	case "restart":
		if err := s.l.RestartGateway(ctx); err != nil {
			return "", err
		}
		return "gateway restarted gracefully", nil
	}
	return "", fmt.Errorf("unknown gateway action %q", op)
}

// attachment turns attachment control on (encrypt for iOS native email,
// as the demo does) or off in the gateway's UEM configuration.
func (s *Server) attachment(on bool) (string, error) {
	e, err := s.l.UEM.Gateway(s.l.GatewayID())
	if err != nil {
		return "", err
	}
	gc := e.Config
	if on {
		gc.AttachmentControl = uemapi.AttachmentControl{Enabled: true, IOSNative: uemapi.AttachEncrypt,
			SecureApps: uemapi.AttachSecureApp, OtherPlatforms: uemapi.AttachDeliverAsIs, WorkDomains: gc.AttachmentControl.WorkDomains}
	} else {
		gc.AttachmentControl.Enabled = false
	}
	if _, err := s.l.UEM.SetGatewayConfig(s.l.GatewayID(), gc); err != nil {
		return "", err
	}
	if on {
		return "attachment encryption on for iOS native email", nil
	}
	return "attachment encryption off", nil
}
