package erp

import (
	"fmt"
	"sort"

	"github.com/tillsync/tillsync/internal/event"
)

// Thread returns the ERP document an event belongs to, for ordering: events
// of one thread are posted in log order (a sale before its void, an order
// before its fulfilment), unrelated threads in parallel.
func Thread(e *event.Event) string {
	switch b := e.Body.(type) {
	case *event.Void:
		return "doc:" + b.VoidedEventID
	case *event.Return:
		if b.OriginalEventID != "" {
			return "doc:" + b.OriginalEventID
		}
	case *event.OnlineOrder:
		return "order:" + b.OrderID
	case *event.Fulfilment:
		return "order:" + b.OrderID
	case *event.OrderCancel:
		return "order:" + b.OrderID
	case *event.Sale:
		if b.OrderID != "" {
			return "order:" + b.OrderID
		}
	case *event.TransferOut:
		return "transfer:" + b.TransferID
	case *event.TransferIn:
		return "transfer:" + b.TransferID
	}
	return "doc:" + e.ID
}

// Detail maps one event to the ERP document it becomes in detail mode, or
// reports false for events that post nothing (a drawer count). target
// looks up the event a void reverses; it returns nil when unknown.
func Detail(e *event.Event, target func(id string) *event.Event) (*Document, bool, error) {
	d := &Document{ExternalID: e.ID, Location: e.Location, Date: e.OccurredAt,
		LocalDate: e.LocalTime().Format("2006-01-02"), EventIDs: []string{e.ID}}
	switch b := e.Body.(type) {
	case *event.Sale:
		d.Kind, d.Currency, d.Reference, d.Memo = CashSale, b.Currency, b.ReceiptNumber, b.Notes
		d.Lines, d.Taxes = saleLines(b.Lines)
		d.Payments = payments(b.Tenders)
	case *event.Return:
		d.Kind, d.Currency, d.Reference, d.Memo = CashRefund, b.Currency, b.ReceiptNumber, b.Reason
		d.Reverses = b.OriginalEventID
		d.Lines, d.Taxes = saleLines(b.Lines)
		d.Payments = payments(b.Tenders)
	case *event.Void:
		t := target(b.VoidedEventID)
		if t == nil {
			return nil, false, fmt.Errorf("void %s: the voided event %s is not in the log", e.ID, b.VoidedEventID)
		}
		orig, ok, err := Detail(t, target)
		if err != nil || !ok {
			return nil, ok, err
		}
		if orig.Kind != CashSale && orig.Kind != CashRefund {
			return nil, false, fmt.Errorf("void %s: %s is a %s, not a sale or return", e.ID, t.ID, t.Type)
		}
		// A post-void becomes the reversal of the record: a refund of a
		// sale (or a sale of a refund), referring to it.
		*d = *orig
		d.ExternalID, d.EventIDs, d.Reverses, d.Date = e.ID, []string{e.ID}, t.ID, e.OccurredAt
		d.LocalDate = e.LocalTime().Format("2006-01-02")
		d.Memo = "void of " + t.ID + ": " + b.Reason
		if orig.Kind == CashSale {
			d.Kind = CashRefund
		} else {
			d.Kind = CashSale
		}
	case *event.Adjustment:
		d.Kind, d.Memo = InventoryAdjustment, b.Reason
		d.Lines = stockLines(b.Lines, b.Reason)
	case *event.Receipt:
		d.Kind, d.Reference, d.Memo = InventoryAdjustment, b.PurchaseOrder, "goods received from "+b.Supplier
		d.Lines = stockLines(b.Lines, "receipt")
	case *event.StockCount:
		d.Kind, d.Reference = InventoryCount, b.CountID
		d.Lines = stockLines(b.Lines, "count")
	case *event.TransferOut:
		d.Kind, d.Reference, d.ToLocation = TransferOrder, b.TransferID, b.ToLocation
		d.Lines = stockLines(b.Lines, "")
	case *event.TransferIn:
		d.Kind, d.Reference, d.Reverses = TransferReceipt, b.TransferID, ""
		d.ToLocation, d.Location = e.Location, b.FromLocation
		d.Lines = stockLines(b.Lines, "")
	case *event.OnlineOrder:
		d.Kind, d.Reference, d.Currency, d.Memo = SalesOrder, b.OrderID, b.Currency, "channel "+b.Channel
		d.Lines, d.Taxes = saleLines(b.Lines)
	case *event.Fulfilment:
		d.Kind, d.Reference = Fulfilment, b.OrderID
		d.Lines = stockLines(b.Lines, "")
	case *event.OrderCancel:
		d.Kind, d.Reference, d.Memo = OrderCancel, b.OrderID, b.Reason
	default: // drawer counts: cash, reconciled elsewhere
		return nil, false, nil
	}
	return d, true, nil
}

func saleLines(ls []event.SaleLine) ([]Line, []TaxLine) {
	out := make([]Line, 0, len(ls))
	taxes := map[string]*TaxLine{}
	for _, l := range ls {
		total, _ := l.Total()
		ext, _ := l.Extended()
		ln := Line{SKU: l.SKU, Quantity: l.Quantity, Amount: total, Discount: ext - lineNet(l, ext)}
		for _, t := range l.Taxes {
			ln.Tax += int64(t.Amount)
			if ln.TaxCode == "" {
				ln.TaxCode = t.Code
			}
			tl := taxes[t.Code]
			if tl == nil {
				tl = &TaxLine{Code: t.Code, RateBP: t.RateBP}
				taxes[t.Code] = tl
			}
			tl.Amount += int64(t.Amount)
		}
		out = append(out, ln)
	}
	tl := make([]TaxLine, 0, len(taxes))
	for _, t := range taxes {
		tl = append(tl, *t)
	}
	sort.Slice(tl, func(i, j int) bool { return tl[i].Code < tl[j].Code })
	return out, tl
}

func lineNet(l event.SaleLine, ext int64) int64 {
	for _, d := range l.Discounts {
		ext -= int64(d.Amount)
	}
	return ext
}

func payments(ts []event.Tender) []Payment {
	out := make([]Payment, 0, len(ts))
	for _, t := range ts {
		p := Payment{Method: string(t.Kind), Amount: int64(t.Amount), Tip: int64(t.Tip)}
		if t.Card != nil {
			p.Brand = t.Card.Brand // never the number: brand only
		}
		out = append(out, p)
	}
	return out
}

func stockLines(ls []event.Line, reason string) []Line {
	out := make([]Line, len(ls))
	for i, l := range ls {
		out[i] = Line{SKU: l.SKU, Quantity: l.Quantity, Reason: reason}
	}
	return out
}
