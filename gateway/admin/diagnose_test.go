package admin

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// udpResponder answers every datagram with answer(request) until closed.
func udpResponder(t *testing.T, answer func([]byte) []byte) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(answer(append([]byte(nil), buf[:n]...)), from)
		}
	}()
	return pc.LocalAddr().String()
}

// closedUDP is a loopback UDP address nobody listens on.
func closedUDP(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

// SVD-01/02: Verify All gives one row per service with the seed's
// statuses and one sentence per DNS/NTP server; unconfigured services are
// Not Performed.
func TestSVD01VerifyAllRows(t *testing.T) {
	dns := udpResponder(t, func(q []byte) []byte { // NXDOMAIN: reachable
		q[2] |= 0x80
		q[3] = q[3]&0xF0 | 3
		return q
	})
	ntp := udpResponder(t, func([]byte) []byte {
		r := make([]byte, 48)
		r[0] = 0x1C // version 3, mode 4 (server)
		return r
	})
	dead := closedUDP(t)
	a := &api{d: Deps{Now: time.Now, DNSServers: []string{dns}, NTPServers: []string{ntp, dead}}}
	want := map[string][2]string{
		"EMM": {"Not Performed", "EMM not configured."},
		"EAS": {"Not Performed", "Sentry not configured."},
		"DNS": {"Success", "DNS server " + dns + " is reachable."},
		"NTP": {"Failure", "NTP server " + ntp + " is reachable. NTP server " + dead + " is not reachable: "},
	}
	for _, s := range diagnoseServices {
		row := a.diagnose(context.Background(), s)
		w := want[s]
		if row.Status != w[0] || !strings.HasPrefix(row.Message, w[1]) || row.Test != "Verify" {
			t.Errorf("%s: %+v, want %q %q…", s, row, w[0], w[1])
		}
	}
	a.d.DNSServers = nil
	if row := a.diagnose(context.Background(), "DNS"); row.Status != "Not Performed" || row.Message != "DNS server not configured." {
		t.Errorf("DNS unconfigured: %+v", row)
	}
}
