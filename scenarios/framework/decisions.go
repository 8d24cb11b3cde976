package framework

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// Helpers of the decision specs: the answers each protocol version must
// get, the isolation of one UEM mechanism (notifications or resync), and
// wipes ordered by Exchange itself.

// SetUEMFaults replaces the UEM's faults; they are cleared after each
// spec.
func (f *Framework) SetUEMFaults(fl uem.Faults) {
	gomega.ExpectWithOffset(1, f.UEM.SetFaults(f.Ctx(), fl)).To(gomega.Succeed(), "setting the UEM's faults")
}

// CutGatewayCalls partitions the gateway's own calls to the UEM (one way:
// reports, lists, resync, acknowledgements get no answer) while the UEM
// still delivers its notifications: a change reaching the gateway now
// came by notification. false heals the partition.
//
// The partition is healed when the spec ends, before its world closes: a
// gateway stopping while its calls are cut would wait on them.
func (f *Framework) CutGatewayCalls(cut bool) {
	gomega.ExpectWithOffset(1, f.UEM.SetFaults(f.Ctx(), uem.Faults{PartitionGatewayToUEM: cut})).To(gomega.Succeed())
	if cut {
		ginkgo.DeferCleanup(func(ctx context.Context) {
			gomega.Expect(f.UEM.SetFaults(ctx, uem.Faults{})).To(gomega.Succeed(), "healing the partition")
		})
	}
}

// Versioned is a device option: it speaks protocol version v, and keeps
// enough round-trip records for a spec to find the answer it looks for.
func Versioned(v eas.Version) func(*device.Config) {
	return func(c *device.Config) { c.Version, c.MaxRecords = v, 4096 }
}

// Expected answers, per protocol version (DEF-08, DEF-09).

// BlockedAnswer describes how a device of version v must be told it is
// blocked: HTTP 403 up to 12.1, Status 129 in the command's own 200
// response from 14.0.
func BlockedAnswer(v eas.Version) string {
	if v.Compare(eas.V140) < 0 {
		return "HTTP 403"
	}
	return "HTTP 200 Status 129"
}

// ProvisionAnswers are the answers that send a device of version v to
// Provision: HTTP 449 up to 12.1, from 14.0 a 200 whose Status is 142,
// 143 or 144 (or 140, the status Exchange gives a pending wipe).
func ProvisionAnswers(v eas.Version, wipe bool) []string {
	if v.Compare(eas.V140) < 0 {
		return []string{"HTTP 449"}
	}
	out := []string{"HTTP 200 Status 142", "HTTP 200 Status 143", "HTTP 200 Status 144"}
	if wipe {
		out = append(out, "HTTP 200 Status 140")
	}
	return out
}

// Answer is a round trip's answer in the form BlockedAnswer and
// ProvisionAnswers use.
func Answer(r device.RoundTrip) string {
	if r.HTTPStatus != http.StatusOK || r.Status == 0 {
		return fmt.Sprintf("HTTP %d", r.HTTPStatus)
	}
	return fmt.Sprintf("HTTP %d Status %d", r.HTTPStatus, r.Status)
}

// Answers lists the answers to cmd the device recorded from index from on
// (device.Records order), for "which answer sent it to Provision".
func Answers(d *device.Device, from int, cmd eas.Command) []string {
	var out []string
	recs := d.Records()
	for i := from; i < len(recs); i++ {
		if recs[i].Cmd == cmd {
			out = append(out, Answer(recs[i]))
		}
	}
	return out
}

// AnyOf reports whether some answer is one of want.
func AnyOf(answers, want []string) bool {
	return slices.ContainsFunc(answers, func(a string) bool { return slices.Contains(want, a) })
}

// exchangeWiper is the part of the Exchange's admin surface that orders
// wipes; both the in-process server and the admin client have it.
type exchangeWiper interface {
	Wipe(ctx context.Context, user, device string, accountOnly bool) (exchange.Partnership, error)
}

// Wipe makes the in-process Exchange order a wipe, as the admin client does.
func (x inProcessExchange) Wipe(_ context.Context, user, device string, accountOnly bool) (exchange.Partnership, error) {
	return x.s.Wipe(user, device, accountOnly)
}

// ExchangeWipe has Exchange itself order a wipe of the device (full, or
// account-only for 16.1), delivered by Exchange at its next Provision.
func (f *Framework) ExchangeWipe(d *device.Device, accountOnly bool) {
	w, ok := f.Exchange.(exchangeWiper)
	gomega.ExpectWithOffset(1, ok).To(gomega.BeTrue(), "this Exchange cannot order wipes")
	_, err := w.Wipe(f.Ctx(), d.User(), d.ID(), accountOnly)
	gomega.ExpectWithOffset(1, err).NotTo(gomega.HaveOccurred(), "Exchange's wipe order")
}

// DeliveredSince returns the notifications of type typ the UEM delivered
// to the gateway and that are not in seen (ids), for "the change came by
// notification".
func (f *Framework) DeliveredSince(typ string, seen []string) []uem.Delivery {
	ds, err := f.UEM.Deliveries(f.Ctx())
	gomega.ExpectWithOffset(1, err).NotTo(gomega.HaveOccurred())
	var out []uem.Delivery
	for _, d := range ds {
		if d.Type == typ && d.GatewayID == f.GatewayID() && !slices.Contains(seen, d.ID) {
			out = append(out, d)
		}
	}
	return out
}

// DeliveryIDs are the ids of every notification the UEM recorded so far.
func (f *Framework) DeliveryIDs() []string {
	ds, err := f.UEM.Deliveries(f.Ctx())
	gomega.ExpectWithOffset(1, err).NotTo(gomega.HaveOccurred())
	ids := make([]string, 0, len(ds))
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	return ids
}

// uemViews are the UEM admin views only some specs read: the filtered
// association list (ASA-08) and the policy list with "# Phones" (ASP-16).
type uemViews interface {
	Associations(ctx context.Context, f uem.AssociationFilter) ([]uem.Association, error)
	Policies(ctx context.Context) ([]uem.PolicyInfo, error)
}

// Associations lists every association matching the filter, following
// the pages, as the admin client does.
func (u inProcessUEM) Associations(_ context.Context, fl uem.AssociationFilter) ([]uem.Association, error) {
	var out []uem.Association
	cursor := ""
	for range 10000 {
		page, err := u.s.Associations(fl, cursor, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	return out, nil
}

// Policies lists the policies with their "# Phones".
func (u inProcessUEM) Policies(context.Context) ([]uem.PolicyInfo, error) { return u.s.Policies(), nil }

// AssociationsWhere lists the UEM's associations matching the filter.
func (f *Framework) AssociationsWhere(fl uem.AssociationFilter) []uem.Association {
	v, ok := f.UEM.(uemViews)
	gomega.ExpectWithOffset(1, ok).To(gomega.BeTrue(), "this UEM has no association list")
	out, err := v.Associations(f.Ctx(), fl)
	gomega.ExpectWithOffset(1, err).NotTo(gomega.HaveOccurred())
	return out
}

// PolicyPhones is the "# Phones" of the policy with this id (-1: no such policy).
func (f *Framework) PolicyPhones(id string) int {
	v, ok := f.UEM.(uemViews)
	gomega.ExpectWithOffset(1, ok).To(gomega.BeTrue(), "this UEM has no policy list")
	ps, err := v.Policies(f.Ctx())
	gomega.ExpectWithOffset(1, err).NotTo(gomega.HaveOccurred())
	for _, p := range ps {
		if p.ID == id {
			return p.Phones
		}
	}
	return -1
}
