package event_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

// bodyOf returns a fresh, valid, fully populated body of type t.
func bodyOf(t event.Type) event.Body {
	for _, b := range fullBodies() {
		if b.Type() == t {
			return b
		}
	}
	panic("no body for " + t)
}

// on adapts a change to a body of type B into a change to its event.
func on[B event.Body](f func(B)) func(*event.Event) {
	return func(e *event.Event) { f(e.Body.(B)) }
}

func lines(n int) []event.Line {
	out := make([]event.Line, n)
	for i := range out {
		out[i] = event.Line{SKU: "SKU-" + strings.Repeat("x", i%5) + string(rune('a'+i%26)), Quantity: event.Units(1)}
	}
	return out
}

func TestValidate(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name   string
		typ    event.Type
		change func(*event.Event)
		want   []problem
	}{
		// The envelope, on any type.
		{"valid", event.TypeSale, func(*event.Event) {}, nil},
		{"id missing", event.TypeVoid, func(e *event.Event) { e.ID = "" }, []problem{{"id", "required"}}},
		{"id with space", event.TypeVoid, func(e *event.Event) { e.ID = "sale 1" }, []problem{{"id", "id_charset"}}},
		{"id non-ASCII", event.TypeVoid, func(e *event.Event) { e.ID = "verkäufe-1" }, []problem{{"id", "id_charset"}}},
		{"id punctuation allowed", event.TypeVoid, func(e *event.Event) { e.ID = "pos:s1/r2@2026-11-27#17_a.b-c" }, nil},
		{"id at limit", event.TypeVoid, func(e *event.Event) { e.ID = long(128) }, nil},
		{"id too long", event.TypeVoid, func(e *event.Event) { e.ID = long(129) }, []problem{{"id", "max_length"}}},
		{"location missing", event.TypeVoid, func(e *event.Event) { e.Location = "" }, []problem{{"location", "required"}}},
		{"location too long", event.TypeVoid, func(e *event.Event) { e.Location = long(65) }, []problem{{"location", "max_length"}}},
		{"location charset", event.TypeVoid, func(e *event.Event) { e.Location = "store 1" }, []problem{{"location", "id_charset"}}},
		{"source missing", event.TypeVoid, func(e *event.Event) { e.Source = "" }, []problem{{"source", "required"}}},
		{"unknown type", event.TypeVoid, func(e *event.Event) { e.Type = "layaway" },
			[]problem{{"type", "known_type"}, {"data", "matches_type"}}},
		{"body of another type", event.TypeVoid, func(e *event.Event) { e.Type = event.TypeSale }, []problem{{"data", "matches_type"}}},
		{"body missing", event.TypeVoid, func(e *event.Event) { e.Body = nil }, []problem{{"data", "required"}}},
		{"occurred_at missing", event.TypeVoid, func(e *event.Event) { e.OccurredAt = time.Time{} }, []problem{{"occurred_at", "required"}}},
		{"occurred_at 24h after received_at", event.TypeVoid, func(e *event.Event) { e.OccurredAt = e.ReceivedAt.Add(event.MaxFutureSkew) }, nil},
		{"occurred_at over 24h after received_at", event.TypeVoid,
			func(e *event.Event) { e.OccurredAt = e.ReceivedAt.Add(event.MaxFutureSkew + time.Nanosecond) },
			[]problem{{"occurred_at", "not_future"}}},
		{"occurred_at long before received_at", event.TypeVoid, func(e *event.Event) { e.OccurredAt = e.ReceivedAt.AddDate(-1, 0, 0) }, nil},
		{"occurred_at far ahead without received_at", event.TypeVoid,
			func(e *event.Event) { e.ReceivedAt = time.Time{}; e.OccurredAt = e.OccurredAt.AddDate(1, 0, 0) }, nil},
		{"zone missing", event.TypeVoid, func(e *event.Event) { e.Zone = "" }, []problem{{"zone", "required"}}},
		{"zone UTC", event.TypeVoid, func(e *event.Event) { e.Zone = "UTC" }, nil},
		{"zone unknown", event.TypeVoid, func(e *event.Event) { e.Zone = "Mars/Olympus" }, []problem{{"zone", "iana_zone"}}},
		{"zone wrong case", event.TypeVoid, func(e *event.Event) { e.Zone = "europe/berlin" }, []problem{{"zone", "iana_zone"}}},
		{"zone is the server's", event.TypeVoid, func(e *event.Event) { e.Zone = "Local" }, []problem{{"zone", "iana_zone"}}},
		{"zone is a path", event.TypeVoid, func(e *event.Event) { e.Zone = "../../etc/passwd" }, []problem{{"zone", "iana_zone"}}},
		{"zone is a directory", event.TypeVoid, func(e *event.Event) { e.Zone = "America" }, []problem{{"zone", "iana_zone"}}},
		{"every envelope problem at once", event.TypeVoid, func(e *event.Event) {
			e.ID, e.Location, e.Source, e.OccurredAt, e.Zone = "", "", "", time.Time{}, ""
		}, []problem{{"id", "required"}, {"location", "required"}, {"source", "required"}, {"occurred_at", "required"}, {"zone", "required"}}},

		// Sale.
		{"sale currency missing", event.TypeSale, on(func(s *event.Sale) { s.Currency = "" }), []problem{{"data.currency", "required"}}},
		{"sale currency lower case", event.TypeSale, on(func(s *event.Sale) { s.Currency = "eur" }), []problem{{"data.currency", "iso4217"}}},
		{"sale currency gold", event.TypeSale, on(func(s *event.Sale) { s.Currency = "XAU" }), []problem{{"data.currency", "iso4217"}}},
		{"sale without lines", event.TypeSale, on(func(s *event.Sale) { s.Lines = nil }), []problem{{"data.lines", "required"}}},
		{"sale with too many lines", event.TypeSale, on(func(s *event.Sale) { s.Lines = make([]event.SaleLine, 1001) }),
			[]problem{{"data.lines", "max_items"}}},
		{"sale line sku missing", event.TypeSale, on(func(s *event.Sale) { s.Lines[1].SKU = "" }), []problem{{"data.lines[1].sku", "required"}}},
		{"sale line sku charset", event.TypeSale, on(func(s *event.Sale) { s.Lines[0].SKU = "JKT M" }), []problem{{"data.lines[0].sku", "id_charset"}}},
		{"sale line sku too long", event.TypeSale, on(func(s *event.Sale) { s.Lines[0].SKU = long(129) }), []problem{{"data.lines[0].sku", "max_length"}}},
		{"sale quantity zero", event.TypeSale, on(func(s *event.Sale) { s.Lines[0].Quantity = 0 }), []problem{{"data.lines[0].quantity", "positive"}}},
		{"sale quantity negative", event.TypeSale, on(func(s *event.Sale) { s.Lines[0].Quantity = -1000 }), []problem{{"data.lines[0].quantity", "positive"}}},
		{"sale unit_price negative", event.TypeSale, on(func(s *event.Sale) { s.Lines[0].UnitPrice = -1 }), []problem{{"data.lines[0].unit_price", "not_negative"}}},
		{"sale amount negative", event.TypeSale, on(func(s *event.Sale) { s.Lines[1].Amount = amt(-369) }), []problem{{"data.lines[1].amount", "not_negative"}}},
		{"sale discount negative", event.TypeSale, on(func(s *event.Sale) { s.Lines[0].Discounts[0].Amount = -1000 }),
			[]problem{{"data.lines[0].discounts[0].amount", "not_negative"}}},
		{"sale discount reason too long", event.TypeSale, on(func(s *event.Sale) { s.Lines[0].Discounts[0].Reason = long(501) }),
			[]problem{{"data.lines[0].discounts[0].reason", "max_length"}}},
		{"sale tax negative", event.TypeSale, on(func(s *event.Sale) { s.Lines[1].Taxes[0].Amount = -27 }),
			[]problem{{"data.lines[1].taxes[0].amount", "not_negative"}}},
		{"sale tax rate negative", event.TypeSale, on(func(s *event.Sale) { s.Lines[1].Taxes[0].RateBP = -725 }),
			[]problem{{"data.lines[1].taxes[0].rate_bp", "not_negative"}}},
		{"sale description too long", event.TypeSale, on(func(s *event.Sale) { s.Lines[0].Description = long(1001) }),
			[]problem{{"data.lines[0].description", "max_length"}}},
		{"sale quantity × price overflows", event.TypeSale, on(func(s *event.Sale) { s.Lines[0].UnitPrice = math.MaxInt64 / 100 }),
			[]problem{{"data.lines[0].quantity", "overflow"}}},
		{"sale line total overflows", event.TypeSale, on(func(s *event.Sale) {
			s.Lines[1].Amount = amt(math.MaxInt64)
		}), []problem{{"data.lines[1]", "overflow"}}},
		{"sale lines total overflows", event.TypeSale, on(func(s *event.Sale) {
			// Each line fits; their sum wraps to -2, and so would the tenders.
			s.Lines = []event.SaleLine{
				{SKU: "A", Quantity: 1000, UnitPrice: 1, Amount: amt(math.MaxInt64)},
				{SKU: "B", Quantity: 1000, UnitPrice: 1, Amount: amt(math.MaxInt64)},
			}
			s.Tenders = []event.Tender{{Kind: event.TenderCash, Amount: math.MaxInt64}, {Kind: event.TenderCash, Amount: math.MaxInt64}}
		}), []problem{{"data.lines", "overflow"}}},
		{"sale tenders sum overflows", event.TypeSale, on(func(s *event.Sale) {
			s.Tenders = []event.Tender{{Kind: event.TenderCash, Amount: math.MaxInt64}, {Kind: event.TenderCash, Amount: 1}}
		}), []problem{{"data.tenders", "overflow"}}},
		{"sale unbalanced", event.TypeSale, on(func(s *event.Sale) { s.Tenders[1].Amount++ }), []problem{{"data.tenders", "balanced"}}},
		{"sale tip is on top", event.TypeSale, on(func(s *event.Sale) { s.Tenders[0].Tip = 5000 }), nil},
		{"sale tip negative", event.TypeSale, on(func(s *event.Sale) { s.Tenders[0].Tip = -1 }), []problem{{"data.tenders[0].tip", "not_negative"}}},
		{"sale tender negative", event.TypeSale, on(func(s *event.Sale) { s.Tenders[1].Amount = -5394 }),
			[]problem{{"data.tenders[1].amount", "not_negative"}}},
		{"sale without tenders", event.TypeSale, on(func(s *event.Sale) { s.Tenders = nil }), []problem{{"data.tenders", "required"}}},
		{"sale of nothing needs no tender", event.TypeSale, on(func(s *event.Sale) {
			s.Lines = []event.SaleLine{{SKU: "FREEBIE", Quantity: 1000, UnitPrice: 0}}
			s.Tenders = nil
		}), nil},
		{"sale tender kind", event.TypeSale, on(func(s *event.Sale) { s.Tenders[1].Kind = "bitcoin" }),
			[]problem{{"data.tenders[1].kind", "tender_kind"}}},
		{"sale card on cash", event.TypeSale, on(func(s *event.Sale) { s.Tenders[1].Card = &event.Card{Last4: "1234"} }),
			[]problem{{"data.tenders[1].card", "card_tender_only"}}},
		{"sale card last4 short", event.TypeSale, on(func(s *event.Sale) { s.Tenders[0].Card.Last4 = "242" }),
			[]problem{{"data.tenders[0].card.last4", "four_digits"}}},
		{"sale card last4 long", event.TypeSale, on(func(s *event.Sale) { s.Tenders[0].Card.Last4 = "4111111111111111" }),
			[]problem{{"data.tenders[0].card.last4", "four_digits"}}},
		{"sale card last4 letters", event.TypeSale, on(func(s *event.Sale) { s.Tenders[0].Card.Last4 = "42x2" }),
			[]problem{{"data.tenders[0].card.last4", "four_digits"}}},
		{"sale card last4 absent", event.TypeSale, on(func(s *event.Sale) { s.Tenders[0].Card.Last4 = "" }), nil},
		{"sale tender reference too long", event.TypeSale, on(func(s *event.Sale) { s.Tenders[0].Reference = long(201) }),
			[]problem{{"data.tenders[0].reference", "max_length"}}},
		{"sale notes too long", event.TypeSale, on(func(s *event.Sale) { s.Notes = long(2001) }), []problem{{"data.notes", "max_length"}}},
		{"sale order_id charset", event.TypeSale, on(func(s *event.Sale) { s.OrderID = "web 77" }), []problem{{"data.order_id", "id_charset"}}},
		{"sale order_id optional", event.TypeSale, on(func(s *event.Sale) { s.OrderID = "" }), nil},
		{"sale several problems", event.TypeSale, on(func(s *event.Sale) {
			s.Currency = "EURO"
			s.Lines[0].Quantity = 0
			s.Lines[1].SKU = ""
			s.Tenders[0].Card.Last4 = "12"
		}), []problem{{"data.currency", "iso4217"}, {"data.lines[0].quantity", "positive"}, {"data.lines[1].sku", "required"},
			{"data.tenders[0].card.last4", "four_digits"}}},

		// Return.
		{"return currency", event.TypeReturn, on(func(r *event.Return) { r.Currency = "" }), []problem{{"data.currency", "required"}}},
		{"return original_event_id charset", event.TypeReturn, on(func(r *event.Return) { r.OriginalEventID = "sale 1" }),
			[]problem{{"data.original_event_id", "id_charset"}}},
		{"return original_event_id optional", event.TypeReturn, on(func(r *event.Return) { r.OriginalEventID = "" }), nil},
		{"return reason too long", event.TypeReturn, on(func(r *event.Return) { r.Reason = long(501) }), []problem{{"data.reason", "max_length"}}},
		{"return notes too long", event.TypeReturn, on(func(r *event.Return) { r.Notes = long(2001) }), []problem{{"data.notes", "max_length"}}},
		{"return quantity zero", event.TypeReturn, on(func(r *event.Return) { r.Lines[1].Quantity = 0 }), []problem{{"data.lines[1].quantity", "positive"}}},
		{"return unbalanced", event.TypeReturn, on(func(r *event.Return) { r.Tenders[0].Amount = 12999 }), []problem{{"data.tenders", "balanced"}}},
		{"return without lines", event.TypeReturn, on(func(r *event.Return) { r.Lines = []event.SaleLine{} }), []problem{{"data.lines", "required"}}},

		// Void.
		{"void target missing", event.TypeVoid, on(func(v *event.Void) { v.VoidedEventID = "" }), []problem{{"data.voided_event_id", "required"}}},
		{"void target charset", event.TypeVoid, on(func(v *event.Void) { v.VoidedEventID = "a\tb" }), []problem{{"data.voided_event_id", "id_charset"}}},

		// Adjustment.
		{"adjustment reason missing", event.TypeAdjustment, on(func(a *event.Adjustment) { a.Reason = "" }), []problem{{"data.reason", "required"}}},
		{"adjustment reason blank", event.TypeAdjustment, on(func(a *event.Adjustment) { a.Reason = " \t " }), []problem{{"data.reason", "required"}}},
		{"adjustment reason too long", event.TypeAdjustment, on(func(a *event.Adjustment) { a.Reason = long(201) }),
			[]problem{{"data.reason", "max_length"}}},
		{"adjustment quantity zero", event.TypeAdjustment, on(func(a *event.Adjustment) { a.Lines[1].Quantity = 0 }),
			[]problem{{"data.lines[1].quantity", "non_zero"}}},
		{"adjustment quantity negative", event.TypeAdjustment, on(func(a *event.Adjustment) { a.Lines[1].Quantity = -1 }), nil},
		{"adjustment without lines", event.TypeAdjustment, on(func(a *event.Adjustment) { a.Lines = nil }), []problem{{"data.lines", "required"}}},
		{"adjustment with 1000 lines", event.TypeAdjustment, on(func(a *event.Adjustment) { a.Lines = lines(1000) }), nil},
		{"adjustment with 1001 lines", event.TypeAdjustment, on(func(a *event.Adjustment) { a.Lines = lines(1001) }),
			[]problem{{"data.lines", "max_items"}}},
		{"adjustment sku missing", event.TypeAdjustment, on(func(a *event.Adjustment) { a.Lines[0].SKU = "" }),
			[]problem{{"data.lines[0].sku", "required"}}},

		// Receipt.
		{"receipt quantity zero", event.TypeReceipt, on(func(r *event.Receipt) { r.Lines[0].Quantity = 0 }), []problem{{"data.lines[0].quantity", "positive"}}},
		{"receipt quantity negative", event.TypeReceipt, on(func(r *event.Receipt) { r.Lines[0].Quantity = -5 }),
			[]problem{{"data.lines[0].quantity", "positive"}}},
		{"receipt fraction", event.TypeReceipt, on(func(r *event.Receipt) { r.Lines[0].Quantity = 1 }), nil},
		{"receipt without lines", event.TypeReceipt, on(func(r *event.Receipt) { r.Lines = nil }), []problem{{"data.lines", "required"}}},

		// Transfers.
		{"transfer out id missing", event.TypeTransferOut, on(func(x *event.TransferOut) { x.TransferID = "" }),
			[]problem{{"data.transfer_id", "required"}}},
		{"transfer out destination missing", event.TypeTransferOut, on(func(x *event.TransferOut) { x.ToLocation = "" }),
			[]problem{{"data.to_location", "required"}}},
		{"transfer out destination too long", event.TypeTransferOut, on(func(x *event.TransferOut) { x.ToLocation = long(65) }),
			[]problem{{"data.to_location", "max_length"}}},
		{"transfer out quantity zero", event.TypeTransferOut, on(func(x *event.TransferOut) { x.Lines[0].Quantity = 0 }),
			[]problem{{"data.lines[0].quantity", "positive"}}},
		{"transfer in id charset", event.TypeTransferIn, on(func(x *event.TransferIn) { x.TransferID = "tr 1" }),
			[]problem{{"data.transfer_id", "id_charset"}}},
		{"transfer in origin missing", event.TypeTransferIn, on(func(x *event.TransferIn) { x.FromLocation = "" }),
			[]problem{{"data.from_location", "required"}}},
		{"transfer in quantity negative", event.TypeTransferIn, on(func(x *event.TransferIn) { x.Lines[0].Quantity = -1000 }),
			[]problem{{"data.lines[0].quantity", "positive"}}},

		// Stock count.
		{"count of zero", event.TypeStockCount, on(func(c *event.StockCount) { c.Lines[0].Quantity = 0 }), nil},
		{"count negative", event.TypeStockCount, on(func(c *event.StockCount) { c.Lines[1].Quantity = -1 }),
			[]problem{{"data.lines[1].quantity", "not_negative"}}},
		{"count duplicate sku", event.TypeStockCount, on(func(c *event.StockCount) { c.Lines[1].SKU = c.Lines[0].SKU }),
			[]problem{{"data.lines[1].sku", "unique"}}},
		{"count duplicate sku thrice", event.TypeStockCount, on(func(c *event.StockCount) {
			c.Lines = []event.Line{{SKU: "A"}, {SKU: "B"}, {SKU: "A"}, {SKU: "A"}}
		}), []problem{{"data.lines[2].sku", "unique"}, {"data.lines[3].sku", "unique"}}},
		{"count without lines", event.TypeStockCount, on(func(c *event.StockCount) { c.Lines = nil }), []problem{{"data.lines", "required"}}},

		// Drawer count.
		{"drawer register missing", event.TypeDrawerCount, on(func(d *event.DrawerCount) { d.Register = "" }),
			[]problem{{"data.register", "required"}}},
		{"drawer currency unknown", event.TypeDrawerCount, on(func(d *event.DrawerCount) { d.Currency = "ABC" }),
			[]problem{{"data.currency", "iso4217"}}},
		{"drawer counted negative", event.TypeDrawerCount, on(func(d *event.DrawerCount) { d.Counted = -1 }),
			[]problem{{"data.counted", "not_negative"}}},
		{"drawer expected negative", event.TypeDrawerCount, on(func(d *event.DrawerCount) { d.Expected = amt(-1) }),
			[]problem{{"data.expected", "not_negative"}}},
		{"drawer expected optional", event.TypeDrawerCount, on(func(d *event.DrawerCount) { d.Expected = nil }), nil},

		// Online order.
		{"order id missing", event.TypeOnlineOrder, on(func(o *event.OnlineOrder) { o.OrderID = "" }), []problem{{"data.order_id", "required"}}},
		{"order channel missing", event.TypeOnlineOrder, on(func(o *event.OnlineOrder) { o.Channel = "" }), []problem{{"data.channel", "required"}}},
		{"order currency", event.TypeOnlineOrder, on(func(o *event.OnlineOrder) { o.Currency = "" }), []problem{{"data.currency", "required"}}},
		{"order quantity zero", event.TypeOnlineOrder, on(func(o *event.OnlineOrder) { o.Lines[0].Quantity = 0 }),
			[]problem{{"data.lines[0].quantity", "positive"}}},
		{"order price negative", event.TypeOnlineOrder, on(func(o *event.OnlineOrder) { o.Lines[0].UnitPrice = -1 }),
			[]problem{{"data.lines[0].unit_price", "not_negative"}}},
		{"order without lines", event.TypeOnlineOrder, on(func(o *event.OnlineOrder) { o.Lines = nil }), []problem{{"data.lines", "required"}}},

		// Fulfilment and cancel.
		{"fulfilment order missing", event.TypeFulfilment, on(func(f *event.Fulfilment) { f.OrderID = "" }), []problem{{"data.order_id", "required"}}},
		{"fulfilment quantity zero", event.TypeFulfilment, on(func(f *event.Fulfilment) { f.Lines[0].Quantity = 0 }),
			[]problem{{"data.lines[0].quantity", "positive"}}},
		{"fulfilment without lines", event.TypeFulfilment, on(func(f *event.Fulfilment) { f.Lines = nil }), []problem{{"data.lines", "required"}}},
		{"cancel order missing", event.TypeOrderCancel, on(func(c *event.OrderCancel) { c.OrderID = "" }), []problem{{"data.order_id", "required"}}},
		{"cancel order too long", event.TypeOrderCancel, on(func(c *event.OrderCancel) { c.OrderID = long(129) }),
			[]problem{{"data.order_id", "max_length"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := fullEvent(bodyOf(tt.typ))
			tt.change(e)
			assertProblems(t, e.Validate(), tt.want...)
		})
	}
}

// TestValidateBalance checks the tender rule: tenders sum to extended price −
// discounts + taxes not included in the price, tips excluded.
func TestValidateBalance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		lines []event.SaleLine
		paid  []event.Amount
		ok    bool
	}{
		{"qty × price", []event.SaleLine{{SKU: "A", Quantity: 3000, UnitPrice: 250}}, []event.Amount{750}, true},
		{"qty × price off by one", []event.SaleLine{{SKU: "A", Quantity: 3000, UnitPrice: 250}}, []event.Amount{749}, false},
		{"weighed goods round half up", []event.SaleLine{{SKU: "A", Quantity: 1500, UnitPrice: 3}}, []event.Amount{5}, true}, // 4.5 → 5
		{"weighed goods round down", []event.SaleLine{{SKU: "A", Quantity: 1234, UnitPrice: 899}}, []event.Amount{1109}, true},
		{"till amount wins", []event.SaleLine{{SKU: "A", Quantity: 1234, UnitPrice: 899, Amount: amt(1110)}}, []event.Amount{1110}, true},
		{"discount", []event.SaleLine{{SKU: "A", Quantity: 1000, UnitPrice: 1000, Discounts: []event.Discount{{Amount: 100}, {Amount: 50}}}},
			[]event.Amount{850}, true},
		{"included tax is in the price", []event.SaleLine{{SKU: "A", Quantity: 1000, UnitPrice: 1190,
			Taxes: []event.Tax{{Amount: 190, Included: true}}}}, []event.Amount{1190}, true},
		{"added tax is on top", []event.SaleLine{{SKU: "A", Quantity: 1000, UnitPrice: 1000,
			Taxes: []event.Tax{{Amount: 73}, {Amount: 10, Included: true}}}}, []event.Amount{1073}, true},
		{"added tax forgotten", []event.SaleLine{{SKU: "A", Quantity: 1000, UnitPrice: 1000,
			Taxes: []event.Tax{{Amount: 73}}}}, []event.Amount{1000}, false},
		{"split tenders", []event.SaleLine{{SKU: "A", Quantity: 2000, UnitPrice: 1000}, {SKU: "B", Quantity: 1000, UnitPrice: 1}},
			[]event.Amount{1500, 500, 1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &event.Sale{Currency: "EUR", Lines: tt.lines}
			for _, p := range tt.paid {
				s.Tenders = append(s.Tenders, event.Tender{Kind: event.TenderCash, Amount: p, Tip: 99})
			}
			var want []problem
			if !tt.ok {
				want = []problem{{"data.tenders", "balanced"}}
			}
			assertProblems(t, fullEvent(s).Validate(), want...)
		})
	}
}

func TestValidationErrorMessage(t *testing.T) {
	t.Parallel()
	e := fullEvent(&event.Void{})
	e.Zone = "Mars/Olympus"
	err := e.Validate()
	want := `invalid event: zone: "Mars/Olympus" is not an IANA time zone (iana_zone); data.voided_event_id: is required (required)`
	if err == nil || err.Error() != want {
		t.Errorf("Error() = %v\nwant      %s", err, want)
	}
}

func TestLoadZone(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata"} {
		loc, err := event.LoadZone(name)
		if err != nil {
			t.Errorf("LoadZone(%q): %v", name, err)
			continue
		}
		if loc.String() != name {
			t.Errorf("LoadZone(%q) = %s", name, loc)
		}
		again, _ := event.LoadZone(name)
		if again != loc {
			t.Errorf("LoadZone(%q) is not cached", name)
		}
	}
	for _, name := range []string{"", "Local", "Mars/Olympus", "europe/berlin", "../etc/passwd"} {
		if loc, err := event.LoadZone(name); err == nil {
			t.Errorf("LoadZone(%q) = %v, want an error", name, loc)
		}
	}
}
