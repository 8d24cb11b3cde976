package framework

import (
	"context"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// UEM is the fake UEM as specs drive it (Framework.UEM): in-process
// (InProcessUEM, a *uem.Server of the spec's world) or remote over its
// admin API (*uem.AdminClient, a UEM in a container). Both give API
// errors as *uemapi.Error. Every method takes the spec's context first
// (Framework.Ctx).
type UEM interface {
	AddDevice(ctx context.Context, d uem.Device) (uem.Device, error)
	SetSecurityViolation(ctx context.Context, uuid string, violation bool) (uem.Device, error)
	FindAssociation(ctx context.Context, easDeviceID, user string) (uem.Association, error)
	Act(ctx context.Context, id string, a uem.Action) (uem.Association, error)
	Events(ctx context.Context, after int64) ([]uem.Event, error)
	Preferences(ctx context.Context) (uem.Preferences, error)
	SetPreferences(ctx context.Context, p uem.Preferences) (uem.Preferences, error)
	CreatePolicy(ctx context.Context, p uemapi.ActiveSyncPolicy) (uemapi.ActiveSyncPolicy, error)
	UpdatePolicy(ctx context.Context, id string, p uemapi.ActiveSyncPolicy) (uemapi.ActiveSyncPolicy, error)
	Gateway(ctx context.Context, id string) (uem.GatewayEntry, error)
	SetGatewayConfig(ctx context.Context, id string, c uemapi.GatewayConfig) (uem.GatewayEntry, error)
	SetGatewayEnabled(ctx context.Context, id string, enabled bool) (uem.GatewayEntry, error)
	Deliveries(ctx context.Context) ([]uem.Delivery, error)
	// SetFaults replaces the fault state: Faults{Down: true} is "UEM
	// down" for the gateway, Faults{} clears every fault.
	SetFaults(ctx context.Context, f uem.Faults) error
}

// Exchange is the fake Exchange as specs drive it (Framework.Exchange):
// in-process (InProcessExchange) or remote (*exchange.AdminClient).
type Exchange interface {
	Partnerships(ctx context.Context) ([]exchange.Partnership, error)
	Inject(ctx context.Context, user string, req exchange.InjectRequest) (*exchange.InjectResponse, error)
	SetRedirect(ctx context.Context, user, location string) error
	// SetFaults replaces the ActiveSync listener's faults (Faults{}
	// clears them).
	SetFaults(ctx context.Context, f exchange.Faults) error
}

var (
	_ UEM      = (*uem.AdminClient)(nil)
	_ UEM      = inProcessUEM{}
	_ Exchange = (*exchange.AdminClient)(nil)
	_ Exchange = inProcessExchange{}
)

// InProcessUEM adapts a fake UEM of this process to UEM.
func InProcessUEM(s *uem.Server) UEM { return inProcessUEM{s} }

// inProcessUEM is the Server with the signatures of its remote
// counterpart: an in-process call needs no context and a read cannot
// fail.
type inProcessUEM struct{ s *uem.Server }

func (u inProcessUEM) AddDevice(_ context.Context, d uem.Device) (uem.Device, error) {
	return u.s.AddDevice(d)
}

func (u inProcessUEM) SetSecurityViolation(_ context.Context, uuid string, violation bool) (uem.Device, error) {
	return u.s.SetSecurityViolation(uuid, violation)
}

func (u inProcessUEM) FindAssociation(_ context.Context, easDeviceID, user string) (uem.Association, error) {
	return u.s.FindAssociation(easDeviceID, user)
}

func (u inProcessUEM) Act(_ context.Context, id string, a uem.Action) (uem.Association, error) {
	return u.s.Act(id, a)
}

func (u inProcessUEM) Events(_ context.Context, after int64) ([]uem.Event, error) {
	return u.s.Events(after), nil
}

func (u inProcessUEM) Preferences(context.Context) (uem.Preferences, error) {
	return u.s.Preferences(), nil
}

func (u inProcessUEM) SetPreferences(_ context.Context, p uem.Preferences) (uem.Preferences, error) {
	return u.s.SetPreferences(p)
}

func (u inProcessUEM) CreatePolicy(_ context.Context, p uemapi.ActiveSyncPolicy) (uemapi.ActiveSyncPolicy, error) {
	return u.s.CreatePolicy(p)
}

func (u inProcessUEM) UpdatePolicy(_ context.Context, id string, p uemapi.ActiveSyncPolicy) (uemapi.ActiveSyncPolicy, error) {
	return u.s.UpdatePolicy(id, p)
}

func (u inProcessUEM) Gateway(_ context.Context, id string) (uem.GatewayEntry, error) {
	return u.s.Gateway(id)
}

func (u inProcessUEM) SetGatewayConfig(_ context.Context, id string, c uemapi.GatewayConfig) (uem.GatewayEntry, error) {
	return u.s.SetGatewayConfig(id, c)
}

func (u inProcessUEM) SetGatewayEnabled(_ context.Context, id string, enabled bool) (uem.GatewayEntry, error) {
	return u.s.SetGatewayEnabled(id, enabled)
}

func (u inProcessUEM) Deliveries(context.Context) ([]uem.Delivery, error) {
	return u.s.Deliveries(), nil
}

func (u inProcessUEM) SetFaults(_ context.Context, f uem.Faults) error { return u.s.SetFaults(f) }

// InProcessExchange adapts a fake Exchange of this process to Exchange.
func InProcessExchange(s *exchange.Server) Exchange { return inProcessExchange{s} }

type inProcessExchange struct{ s *exchange.Server }

func (x inProcessExchange) Partnerships(context.Context) ([]exchange.Partnership, error) {
	return x.s.Partnerships(), nil
}

func (x inProcessExchange) Inject(_ context.Context, user string, req exchange.InjectRequest) (*exchange.InjectResponse, error) {
	return x.s.Inject(user, req)
}

func (x inProcessExchange) SetRedirect(_ context.Context, user, location string) error {
	return x.s.SetRedirect(user, location)
}

func (x inProcessExchange) SetFaults(_ context.Context, f exchange.Faults) error {
	return x.s.SetFaults(f)
}
