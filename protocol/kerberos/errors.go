package kerberos

import (
	"errors"

	"github.com/jcmturner/gokrb5/v8/messages"
)

// ErrorCode returns the KRB-ERROR code carried by err, if any.
func ErrorCode(err error) (int32, bool) {
	var ke messages.KRBError
	if errors.As(err, &ke) {
		return ke.ErrorCode, true
	}
	var kp *messages.KRBError
	if errors.As(err, &kp) && kp != nil {
		return kp.ErrorCode, true
	}
	return 0, false
}

// asKRBError decodes b as a KRB-ERROR when it is one (application tag 30).
func asKRBError(b []byte) (messages.KRBError, bool) {
	if len(b) == 0 || b[0] != 0x7e {
		return messages.KRBError{}, false
	}
	var ke messages.KRBError
	if err := ke.Unmarshal(b); err != nil {
		return messages.KRBError{}, false
	}
	return ke, true
}
