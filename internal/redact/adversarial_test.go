package redact

import (
	"strings"
	"testing"
	"time"
)

// TestAdversarialInputsAreLinear feeds the worst shapes found for each rule
// and checks the time grows linearly with the input: an intake must not be
// stalled by what it is sent.
func TestAdversarialInputsAreLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	r, err := New(Config{Tokenizer: testTokenizer(t), Mask: true})
	if err != nil {
		t.Fatal(err)
	}
	const size = 1 << 20
	fill := func(unit string, n int) string { return strings.Repeat(unit, n/len(unit)+1)[:n] }
	units := map[string]string{
		"plain text":    "lorem ipsum dolor sit amet ",
		"digit groups":  "4 ",
		"4-4 groups":    "4111 ",
		"dash groups":   "62-",
		"long digits":   "4111111111111111",
		"cards":         "4111111111111111 ",
		"cards keyword": "card 4000000000006 ",
		"cvv keyword":   "cvv 123 ",
		"hex":           "deadbeef01234567",
		"stars":         "*",
		"stars digits":  "****1 ",
		"bullets":       "•••• 4242 ",
		"ats":           "a@",
		"emails":        "jane.doe@example.com ",
		"domains":       "@" + strings.Repeat("a", 300),
		"pluses":        "+4930 ",
		"phones":        "tel (030) 123-4567 ",
		"markers":       "[PAN]",
		"tokens":        "tok:v2:AAAAAAAAAAAAAAAAAAAAAA ",
		"track1":        "%B4111111111111111^",
		"track2":        "4111111111111111=",
		"brackets":      "]",
	}
	timeOf := func(s string) time.Duration {
		best := time.Hour
		for range 5 {
			start := time.Now()
			r.Text(s)
			best = min(best, time.Since(start))
		}
		return best
	}
	for name, unit := range units {
		quarter, full := timeOf(fill(unit, size/4)), timeOf(fill(unit, size))
		t.Logf("%-14s %8.1f MB/s", name, float64(size)/full.Seconds()/1e6)
		// Linear: four times the input, about four times the time;
		// quadratic would be sixteen.
		if full > 12*quarter+50*time.Millisecond {
			t.Errorf("%s: %v for 1 MiB but %v for 256 KiB", name, full, quarter)
		}
	}
}
