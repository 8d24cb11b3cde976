package scenarios_test

import (
	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
)

func injectMail(subject string) exchange.InjectRequest {
	return exchange.InjectRequest{From: "news@example.org", Subject: subject, Body: "injected by the scenario"}
}

func userOf(devs []*device.Device, id string) string {
	for _, d := range devs {
		if d.ID() == id {
			return d.User()
		}
	}
	return ""
}
