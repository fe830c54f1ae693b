package notes_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/tillsync/tillsync/internal/mapping/notes"
)

var decimalRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// FuzzParse: any text reads as a well-formed result, and a card number
// added to it never shows in the result.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"emp disc 20%", "pm walmart 24.99 ok'd by Sam", "€3,50 Rabatt", "bogo 50%",
		"coupon BF2026-XYZ $15 off", "1,299.00", "-$-%", "[PAN] 4111", "half off ½", "p/m o/r w/ n/a", "10:30 12/14 5pm"} {
		f.Add(s)
	}
	p, err := notes.New(notes.Config{DefaultCurrency: "EUR"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := p.Parse(s + " card 4111 1111 1111 1111")
		if r.Confidence < 0 || r.Confidence > 1 {
			t.Fatalf("confidence %v", r.Confidence)
		}
		if (r.Kind == "") != (r.Value == "") || r.Kind != "" && !r.Kind.Valid() {
			t.Fatalf("kind %q value %q", r.Kind, r.Value)
		}
		if r.Value != "" && !decimalRE.MatchString(r.Value) {
			t.Fatalf("value %q is not a decimal string", r.Value)
		}
		if r.ReasonCode == "" && (r.Kind != "" || r.CouponCode != "" || r.Competitor != "") {
			t.Fatalf("details without a discount: %+v", r)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "4111 1111 1111 1111") {
			t.Fatalf("card number in %s", b)
		}
		var back notes.Result
		if err := json.Unmarshal(b, &back); err != nil || back.ReasonCode != r.ReasonCode || back.Value != r.Value {
			t.Fatalf("round trip %s: %+v, %v", b, back, err)
		}
	})
}
