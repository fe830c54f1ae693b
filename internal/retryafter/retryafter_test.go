package retryafter_test

import (
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/retryafter"
)

func TestParse(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                               0,
		"0":                              0,
		"  7 ":                           7 * time.Second,
		"1.5":                            1500 * time.Millisecond,
		"-3":                             0,
		"soon":                           0,
		"NaN":                            0,
		"-Inf":                           0,
		"Inf":                            retryafter.Max,
		"9300000000":                     retryafter.Max, // overflowed to a negative delay once
		"1e300":                          retryafter.Max,
		"3600":                           time.Hour,
		"Fri, 27 Nov 2026 10:00:30 GMT":  30 * time.Second,
		"Fri, 27 Nov 2026 09:59:00 GMT":  0, // past
		"Sun, 27 Nov 2050 10:00:00 GMT":  retryafter.Max,
		"Friday, 27-Nov-26 10:01:00 GMT": time.Minute, // RFC 850, obsolete but valid
	} {
		if got := retryafter.Parse(v, now); got != want {
			t.Errorf("Parse(%q) = %v, want %v", v, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "1", "1.5", "9300000000", "Inf", "Fri, 27 Nov 2026 10:00:30 GMT"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if d := retryafter.Parse(v, now); d < 0 || d > retryafter.Max {
			t.Fatalf("Parse(%q) = %v, outside [0, %v]", v, d, retryafter.Max)
		}
	})
}
