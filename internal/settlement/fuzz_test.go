package settlement_test

import (
	"testing"

	"github.com/tillsync/tillsync/internal/settlement"
)

// FuzzDecimal: amounts never panic, and what parses formats back to the
// same minor units. Corpus: testdata/fuzz/FuzzDecimal.
func FuzzDecimal(f *testing.F) {
	for _, s := range []string{"1234.50", "-0.01", "1.234,56", "1,234,567.8", "92233720368547758.07", "1.005", "", "+.5"} {
		f.Add(s, false, true, uint8(2))
		f.Add(s, true, true, uint8(0))
	}
	f.Fuzz(func(t *testing.T, s string, comma, grouping bool, exp uint8) {
		e := int(exp % 5)
		n, err := settlement.Decimal{Comma: comma, Grouping: grouping}.Parse(s, e)
		if err != nil {
			return
		}
		back, err := settlement.ParseAmount(settlement.FormatMinor(n, e), e)
		if err != nil || back != n {
			t.Fatalf("%q → %d → %q → %d, %v", s, n, settlement.FormatMinor(n, e), back, err)
		}
	})
}

// FuzzMaskPANs: masking never panics, keeps the length, is idempotent, and
// LastFour gives four digits or nothing. Corpus: testdata/fuzz/FuzzMaskPANs.
func FuzzMaskPANs(f *testing.F) {
	for _, s := range []string{"card 4111 1111 1111 1111 ok", "5555-5555-5555-4444", "x4111111111111111", "DE89370400440532013000", "4111111111111111 4242424242424242"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := settlement.MaskPANs(s)
		if len(m) != len(s) || settlement.MaskPANs(m) != m {
			t.Fatalf("%q masked to %q, masked again to %q", s, m, settlement.MaskPANs(m))
		}
		if l := settlement.LastFour(s); l != "" && len(l) != 4 {
			t.Fatalf("LastFour(%q) = %q", s, l)
		}
	})
}

// FuzzISODate: dates never panic and read back what they write. Corpus:
// testdata/fuzz/FuzzISODate.
func FuzzISODate(f *testing.F) {
	for _, s := range []string{"2026-03-02", "2026-03-02T14:05:06", "2026-03-02T14:05:06.123+01:00", "2026-03-02Z", "2026-03-02+14:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := settlement.ParseISODate(s)
		if err != nil || d.IsZero() {
			return
		}
		back, err := settlement.ParseISODate(d.String())
		if err != nil || !back.Equal(d) {
			t.Fatalf("%q → %q → %q, %v", s, d, back, err)
		}
	})
}

// FuzzDetect: detection never panics and names a known format or fails.
// Corpus: testdata/fuzz/FuzzDetect.
func FuzzDetect(f *testing.F) {
	for _, s := range []string{"01,A,B,260303,0615,1,,,2/", `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">`, "balance_transaction_id,reporting_category\n", "Psp Reference;Merchant Account\n", "\ufeff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := settlement.Detect(b)
		if err == nil && got == "" || err != nil && got != "" {
			t.Fatalf("Detect = %q, %v", got, err)
		}
	})
}
