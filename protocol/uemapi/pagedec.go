package uemapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// decodeDevicePage parses the JSON of a DevicePage in one pass. The device
// list is the contract's bulk endpoint (a million entries at init), and
// reflection-based decoding dominated its cost; this parser handles exactly
// the JSON grammar (any key order, unknown keys skipped, escapes decoded)
// and falls back to encoding/json for the policies map and for strings
// with escapes. TestDecodeDevicePageMatchesEncodingJSON pins it to
// encoding/json.
//
// The Items backing array of p is reused when it is large enough.
func decodeDevicePage(data []byte, p *DevicePage) error {
	d := pageDecoder{data: data}
	if err := d.page(p); err != nil {
		return fmt.Errorf("uemapi: device page: %w", err)
	}
	d.ws()
	if d.i != len(d.data) {
		return errors.New("uemapi: device page: trailing data")
	}
	return nil
}

type pageDecoder struct {
	data []byte
	i    int
}

var errSyntax = errors.New("malformed JSON")

func (d *pageDecoder) ws() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *pageDecoder) peek() byte {
	d.ws()
	if d.i < len(d.data) {
		return d.data[d.i]
	}
	return 0
}

func (d *pageDecoder) expect(c byte) error {
	if d.peek() != c {
		return fmt.Errorf("%w: want %q at offset %d", errSyntax, c, d.i)
	}
	d.i++
	return nil
}

// object calls field for every key of an object; field must consume the
// value.
func (d *pageDecoder) object(field func(key []byte) error) error {
	if d.peek() == 'n' {
		return d.literal("null")
	}
	if err := d.expect('{'); err != nil {
		return err
	}
	if d.peek() == '}' {
		d.i++
		return nil
	}
	for {
		key, err := d.rawString()
		if err != nil {
			return err
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		if err := field(key); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil
		default:
			return fmt.Errorf("%w at offset %d", errSyntax, d.i)
		}
	}
}

func (d *pageDecoder) page(p *DevicePage) error {
	items := p.Items[:0]
	clear(items[:cap(items)])
	*p = DevicePage{Items: items}
	return d.object(func(key []byte) error {
		switch string(key) {
		case "items":
			return d.items(p)
		case "policies":
			start := d.i
			if err := d.skip(); err != nil {
				return err
			}
			return json.Unmarshal(d.data[start:d.i], &p.Policies)
		case "next_cursor":
			s, err := d.str()
			p.NextCursor = s
			return err
		}
		return d.skip()
	})
}

func (d *pageDecoder) items(p *DevicePage) error {
	if d.peek() == 'n' {
		return d.literal("null")
	}
	if err := d.expect('['); err != nil {
		return err
	}
	// Every item is an object, so the number of '{' bounds the item count
	// (from above, by the few nested objects): size the slice once.
	if n := bytes.Count(d.data[d.i:], []byte{'{'}); cap(p.Items) < n {
		p.Items = make([]DeviceEntry, 0, n)
	}
	if d.peek() == ']' {
		d.i++
		return nil
	}
	for {
		p.Items = append(p.Items, DeviceEntry{})
		e := &p.Items[len(p.Items)-1]
		err := d.object(func(key []byte) error {
			var err error
			switch string(key) {
			case "association_id":
				e.AssociationID, err = d.str()
			case "eas_device_id":
				e.EASDeviceID, err = d.str()
			case "user":
				e.User, err = d.str()
			case "state":
				var s string
				s, err = d.enum(string(StateAllowed), string(StateBlocked), string(StateWiped))
				e.State = SyncState(s)
			case "policy_behavior":
				var s string
				s, err = d.enum(string(PolicyApplyServer), string(PolicyAssigned), string(PolicyRemoveServer))
				e.Behavior = PolicyBehavior(s)
			case "policy_id":
				e.PolicyID, err = d.enum(DefaultPolicyID)
			case "registered":
				e.Registered, err = d.boolean()
			case "redirect_url":
				e.RedirectURL, err = d.str()
			default:
				err = d.skip()
			}
			return err
		})
		if err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return nil
		default:
			return fmt.Errorf("%w at offset %d", errSyntax, d.i)
		}
	}
}

// rawString returns the bytes of a string without escapes, or the
// decoded string's bytes when it has escapes.
func (d *pageDecoder) rawString() ([]byte, error) {
	if d.peek() != '"' {
		return nil, fmt.Errorf("%w: want string at offset %d", errSyntax, d.i)
	}
	start := d.i + 1
	for j := start; j < len(d.data); j++ {
		switch c := d.data[j]; {
		case c == '"':
			d.i = j + 1
			return d.data[start:j], nil
		case c == '\\':
			return d.escapedString()
		case c < 0x20:
			return nil, fmt.Errorf("%w: control character in string", errSyntax)
		}
	}
	return nil, fmt.Errorf("%w: unterminated string", errSyntax)
}

// escapedString decodes a string with escapes through encoding/json.
func (d *pageDecoder) escapedString() ([]byte, error) {
	start := d.i
	if err := d.skip(); err != nil {
		return nil, err
	}
	var s string
	if err := json.Unmarshal(d.data[start:d.i], &s); err != nil {
		return nil, err
	}
	return []byte(s), nil
}

func (d *pageDecoder) str() (string, error) {
	if d.peek() == 'n' {
		return "", d.literal("null")
	}
	b, err := d.rawString()
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// enum decodes a string that is usually one of a few constants, without
// allocating for those.
func (d *pageDecoder) enum(known ...string) (string, error) {
	if d.peek() == 'n' {
		return "", d.literal("null")
	}
	b, err := d.rawString()
	if err != nil {
		return "", err
	}
	for _, k := range known {
		if string(b) == k {
			return k, nil
		}
	}
	return string(b), nil
}

func (d *pageDecoder) boolean() (bool, error) {
	switch d.peek() {
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return false, d.literal("null")
	}
	return false, fmt.Errorf("%w: want boolean at offset %d", errSyntax, d.i)
}

func (d *pageDecoder) literal(lit string) error {
	d.ws()
	if len(d.data)-d.i < len(lit) || string(d.data[d.i:d.i+len(lit)]) != lit {
		return fmt.Errorf("%w: want %s at offset %d", errSyntax, lit, d.i)
	}
	d.i += len(lit)
	return nil
}

// skip consumes one JSON value of any kind, checking its syntax.
func (d *pageDecoder) skip() error {
	switch c := d.peek(); {
	case c == '{':
		return d.object(func([]byte) error { return d.skip() })
	case c == '[':
		d.i++
		if d.peek() == ']' {
			d.i++
			return nil
		}
		for {
			if err := d.skip(); err != nil {
				return err
			}
			switch d.peek() {
			case ',':
				d.i++
			case ']':
				d.i++
				return nil
			default:
				return fmt.Errorf("%w at offset %d", errSyntax, d.i)
			}
		}
	case c == '"':
		d.i++
		for d.i < len(d.data) {
			switch b := d.data[d.i]; {
			case b == '\\':
				if d.i+1 >= len(d.data) {
					return fmt.Errorf("%w: unterminated string", errSyntax)
				}
				switch d.data[d.i+1] {
				case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
					d.i += 2
				case 'u':
					if d.i+6 > len(d.data) || !isHex4(d.data[d.i+2:d.i+6]) {
						return fmt.Errorf("%w: bad \\u escape", errSyntax)
					}
					d.i += 6
				default:
					return fmt.Errorf("%w: bad escape", errSyntax)
				}
				continue
			case b == '"':
				d.i++
				return nil
			case b < 0x20:
				return fmt.Errorf("%w: control character in string", errSyntax)
			}
			d.i++
		}
		return fmt.Errorf("%w: unterminated string", errSyntax)
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		start := d.i
		for d.i < len(d.data) && (d.data[d.i] >= '0' && d.data[d.i] <= '9' || d.data[d.i] == '-' || d.data[d.i] == '+' || d.data[d.i] == '.' || d.data[d.i] == 'e' || d.data[d.i] == 'E') {
			d.i++
		}
		var n json.Number
		return json.Unmarshal(d.data[start:d.i], &n)
	}
	return fmt.Errorf("%w at offset %d", errSyntax, d.i)
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
