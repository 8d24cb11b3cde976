package lab_test

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/lab"
)

// The demo `gatehouse lab --demo` runs goes through its four flows and
// narrates each; with attachments in the mailboxes it shows one
// reaching the phone encrypted.
func TestRunDemoNarratesEveryFlow(t *testing.T) {
	l := startLab(t, lab.Config{Users: 3, MessagesPerUser: 12,
		CheckInterval: lab.DemoCheckInterval, ResyncInterval: lab.DemoResyncInterval, OAuth: true})
	var out bytes.Buffer
	if err := lab.RunDemo(t.Context(), l, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Log(out.String())
	for _, want := range []string{
		"demo: 1. first access: alice's managed iPhone",
		"decrypts it to the", "bytes fetched before, byte for byte",
		"demo: 2. block", "allowed again: the phone syncs",
		"demo: 3. wipe", "acknowledged and forgot its mail",
		"demo: 4. fail-open", "the UEM is back; the gateway reported the tablet",
		"demo: 5. resync", "the UEM says B", "the periodic resync brought the gateway's cache to B",
		"the phone's next Sync got HTTP 200, Status 129", "notifications heal and the admin allows it again",
		"demo: 6. AppTunnel", "reached", "now refuses it: HTTP 403, atc-blocked",
		"demo: 7. OAuth: bob's iPhone signs in with OAuth through the gateway", "took the phone's bearer token",
		"demo: done",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the demo did not say %q:\n%s", want, out.String())
		}
	}
	// The dashboard lists DemoSteps and files each "demo: N." line under
	// step N: the narration's steps must be exactly those.
	var said []string
	for _, m := range regexp.MustCompile(`(?m)^demo: (\d+)\. `).FindAllStringSubmatch(out.String(), -1) {
		said = append(said, m[1])
	}
	if len(said) != len(lab.DemoSteps) {
		t.Errorf("the demo narrates steps %v, DemoSteps lists %d", said, len(lab.DemoSteps))
	}
	// The encrypted attachment is the one fetched in clear, named alike.
	fetched := regexp.MustCompile(`fetched attachment "([^"]+)"`).FindStringSubmatch(out.String())
	if fetched == nil || !strings.Contains(out.String(), fmt.Sprintf("the same %q now reaches the phone encrypted", fetched[1])) {
		t.Errorf("the demo shows another attachment than the one it fetched:\n%s", out.String())
	}
}

func TestRunDemoNeedsThreeUsers(t *testing.T) {
	l := startLab(t, lab.Config{Users: 2})
	if err := lab.RunDemo(context.Background(), l, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "at least 3 users") {
		t.Fatalf("error %v", err)
	}
}
