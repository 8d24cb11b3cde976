package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// decodeBody reads one JSON request body into v strictly: an unknown
// field (a typo in a hand-written `ctl` call, say "device_ids" for
// "device_id", which would otherwise purge nothing or everything) is an
// error naming it, and so is anything after the value. The body is
// already bounded (maxBody) by authenticate.
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fmt.Errorf("body larger than %d bytes", mbe.Limit)
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return fmt.Errorf("body: unknown field %s", f)
		}
		return fmt.Errorf("body: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("body: more than one JSON value")
	}
	return nil
}

// usage is the error for a body that did not decode (err, naming what was
// wrong) or lacks a required value: the expected shape.
func usage(err error, shape string) error {
	if err != nil {
		return fmt.Errorf("%w; %s", err, shape)
	}
	return errors.New(shape)
}
