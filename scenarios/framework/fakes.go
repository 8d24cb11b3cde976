package framework

import (
	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// UEM is the fake UEM as specs drive it (Framework.UEM): in-process
// (InProcessUEM, a *uem.Server of the spec's world) or remote over its
// admin API (*uem.AdminClient, a UEM in a container). Both give API
// errors as *uemapi.Error.
type UEM interface {
	AddDevice(d uem.Device) (uem.Device, error)
	SetSecurityViolation(uuid string, violation bool) (uem.Device, error)
	FindAssociation(easDeviceID, user string) (uem.Association, error)
	Act(id string, a uem.Action) (uem.Association, error)
	Events(after int64) ([]uem.Event, error)
	Preferences() (uem.Preferences, error)
	SetPreferences(p uem.Preferences) (uem.Preferences, error)
	CreatePolicy(p uemapi.ActiveSyncPolicy) (uemapi.ActiveSyncPolicy, error)
	UpdatePolicy(id string, p uemapi.ActiveSyncPolicy) (uemapi.ActiveSyncPolicy, error)
	Gateway(id string) (uem.GatewayEntry, error)
	SetGatewayConfig(id string, c uemapi.GatewayConfig) (uem.GatewayEntry, error)
	Deliveries() ([]uem.Delivery, error)
	// SetFaults replaces the fault state: Faults{Down: true} is "UEM
	// down" for the gateway, Faults{} clears every fault.
	SetFaults(f uem.Faults) error
}

// Exchange is the fake Exchange as specs drive it (Framework.Exchange):
// in-process (InProcessExchange) or remote (*exchange.AdminClient).
type Exchange interface {
	Partnerships() ([]exchange.Partnership, error)
	Inject(user string, req exchange.InjectRequest) (*exchange.InjectResponse, error)
	SetRedirect(user, location string) error
	// SetFaults replaces the ActiveSync listener's faults (Faults{}
	// clears them).
	SetFaults(f exchange.Faults) error
}

var (
	_ UEM      = (*uem.AdminClient)(nil)
	_ UEM      = inProcessUEM{}
	_ Exchange = (*exchange.AdminClient)(nil)
	_ Exchange = inProcessExchange{}
)

// InProcessUEM adapts a fake UEM of this process to UEM.
func InProcessUEM(s *uem.Server) UEM { return inProcessUEM{s} }

// inProcessUEM is the Server, with the error results its remote
// counterpart needs (an in-process read cannot fail).
type inProcessUEM struct{ *uem.Server }

func (u inProcessUEM) Events(after int64) ([]uem.Event, error) { return u.Server.Events(after), nil }
func (u inProcessUEM) Preferences() (uem.Preferences, error)   { return u.Server.Preferences(), nil }
func (u inProcessUEM) Deliveries() ([]uem.Delivery, error)     { return u.Server.Deliveries(), nil }

// InProcessExchange adapts a fake Exchange of this process to Exchange.
func InProcessExchange(s *exchange.Server) Exchange { return inProcessExchange{s} }

type inProcessExchange struct{ *exchange.Server }

func (x inProcessExchange) Partnerships() ([]exchange.Partnership, error) {
	return x.Server.Partnerships(), nil
}
