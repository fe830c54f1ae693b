package stripe

import (
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/settlement"
)

// The fast clock reading agrees with the general date parser on what it
// takes, and leaves everything else to it.
func TestClockAgreesWithTimeParse(t *testing.T) {
	t.Parallel()
	for _, v := range []string{
		"2026-03-02 14:05:11", "2024-02-29 23:59:59", "0001-01-01 00:00:00", "2026-12-31 00:00:00",
		"2025-02-29 10:00:00", "2026-04-31 10:00:00", "2026-13-01 10:00:00", "2026-00-10 10:00:00", "2026-01-00 10:00:00",
		"2026-01-01 24:00:00", "2026-01-01 10:60:00", "2026-01-01 10:00:60", "2026-01-01T10:00:00", "2026-1-01 10:00:00",
		"2026-01-01 10:00", "2026-01-01", "2026-01-01 10:00:0x", "+026-01-01 10:00:00", "2026-01-01 10:00:00Z",
	} {
		want, err := time.ParseInLocation("2006-01-02 15:04:05", v, time.UTC)
		got, ok := clock(v)
		if ok != (err == nil) || ok && !got.Equal(want) {
			t.Errorf("clock(%q) = %v, %v; time.Parse = %v, %v", v, got, ok, want, err)
		}
	}
}

// FuzzClock: whatever clock takes, time.Parse reads the same.
func FuzzClock(f *testing.F) {
	f.Add("2026-03-02 14:05:11")
	f.Add("2024-02-30 00:00:00")
	f.Fuzz(func(t *testing.T, v string) {
		got, ok := clock(v)
		if !ok {
			return
		}
		d, err := settlement.ParseDateLayouts(v, time.UTC, "2006-01-02 15:04:05")
		if err != nil || !d.Time().Equal(got) {
			t.Fatalf("clock(%q) = %v; ParseDateLayouts = %v, %v", v, got, d.Time(), err)
		}
	})
}
