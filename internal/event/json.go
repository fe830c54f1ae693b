package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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
	w := wire{
		ID: e.ID, Type: e.Type, Location: e.Location, Source: e.Source, Zone: e.Zone,
		StoreSeq: e.StoreSeq, Attributes: e.Attributes,
	}
	if !e.OccurredAt.IsZero() {
		w.OccurredAt = e.OccurredAt.UTC().Format(time.RFC3339Nano)
	}
	if !e.ReceivedAt.IsZero() {
		w.ReceivedAt = e.ReceivedAt.UTC().Format(time.RFC3339Nano)
	}
	if e.Body != nil {
		data, err := json.Marshal(e.Body)
		if err != nil {
			return nil, fmt.Errorf("encode %s data: %w", e.Type, err)
		}
		w.Data = data
	}
	return json.Marshal(w)
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
		return describe("", err)
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
		return describe("data", err)
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
		*t.out = v.UTC()
	}
	return nil
}

func strictDecode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// describe turns an encoding/json error into a DecodeError naming the field.
func describe(prefix string, err error) error {
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
		return &DecodeError{Field: join(te.Field), Rule: "json_type",
			Msg: fmt.Sprintf("must be a JSON %s, got %s", jsonKind(te.Type.Kind().String()), te.Value)}
	case errors.As(err, &se):
		return &DecodeError{Field: prefix, Rule: "json_syntax",
			Msg: fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)}
	}
	msg := err.Error()
	if rest, ok := bytes.CutPrefix([]byte(msg), []byte("json: unknown field ")); ok {
		return &DecodeError{Field: join(string(bytes.Trim(rest, `"`))), Rule: "known_field",
			Msg: "is not a field of this event (put vendor extras in \"attributes\")"}
	}
	return &DecodeError{Field: prefix, Rule: "json", Msg: msg}
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
