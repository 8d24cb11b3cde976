package faults

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
)

// Direction is the way of the traffic a fault acts on.
type Direction string

const (
	// Upstream is what the client sends: requests, bytes read by the server.
	Upstream Direction = "upstream"
	// Downstream is what the server answers (the default, as in Toxiproxy).
	Downstream Direction = "downstream"
)

// Spec is one fault as data. On the wire it is
// {"name":..., "type": kind, "direction":..., "toxicity":..., "attributes": {...}}.
type Spec struct {
	// Name identifies the fault within an Injector; default its kind.
	Name string
	// Direction defaults to Downstream; a kind ignores it where it has
	// no meaning (down).
	Direction Direction
	// Toxicity is the probability (0-1] that the fault acts on a given
	// connection or request; 0 means 1 (always). A fault that must not
	// act is not set.
	Toxicity float64
	// Toxic is the kind and its attributes.
	Toxic Toxic
}

type wireSpec struct {
	Name       string          `json:"name,omitempty"`
	Type       string          `json:"type"`
	Direction  Direction       `json:"direction,omitempty"`
	Toxicity   float64         `json:"toxicity,omitempty"`
	Attributes json.RawMessage `json:"attributes,omitempty"`
}

// MarshalJSON writes the wire form.
func (s Spec) MarshalJSON() ([]byte, error) {
	if s.Toxic == nil {
		return nil, errors.New("faults: spec without a toxic")
	}
	attrs, err := json.Marshal(s.Toxic)
	if err != nil {
		return nil, fmt.Errorf("faults: %s attributes: %w", s.Toxic.Kind(), err)
	}
	return json.Marshal(wireSpec{Name: s.Name, Type: s.Toxic.Kind(), Direction: s.Direction, Toxicity: s.Toxicity, Attributes: attrs})
}

// UnmarshalJSON reads the wire form strictly: an unknown type or field
// is an *httpapi.Error naming it.
func (s *Spec) UnmarshalJSON(b []byte) error {
	var w wireSpec
	if err := strictDecode(b, &w); err != nil {
		return err
	}
	t, ok := newToxic(w.Type)
	if !ok {
		return httpapi.FieldError("type", "unknown fault type %q (known: %s)", w.Type, strings.Join(Kinds(), ", "))
	}
	if len(w.Attributes) > 0 {
		if err := strictDecode(w.Attributes, t); err != nil {
			return prefixField("attributes", err)
		}
	}
	*s = Spec{Name: w.Name, Direction: w.Direction, Toxicity: w.Toxicity, Toxic: t}
	return nil
}

func strictDecode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return httpapi.FieldError(ute.Field, "must be a JSON %s", ute.Type)
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return httpapi.FieldError(strings.Trim(f, `"`), "unknown field")
		}
		return fmt.Errorf("faults: %w", err)
	}
	return nil
}

// Validate checks the spec and its toxic's attributes; errors name the
// field ("toxicity", "attributes.delay_ms").
func (s Spec) Validate() error {
	switch {
	case s.Toxic == nil:
		return httpapi.FieldError("type", "required")
	case s.Direction != "" && s.Direction != Upstream && s.Direction != Downstream:
		return httpapi.FieldError("direction", "must be upstream or downstream")
	case !(s.Toxicity >= 0 && s.Toxicity <= 1): // NaN too
		return httpapi.FieldError("toxicity", "must be 0-1")
	}
	_, isConn := s.Toxic.(ConnToxic)
	_, isHTTP := s.Toxic.(HTTPToxic)
	if !isConn && !isHTTP {
		return httpapi.FieldError("type", "%s acts on neither connections nor requests", s.Toxic.Kind())
	}
	return prefixField("attributes", s.Toxic.Validate())
}

// withDefaults fills the name and direction.
func (s Spec) withDefaults() Spec {
	if s.Name == "" {
		s.Name = s.Toxic.Kind()
	}
	if s.Direction == "" {
		s.Direction = Downstream
	}
	return s
}

// prefixField puts prefix in front of the field an *httpapi.Error names.
func prefixField(prefix string, err error) error {
	var e *httpapi.Error
	if err == nil || !errors.As(err, &e) || e.Field == "" {
		return err
	}
	c := *e
	c.Field = prefix + "." + e.Field
	return &c
}

// attrErr is the error of an invalid attribute.
func attrErr(field, format string, args ...any) error {
	return httpapi.FieldError(field, format, args...)
}
