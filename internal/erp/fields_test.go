package erp_test

import (
	"strings"
	"testing"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/event"
)

func fullDoc() erp.Document {
	return erp.Document{
		Kind: erp.CashSale, ExternalID: "sale-1", Location: "berlin", Currency: "EUR", LocalDate: "2026-11-27",
		Reference: "R-1", Memo: "Jane Doe wanted gift wrap", EventIDs: []string{"sale-1"},
		Lines:    []erp.Line{{SKU: "A", Quantity: event.Units(2), Amount: 2000, Discount: 100, TaxCode: "DE19", Tax: 319, Reason: "damaged box"}},
		Payments: []erp.Payment{{Method: "card", Brand: "visa", Amount: 1900, Tip: 100}},
		Taxes:    []erp.TaxLine{{Code: "DE19", RateBP: 1900, Amount: 319}},
	}
}

func TestFieldsAllowListKeepsOnlyNamedFields(t *testing.T) {
	t.Parallel()
	f, err := erp.ParseFields([]string{"lines.amount", "payments"})
	if err != nil {
		t.Fatal(err)
	}
	orig := fullDoc()
	d := orig
	f.Apply(&d)
	if d.Memo != "" || d.Reference != "" || d.Taxes != nil {
		t.Errorf("memo %q, reference %q, taxes %v: want them removed", d.Memo, d.Reference, d.Taxes)
	}
	if want := (erp.Line{SKU: "A", Quantity: event.Units(2), Amount: 2000}); d.Lines[0] != want {
		t.Errorf("line = %+v, want %+v", d.Lines[0], want)
	}
	if want := (erp.Payment{Method: "card", Amount: 1900}); d.Payments[0] != want {
		t.Errorf("payment = %+v, want %+v", d.Payments[0], want)
	}
	// What every record needs is always there.
	if d.ExternalID != "sale-1" || d.Kind != erp.CashSale || d.Location != "berlin" || d.Currency != "EUR" || len(d.EventIDs) != 1 {
		t.Errorf("required fields changed: %+v", d)
	}
	// The original shares nothing that was changed.
	if orig.Lines[0].Tax != 319 || orig.Payments[0].Brand != "visa" {
		t.Errorf("Apply changed the caller's slices: %+v", orig)
	}
}

func TestFieldsZeroAndEmpty(t *testing.T) {
	t.Parallel()
	all, err := erp.ParseFields(nil)
	if err != nil || !all.All() {
		t.Fatalf("ParseFields(nil) = %v, %v; want all", all, err)
	}
	d := fullDoc()
	all.Apply(&d)
	if d.Memo == "" || d.Lines[0].Reason == "" || d.Payments[0].Tip == 0 {
		t.Errorf("the zero allow-list removed fields: %+v", d)
	}
	none, err := erp.ParseFields([]string{})
	if err != nil || none.All() {
		t.Fatalf("ParseFields([]) = %v, %v", none, err)
	}
	none.Apply(&d)
	if d.Memo != "" || d.Payments != nil || d.Lines[0].Amount != 0 || d.Lines[0].SKU != "A" {
		t.Errorf("the empty allow-list left optional fields or removed required ones: %+v", d)
	}
}

func TestParseFieldsRejectsUnknownNames(t *testing.T) {
	t.Parallel()
	for names, want := range map[string]string{
		"card_number":          `field "card_number": not an optional document field`,
		"lines.sku":            `field "lines.sku"`,
		"payments.brand":       "payments.brand and payments.tip need payments",
		"memo,payments.tip,xx": `field "xx"`,
	} {
		_, err := erp.ParseFields(strings.Split(names, ","))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseFields(%s) = %v, want an error containing %q", names, err, want)
		}
	}
}
