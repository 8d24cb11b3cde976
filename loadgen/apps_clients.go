package loadgen

import (
	"fmt"
	"net/http"
)

// CertClients are HTTP clients for the mail devices of a fleet whose
// gateway authenticates devices by identity certificate (AppTunnel needs
// that mode, docs/apptunnel.md §1): one client per user, presenting that
// user's certificate, so that device j (user j%len(users), client
// j%len(clients)) shows its own user's. Pass them as Options.Clients.
func CertClients(target string, users []User, t *AppTargets) ([]*http.Client, error) {
	cs, err := Clients(target, len(users), 0)
	if err != nil {
		return nil, err
	}
	for i, u := range users {
		cert, err := t.Cert(fmt.Sprintf("lg-mail-%s", u.Name), u.Name)
		if err != nil {
			return nil, fmt.Errorf("loadgen: mail client of %s: %w", u.Name, err)
		}
		tr := cs[i].Transport.(*http.Transport)
		tr.TLSClientConfig.Certificates = append(tr.TLSClientConfig.Certificates, *cert)
	}
	return cs, nil
}
