package event_test

import (
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

func TestFingerprint(t *testing.T) {
	t.Parallel()
	base := func() *event.Event { return fullEvent(bodyOf(event.TypeSale)) }
	same := []struct {
		name   string
		change func(*event.Event)
	}{
		{"received later", func(e *event.Event) { e.ReceivedAt = e.ReceivedAt.Add(time.Hour) }},
		{"not received", func(e *event.Event) { e.ReceivedAt = time.Time{} }},
		{"another store seq", func(e *event.Event) { e.StoreSeq = 99 }},
		{"no store seq", func(e *event.Event) { e.StoreSeq = 0 }},
		{"other attributes", func(e *event.Event) { e.Attributes = map[string]string{"x": "y"} }},
		{"no attributes", func(e *event.Event) { e.Attributes = nil }},
		{"another id", func(e *event.Event) { e.ID = "sale-2" }},
		{"same instant in another zone", func(e *event.Event) {
			ny, _ := event.LoadZone("America/New_York")
			e.OccurredAt = e.OccurredAt.In(ny)
		}},
	}
	want := base().Fingerprint()
	for _, tt := range same {
		e := base()
		tt.change(e)
		if e.Fingerprint() != want {
			t.Errorf("%s: fingerprint changed", tt.name)
		}
	}

	differ := []struct {
		name   string
		change func(*event.Event)
	}{
		{"type", func(e *event.Event) { e.Type = event.TypeReturn }},
		{"location", func(e *event.Event) { e.Location = "s2" }},
		{"source", func(e *event.Event) { e.Source = "shopify" }},
		{"occurred_at", func(e *event.Event) { e.OccurredAt = e.OccurredAt.Add(event.Precision) }},
		{"zone", func(e *event.Event) { e.Zone = "UTC" }},
		{"quantity", on(func(s *event.Sale) { s.Lines[0].Quantity++ })},
		{"price", on(func(s *event.Sale) { s.Lines[0].UnitPrice++ })},
		{"tender", on(func(s *event.Sale) { s.Tenders[0].Tip++ })},
		{"card", on(func(s *event.Sale) { s.Tenders[0].Card.Last4 = "0000" })},
		{"notes", on(func(s *event.Sale) { s.Notes = "" })},
		{"line order", on(func(s *event.Sale) { s.Lines[0], s.Lines[1] = s.Lines[1], s.Lines[0] })},
		{"no body", func(e *event.Event) { e.Body = nil }},
		// Field boundaries cannot be shifted between envelope strings.
		{"location/source boundary", func(e *event.Event) { e.Location, e.Source = "s1p", "os" }},
	}
	seen := map[[32]byte]string{want: "base"}
	for _, tt := range differ {
		e := base()
		tt.change(e)
		fp := e.Fingerprint()
		if other, dup := seen[fp]; dup {
			t.Errorf("%s: same fingerprint as %s", tt.name, other)
		}
		seen[fp] = tt.name
	}
}

func TestFingerprintOfDecodedCopy(t *testing.T) {
	t.Parallel()
	for _, b := range fullBodies() {
		e := fullEvent(b)
		raw, err := e.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var out event.Event
		if err := out.UnmarshalJSON(raw); err != nil {
			t.Fatal(err)
		}
		if out.Fingerprint() != e.Fingerprint() {
			t.Errorf("%s: a decoded copy has another fingerprint", b.Type())
		}
	}
}

func TestLocalTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		zone string
		want string
	}{
		{"Europe/Berlin", "2026-11-27T10:15:00.123456+01:00"},
		{"Asia/Kolkata", "2026-11-27T14:45:00.123456+05:30"},
		{"UTC", "2026-11-27T09:15:00.123456Z"},
		{"Mars/Olympus", "2026-11-27T09:15:00.123456Z"}, // unknown: left in UTC
	}
	for _, tt := range tests {
		e := fullEvent(&event.Void{VoidedEventID: "x"})
		e.Zone = tt.zone
		if got := e.LocalTime().Format(time.RFC3339Nano); got != tt.want {
			t.Errorf("LocalTime in %s = %s, want %s", tt.zone, got, tt.want)
		}
	}
}
