package erp

import (
	"fmt"
	"slices"
	"strings"
)

// Fields is a destination's field allow-list: the optional document
// fields its mapping names. A destination receives only those; what it does
// not name never leaves the hub for it (PCI DSS data minimisation: cashier
// notes, for one, may carry a customer's name). The fields every record
// needs to exist in an ERP and to be posted exactly once — kind, external
// ID, reversed record, locations, dates, currency, event IDs, line SKU and
// quantity — are always sent and cannot be listed.
//
// The zero Fields allows every field.
type Fields struct {
	allow map[string]bool // nil: all
}

// OptionalFields are the names an allow-list may use, as in a document's
// JSON form. "payments" alone allows each payment's method and amount;
// "payments.brand" and "payments.tip" add those.
var OptionalFields = []string{
	"reference", "memo",
	"lines.amount", "lines.discount", "lines.tax_code", "lines.tax", "lines.reason",
	"payments", "payments.brand", "payments.tip",
	"taxes",
}

// ParseFields checks an allow-list from configuration. Empty (nil) allows
// every field; an empty non-nil list allows only the required ones.
func ParseFields(names []string) (Fields, error) {
	if names == nil {
		return Fields{}, nil
	}
	f := Fields{allow: make(map[string]bool, len(names))}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if !slices.Contains(OptionalFields, n) {
			return Fields{}, fmt.Errorf("field %q: not an optional document field; use some of %s (kind, external_id, dates, locations, currency, event_ids, lines.sku and lines.quantity are always sent)",
				n, strings.Join(OptionalFields, ", "))
		}
		f.allow[n] = true
	}
	if (f.allow["payments.brand"] || f.allow["payments.tip"]) && !f.allow["payments"] {
		return Fields{}, fmt.Errorf("fields: payments.brand and payments.tip need payments")
	}
	return f, nil
}

// All reports whether every field is allowed.
func (f Fields) All() bool { return f.allow == nil }

// Names lists the allowed optional fields (nil when all are).
func (f Fields) Names() []string {
	if f.allow == nil {
		return nil
	}
	var out []string
	for _, n := range OptionalFields {
		if f.allow[n] {
			out = append(out, n)
		}
	}
	return out
}

// Apply removes from d every optional field the list does not name. The
// document's slices are copied before they are changed: d may share them
// with documents for other destinations.
func (f Fields) Apply(d *Document) {
	if f.allow == nil {
		return
	}
	a := f.allow
	if !a["reference"] {
		d.Reference = ""
	}
	if !a["memo"] {
		d.Memo = ""
	}
	allLines := a["lines.amount"] && a["lines.discount"] && a["lines.tax_code"] && a["lines.tax"] && a["lines.reason"]
	if !allLines && len(d.Lines) > 0 {
		lines := make([]Line, len(d.Lines))
		for i, l := range d.Lines {
			lines[i] = Line{SKU: l.SKU, Quantity: l.Quantity}
			if a["lines.amount"] {
				lines[i].Amount = l.Amount
			}
			if a["lines.discount"] {
				lines[i].Discount = l.Discount
			}
			if a["lines.tax_code"] {
				lines[i].TaxCode = l.TaxCode
			}
			if a["lines.tax"] {
				lines[i].Tax = l.Tax
			}
			if a["lines.reason"] {
				lines[i].Reason = l.Reason
			}
		}
		d.Lines = lines
	}
	switch {
	case !a["payments"]:
		d.Payments = nil
	case (!a["payments.brand"] || !a["payments.tip"]) && len(d.Payments) > 0:
		pays := make([]Payment, len(d.Payments))
		for i, p := range d.Payments {
			pays[i] = Payment{Method: p.Method, Amount: p.Amount}
			if a["payments.brand"] {
				pays[i].Brand = p.Brand
			}
			if a["payments.tip"] {
				pays[i].Tip = p.Tip
			}
		}
		d.Payments = pays
	}
	if !a["taxes"] {
		d.Taxes = nil
	}
}
