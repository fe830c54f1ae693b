package completeness

import (
	"fmt"
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

// Day is one store's local calendar day: what its books call a day. From
// and To are its bounds in UTC; a day with a clock change lasts 23 or 25
// hours.
type Day struct {
	Location string    `json:"store"`
	Zone     string    `json:"zone"`
	Date     string    `json:"date"` // YYYY-MM-DD in Zone
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
}

// LocalDay returns the day date (YYYY-MM-DD) of a store in its zone.
func LocalDay(location, zone, date string) (Day, error) {
	if location == "" {
		return Day{}, fmt.Errorf("day: the store is empty")
	}
	loc, err := event.LoadZone(zone)
	if err != nil {
		return Day{}, fmt.Errorf("day of store %s: zone %q: %w", location, zone, err)
	}
	d, err := time.ParseInLocation("2006-01-02", date, loc)
	if err != nil {
		return Day{}, fmt.Errorf("day of store %s: date %q is not YYYY-MM-DD", location, date)
	}
	next := time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
	return Day{Location: location, Zone: zone, Date: date, From: d.UTC(), To: next.UTC()}, nil
}

// DayOf returns the store's local day that contains t.
func DayOf(location, zone string, t time.Time) (Day, error) {
	loc, err := event.LoadZone(zone)
	if err != nil {
		return Day{}, fmt.Errorf("day of store %s: zone %q: %w", location, zone, err)
	}
	return LocalDay(location, zone, t.In(loc).Format("2006-01-02"))
}
