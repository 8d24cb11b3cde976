package lab

import "net/http"

// ObserveDevices wraps the transport of the devices NewDevice makes from
// now on (the dashboard records their exchanges through it); the lab's
// own clients (admin APIs, notifications) are not affected.
func (l *Lab) ObserveDevices(wrap func(http.RoundTripper) http.RoundTripper) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.devHC = &http.Client{Timeout: l.hc.Timeout, Transport: wrap(l.hc.Transport)}
}

// DeviceClient is the HTTP client NewDevice gives devices.
func (l *Lab) DeviceClient() *http.Client {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.devHC != nil {
		return l.devHC
	}
	return l.hc
}
