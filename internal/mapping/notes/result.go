package notes

import (
	"encoding/json"
	"strings"
)

// Result is a note read as a discount. ReasonCode is empty when the note
// carries no discount; Kind and Value are empty when the note names a
// reason but no value ("emp disc").
type Result struct {
	Note       string  // the note, redacted
	ReasonCode string  // a code of the taxonomy, or "" for no discount
	Kind       Kind    // percent, amount or fixed_price, or ""
	Value      string  // a decimal string: "20", "5.00", "24.99"
	Currency   string  // ISO 4217, for amounts and prices
	CouponCode string  // as printed on the coupon, upper case
	Competitor string  // the retailer a price was matched against
	ApprovedBy string  // who approved the discount, as named in the note
	Confidence float64 // 0..1: how likely this reading is right
}

// Discount reports whether the note carries a discount.
func (r Result) Discount() bool { return r.ReasonCode != "" }

// resultJSON is the wire form: every field but note, reason_code and
// confidence is absent when unknown; reason_code is null for no discount.
type resultJSON struct {
	Note       string  `json:"note"`
	ReasonCode *string `json:"reason_code"`
	Kind       Kind    `json:"kind,omitempty"`
	Value      string  `json:"value,omitempty"`
	Currency   string  `json:"currency,omitempty"`
	CouponCode string  `json:"coupon_code,omitempty"`
	Competitor string  `json:"competitor,omitempty"`
	ApprovedBy string  `json:"approved_by,omitempty"`
	Confidence float64 `json:"confidence"`
}

// MarshalJSON writes the contract form of `tillsync notes parse`.
func (r Result) MarshalJSON() ([]byte, error) {
	w := resultJSON{Note: r.Note, Kind: r.Kind, Value: r.Value, Currency: r.Currency,
		CouponCode: r.CouponCode, Competitor: r.Competitor, ApprovedBy: r.ApprovedBy,
		Confidence: roundConfidence(r.Confidence)}
	if r.ReasonCode != "" {
		w.ReasonCode = &r.ReasonCode
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads the same form (labelled sets, model answers).
func (r *Result) UnmarshalJSON(b []byte) error {
	var w resultJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*r = Result{Note: w.Note, Kind: w.Kind, Value: w.Value, Currency: w.Currency,
		CouponCode: w.CouponCode, Competitor: w.Competitor, ApprovedBy: w.ApprovedBy, Confidence: w.Confidence}
	if w.ReasonCode != nil {
		r.ReasonCode = *w.ReasonCode
	}
	return nil
}

func roundConfidence(c float64) float64 {
	return float64(int(c*100+0.5)) / 100
}

// SameValue reports whether two decimal strings are the same number:
// "5" and "5.00" are, "5" and "50" are not.
func SameValue(a, b string) bool {
	return canonicalDecimal(a) == canonicalDecimal(b)
}

func canonicalDecimal(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	intPart, frac, _ := strings.Cut(s, ".")
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	frac = strings.TrimRight(frac, "0")
	if frac == "" {
		return intPart
	}
	return intPart + "." + frac
}
