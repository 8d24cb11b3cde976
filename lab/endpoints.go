package lab

// Endpoints is everything a person or a tool needs to use the lab: URLs,
// admin tokens and the demo users' credentials. `gatehouse lab --json`
// prints it (docs/lab.md documents the fields).
type Endpoints struct {
	Mode     Mode              `json:"mode"`
	Gateway  GatewayEndpoints  `json:"gateway"`
	UEM      UEMEndpoints      `json:"uem"`
	Exchange ExchangeEndpoints `json:"exchange"`
	Users    []User            `json:"users"`
	Dir      string            `json:"dir"`
}

// GatewayEndpoints are the gateway's URLs and admin token.
type GatewayEndpoints struct {
	DeviceURL     string `json:"device_url"`     // base URL devices are given
	ActiveSyncURL string `json:"activesync_url"` // DeviceURL + /Microsoft-Server-ActiveSync
	NotifyURL     string `json:"notify_url"`
	AdminURL      string `json:"admin_url,omitempty"`
	AdminToken    string `json:"admin_token,omitempty"`
	DataDir       string `json:"data_dir,omitempty"`
	// CAFile is the gateway's self-signed certificate (PEM): trust it
	// for the device and admin URLs (ctl --ca, curl --cacert).
	CAFile         string `json:"ca_file,omitempty"`
	AdminTokenFile string `json:"admin_token_file,omitempty"` // the admin token, for ctl --admin-token-file
	CtlCommand     string `json:"ctl_command,omitempty"`      // a ctl command that works as pasted from the module root
}

// UEMEndpoints are the fake UEM's two APIs and the gateway's credentials.
type UEMEndpoints struct {
	GatewayAPIURL string `json:"gateway_api_url"` // what the gateway is configured with (--uem-url)
	AdminURL      string `json:"admin_url"`
	AdminToken    string `json:"admin_token"`
	GatewayID     string `json:"gateway_id"`
	GatewayToken  string `json:"gateway_token"` // the gateway's UEM credential (--uem-token)
	NotifySecret  string `json:"notify_secret"` // verifies notifications (--uem-notify-secret)
}

// ExchangeEndpoints are the fake Exchange's URLs.
type ExchangeEndpoints struct {
	ActiveSyncURL string `json:"activesync_url"`
	AdminURL      string `json:"admin_url"`
	AdminToken    string `json:"admin_token"`
}

// Endpoints returns the lab's endpoints and credentials.
func (l *Lab) Endpoints() Endpoints {
	e := Endpoints{Mode: l.cfg.Mode, Users: l.Users(), Dir: l.dir,
		Gateway: GatewayEndpoints{DeviceURL: l.DeviceURL(), ActiveSyncURL: l.DeviceURL() + "/Microsoft-Server-ActiveSync", NotifyURL: l.NotifyURL()},
		UEM: UEMEndpoints{GatewayAPIURL: l.UEM.GatewayURL(), AdminURL: l.UEM.AdminURL(), AdminToken: l.UEM.AdminToken(),
			GatewayID: l.cfg.GatewayID, GatewayToken: l.cfg.GatewayToken, NotifySecret: l.cfg.NotifySecret},
		Exchange: ExchangeEndpoints{ActiveSyncURL: l.Exchange.EASURL(), AdminURL: l.Exchange.AdminURL(), AdminToken: l.Exchange.AdminToken()},
	}
	if l.gw != nil {
		e.Gateway.AdminURL, e.Gateway.AdminToken, e.Gateway.DataDir = l.gw.adminURL(), l.cfg.GatewayAdminToken, l.DataDir()
		e.Gateway.CAFile, e.Gateway.AdminTokenFile = l.gatewayCAFile(), l.adminTokenFile()
		e.Gateway.CtlCommand = l.CtlCommand("device-cache dump all")
	}
	return e
}
