package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"
)

// wire is the JSON form of an event:
//
//	{"id": "...", "type": "sale", "location": "store-1", "source": "pos",
//	 "occurred_at": "2026-11-27T10:15:00+01:00", "zone": "Europe/Berlin",
//	 "received_at": "...", "store_seq": 17, "data": {...}}
type wire struct {
	ID         string            `json:"id"`
	Type       Type              `json:"type"`
	Location   string            `json:"location"`
	Source     string            `json:"source"`
	OccurredAt string            `json:"occurred_at"`
	Zone       string            `json:"zone"`
	ReceivedAt string            `json:"received_at,omitempty"`
	StoreSeq   int64             `json:"store_seq,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Data       json.RawMessage   `json:"data"`
}

// MarshalJSON writes the event in its wire form, times in UTC.
func (e Event) MarshalJSON() ([]byte, error) {
	var data []byte
	if e.Body != nil {
		var err error
		if data, err = json.Marshal(e.Body); err != nil {
			return nil, fmt.Errorf("encode %s data: %w", e.Type, err)
		}
	}
	return json.Marshal(e.wire(data))
}

// wire returns the event's wire form around already-encoded data.
func (e *Event) wire(data []byte) wire {
	w := wire{
		ID: e.ID, Type: e.Type, Location: e.Location, Source: e.Source, Zone: e.Zone,
		StoreSeq: e.StoreSeq, Attributes: e.Attributes, Data: data,
	}
	if !e.OccurredAt.IsZero() {
		w.OccurredAt = e.OccurredAt.UTC().Truncate(Precision).Format(time.RFC3339Nano)
	}
	if !e.ReceivedAt.IsZero() {
		w.ReceivedAt = e.ReceivedAt.UTC().Truncate(Precision).Format(time.RFC3339Nano)
	}
	return w
}

// DecodeError is a problem with an event's JSON structure, before field
// validation: malformed JSON, an unknown type, a field of the wrong JSON kind.
type DecodeError struct {
	Field string
	Rule  string
	Msg   string
}

func (e *DecodeError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// UnmarshalJSON decodes the wire form strictly: unknown fields are errors
// (vendor extras belong in "attributes"), and the data must match the type.
func (e *Event) UnmarshalJSON(b []byte) error {
	var w wire
	if err := strictDecode(b, &w); err != nil {
		return describe("", b, &w, err)
	}
	body := newBody(w.Type)
	if body == nil {
		if w.Type == "" {
			return &DecodeError{Field: "type", Rule: "required", Msg: "is required"}
		}
		return &DecodeError{Field: "type", Rule: "known_type",
			Msg: fmt.Sprintf("unknown event type %q (known: %v)", w.Type, Types)}
	}
	if len(w.Data) == 0 || bytes.Equal(w.Data, []byte("null")) {
		return &DecodeError{Field: "data", Rule: "required", Msg: "is required"}
	}
	if err := strictDecode(w.Data, body); err != nil {
		return describe("data", w.Data, body, err)
	}
	*e = Event{
		ID: w.ID, Type: w.Type, Location: w.Location, Source: w.Source, Zone: w.Zone,
		StoreSeq: w.StoreSeq, Attributes: w.Attributes, Body: body,
	}
	for _, t := range []struct {
		field string
		in    string
		out   *time.Time
	}{{"occurred_at", w.OccurredAt, &e.OccurredAt}, {"received_at", w.ReceivedAt, &e.ReceivedAt}} {
		if t.in == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339Nano, t.in)
		if err != nil {
			return &DecodeError{Field: t.field, Rule: "rfc3339",
				Msg: fmt.Sprintf("time %q is not RFC 3339 with a zone offset (2026-11-27T10:15:00+01:00)", t.in)}
		}
		// In UTC the year must still have four digits, or MarshalJSON would
		// write a time that does not parse back.
		if y := v.UTC().Year(); y < 0 || y > 9999 {
			return &DecodeError{Field: t.field, Rule: "rfc3339",
				Msg: fmt.Sprintf("time %q is outside years 0000 to 9999 in UTC", t.in)}
		}
		*t.out = v.UTC()
	}
	e.Normalize()
	return nil
}

func strictDecode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	// Only JSON whitespace may follow; dec.More would let a stray ] or } by.
	if len(bytes.TrimLeft(b[dec.InputOffset():], " \t\r\n")) > 0 {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// describe turns an encoding/json error from decoding b into v into a
// DecodeError naming the field by its full path ("data.lines[2].sku").
func describe(prefix string, b []byte, v any, err error) error {
	join := func(f string) string {
		switch {
		case prefix == "":
			return f
		case f == "":
			return prefix
		}
		return prefix + "." + f
	}
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		// te.Field has no array indices ("lines.sku"); find the value that
		// ends where the decoder stopped instead.
		field, ok := locate(b, reflect.TypeOf(v), te.Offset)
		if !ok {
			field = te.Field
		}
		return &DecodeError{Field: join(field), Rule: "json_type",
			Msg: fmt.Sprintf("must be a JSON %s, got %s", jsonKind(te.Type.Kind().String()), te.Value)}
	case errors.As(err, &se):
		return &DecodeError{Field: prefix, Rule: "json_syntax",
			Msg: fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return &DecodeError{Field: prefix, Rule: "json_syntax", Msg: "malformed JSON: unexpected end of input"}
	}
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		// The error names only the key; find where it is.
		field, ok := locate(b, reflect.TypeOf(v), -1)
		if !ok {
			field = strings.Trim(rest, `"`)
		}
		return &DecodeError{Field: join(field), Rule: "known_field",
			Msg: "is not a field of this event (put vendor extras in \"attributes\")"}
	}
	return &DecodeError{Field: prefix, Rule: "json", Msg: msg}
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// locate walks the JSON value b as encoding/json decodes it into type t and
// returns the path ("lines[2].sku") of the first value whose end is at or
// after offset or, when offset is negative, of the first object key that is
// not a field of the struct it would decode into.
func locate(b []byte, t reflect.Type, offset int64) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	return locateValue(dec, t, "", offset)
}

func locateValue(dec *json.Decoder, t reflect.Type, path string, offset int64) (string, bool) {
	tok, err := dec.Token()
	if err != nil {
		return "", false
	}
	if offset >= 0 && dec.InputOffset() >= offset {
		return path, true
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && reflect.PointerTo(t).Implements(unmarshalerType) {
		t = nil // decodes itself: no fields to check
	}
	join := func(key string) string {
		if path == "" {
			return key
		}
		return path + "." + key
	}
	switch tok {
	case json.Delim('{'):
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return "", false
			}
			key, _ := kt.(string)
			var ft reflect.Type
			switch {
			case t == nil:
			case t.Kind() == reflect.Struct:
				f, ok := jsonField(t, key)
				if !ok && offset < 0 {
					return join(key), true
				}
				ft = f
			case t.Kind() == reflect.Map:
				ft = t.Elem()
			}
			if p, ok := locateValue(dec, ft, join(key), offset); ok {
				return p, true
			}
		}
	case json.Delim('['):
		var et reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			et = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if p, ok := locateValue(dec, et, fmt.Sprintf("%s[%d]", path, i), offset); ok {
				return p, true
			}
		}
	default:
		return "", false
	}
	_, _ = dec.Token() // the closing delimiter
	return "", false
}

// jsonField finds the type of the struct field that encoding/json decodes
// key into: an exact name match first, then a case-insensitive one.
func jsonField(t reflect.Type, key string) (reflect.Type, bool) {
	var fold reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		if name == key {
			return f.Type, true
		}
		if fold == nil && strings.EqualFold(name, key) {
			fold = f.Type
		}
	}
	return fold, fold != nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	case "bool":
		return "boolean"
	}
	return "number"
}
