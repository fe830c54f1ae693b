package settlement

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Date is a booking or value date as the source gives it: a calendar day, a
// wall-clock date-time whose zone the source does not say, or an instant with
// a known zone offset. The zero Date means "not given".
type Date struct {
	t    time.Time
	kind dateKind
}

type dateKind uint8

const (
	kindNone dateKind = iota
	kindDay
	kindLocal
	kindZoned
)

// Text layouts of the three kinds; they are also the JSON forms.
const (
	dayLayout   = "2006-01-02"
	localLayout = "2006-01-02T15:04:05.999999999"
)

// Day is a calendar date without a time.
func Day(year int, month time.Month, day int) Date {
	return Date{t: time.Date(year, month, day, 0, 0, 0, 0, time.UTC), kind: kindDay}
}

// DayOf is the calendar date of t as read on t's own clock.
func DayOf(t time.Time) Date {
	y, m, d := t.Date()
	return Day(y, m, d)
}

// LocalDateTime is a wall-clock date and time in an unknown zone; t's
// location is ignored, only its clock reading is kept.
func LocalDateTime(t time.Time) Date {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return Date{t: time.Date(y, mo, d, h, mi, s, t.Nanosecond(), time.UTC), kind: kindLocal}
}

// Instant is a date and time with a known zone (t's location).
func Instant(t time.Time) Date { return Date{t: t, kind: kindZoned} }

// IsZero reports whether no date was given.
func (d Date) IsZero() bool { return d.kind == kindNone }

// HasTime reports whether the date has a time of day.
func (d Date) HasTime() bool { return d.kind == kindLocal || d.kind == kindZoned }

// HasZone reports whether the zone (offset) of the time is known.
func (d Date) HasZone() bool { return d.kind == kindZoned }

// Time returns the date as a time.Time: midnight UTC for a day, the clock
// reading in UTC for a date-time without a zone, the instant otherwise.
func (d Date) Time() time.Time { return d.t }

// Equal reports whether two dates are the same kind and value.
func (d Date) Equal(o Date) bool { return d.kind == o.kind && d.t.Equal(o.t) }

// String formats the date as "2026-03-02", "2026-03-02T14:05:00" (zone
// unknown) or RFC 3339 "2026-03-02T14:05:00+01:00"; the zero Date is "".
func (d Date) String() string {
	switch d.kind {
	case kindDay:
		return d.t.Format(dayLayout)
	case kindLocal:
		return d.t.Format(localLayout)
	case kindZoned:
		return d.t.Format(time.RFC3339Nano)
	}
	return ""
}

// MarshalText implements encoding.TextMarshaler with String's forms.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads String's forms back.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseISODate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ParseISODate reads an ISO 8601 date ("2026-03-02", also with a zone suffix
// as XML Schema allows, which is dropped) or date-time ("2026-03-02T14:05:00",
// with optional fraction and zone offset or Z).
func ParseISODate(s string) (Date, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Date{}, nil
	}
	if !strings.Contains(s, "T") {
		// xs:date may carry a zone ("2026-03-02Z", "2026-03-02+01:00"); a
		// booking day is the same day whatever the zone.
		day := s
		if len(s) > len(dayLayout) {
			day = s[:len(dayLayout)]
			if z := s[len(dayLayout):]; z != "Z" && !validOffset(z) {
				return Date{}, fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
			}
		}
		t, err := time.Parse(dayLayout, day)
		if err != nil {
			return Date{}, fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
		}
		return DayOf(t), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return Instant(t), nil
	}
	if t, err := time.Parse(localLayout, s); err == nil {
		return LocalDateTime(t), nil
	}
	return Date{}, fmt.Errorf("%q is not a date-time (YYYY-MM-DDThh:mm:ss, optionally with a zone)", s)
}

func validOffset(z string) bool {
	if len(z) != 6 || (z[0] != '+' && z[0] != '-') || z[3] != ':' {
		return false
	}
	for _, i := range []int{1, 2, 4, 5} {
		if z[i] < '0' || z[i] > '9' {
			return false
		}
	}
	return true
}

// errNoDate is returned by ParseDateLayouts for an empty value.
var errNoDate = errors.New("is empty")

// ParseDateLayouts reads s with the first of layouts that fits. Layouts
// with a zone ("Z07:00", "MST") give an instant; layouts with a clock give a
// date-time in loc, or in an unknown zone when loc is nil; others give a day.
func ParseDateLayouts(s string, loc *time.Location, layouts ...string) (Date, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Date{}, errNoDate
	}
	for _, l := range layouts {
		in := loc
		if in == nil {
			in = time.UTC
		}
		t, err := time.ParseInLocation(l, s, in)
		if err != nil {
			continue
		}
		switch {
		case layoutHasZone(l):
			return Instant(t), nil
		case layoutHasClock(l) && loc != nil:
			return Instant(t), nil
		case layoutHasClock(l):
			return LocalDateTime(t), nil
		default:
			return DayOf(t), nil
		}
	}
	return Date{}, fmt.Errorf("%q does not fit the date layout %q", s, strings.Join(layouts, `" or "`))
}

func layoutHasZone(l string) bool {
	return strings.Contains(l, "Z07") || strings.Contains(l, "-07") || strings.Contains(l, "MST")
}

func layoutHasClock(l string) bool {
	return strings.Contains(l, "15") || strings.Contains(l, "03") || strings.Contains(l, "3:04") || strings.Contains(l, "04")
}
