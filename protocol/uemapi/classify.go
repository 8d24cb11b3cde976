package uemapi

import (
	"errors"
	"net/http"
)

// Failure sorts the error of a gateway → UEM call by what the gateway
// must do about it. A UEM that could not be asked is not a UEM that said
// no: only the first lets fail-open decide for a new device (FO-01).
type Failure int

// The kinds of failure, from Classify.
const (
	// NoFailure: the call succeeded (err is nil).
	NoFailure Failure = iota
	// Unreachable: the UEM could not be asked: a network error, a
	// timeout, a response that could not be read, or a 5xx.
	Unreachable
	// AuthRefused: the UEM answered 401 or 403: it does not accept the
	// gateway's credentials, or the gateway is not configured there.
	AuthRefused
	// RateLimited: the UEM answered 429: it is up and asks the gateway
	// to slow down.
	RateLimited
	// Rejected: any other 4xx: the UEM refused this one request.
	Rejected
)

func (f Failure) String() string {
	switch f {
	case NoFailure:
		return "none"
	case Unreachable:
		return "unreachable"
	case AuthRefused:
		return "auth refused"
	case RateLimited:
		return "rate limited"
	case Rejected:
		return "rejected"
	}
	return "unknown"
}

// Classify tells why a call failed. An *Error carries the HTTP status it
// came with (Status); without one (an error built in process, e.g. by a
// fake) the status of its Code is used.
func Classify(err error) Failure {
	if err == nil {
		return NoFailure
	}
	var e *Error
	if !errors.As(err, &e) {
		return Unreachable
	}
	switch s := StatusOf(e); {
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return AuthRefused
	case s == http.StatusTooManyRequests:
		return RateLimited
	case s >= 500 || s < 400:
		// A 3xx the client could not follow is a proxy or address
		// problem on the way, not the UEM's answer.
		return Unreachable
	default:
		return Rejected
	}
}

// StatusOf is the HTTP status of e: the one it came with, else its
// code's.
func StatusOf(e *Error) int {
	if e.Status != 0 {
		return e.Status
	}
	return e.Code.HTTPStatus()
}
