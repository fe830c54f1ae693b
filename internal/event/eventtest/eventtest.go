// Package eventtest builds valid canonical events for tests and simulators
// with little ceremony.
package eventtest

import (
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

// Base is the time builders use when none is given.
var Base = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// Zone is the store zone builders use.
const Zone = "Europe/Berlin"

func envelope(id string, t event.Type, loc string, at time.Time, body event.Body) *event.Event {
	return &event.Event{
		ID: id, Type: t, Location: loc, Source: "pos", OccurredAt: at, Zone: Zone,
		ReceivedAt: at, Body: body,
	}
}

// L is a stock line of whole units.
func L(sku string, units int64) event.Line { return event.Line{SKU: sku, Quantity: event.Units(units)} }

// Sale sells whole units of each SKU at 10.00 EUR, paid by card.
func Sale(id, loc string, at time.Time, lines ...event.Line) *event.Event {
	s := &event.Sale{Currency: "EUR", Register: "r1", ReceiptNumber: id}
	var total int64
	for _, l := range lines {
		s.Lines = append(s.Lines, event.SaleLine{SKU: l.SKU, Quantity: l.Quantity, UnitPrice: 1000})
		t, _ := l.Quantity.MulMinor(1000)
		total += t
	}
	s.Tenders = []event.Tender{{Kind: event.TenderCard, Amount: event.Amount(total), Card: &event.Card{Brand: "visa", Last4: "4242"}}}
	return envelope(id, event.TypeSale, loc, at, s)
}

// Return brings back whole units (restocked) for a cash refund.
func Return(id, loc string, at time.Time, original string, lines ...event.Line) *event.Event {
	r := &event.Return{Currency: "EUR", OriginalEventID: original}
	var total int64
	for _, l := range lines {
		r.Lines = append(r.Lines, event.SaleLine{SKU: l.SKU, Quantity: l.Quantity, UnitPrice: 1000})
		t, _ := l.Quantity.MulMinor(1000)
		total += t
	}
	r.Tenders = []event.Tender{{Kind: event.TenderCash, Amount: event.Amount(total)}}
	return envelope(id, event.TypeReturn, loc, at, r)
}

// Void voids an earlier sale or return.
func Void(id, loc string, at time.Time, target string) *event.Event {
	return envelope(id, event.TypeVoid, loc, at, &event.Void{VoidedEventID: target})
}

// Adjust adjusts stock by signed units.
func Adjust(id, loc string, at time.Time, lines ...event.Line) *event.Event {
	return envelope(id, event.TypeAdjustment, loc, at, &event.Adjustment{Reason: "correction", Lines: lines})
}

// Receive receives goods.
func Receive(id, loc string, at time.Time, lines ...event.Line) *event.Event {
	return envelope(id, event.TypeReceipt, loc, at, &event.Receipt{Lines: lines})
}

// Count records an absolute stock count.
func Count(id, loc string, at time.Time, lines ...event.Line) *event.Event {
	return envelope(id, event.TypeStockCount, loc, at, &event.StockCount{Lines: lines})
}

// TransferOut ships stock to another location.
func TransferOut(id, loc string, at time.Time, transfer, to string, lines ...event.Line) *event.Event {
	return envelope(id, event.TypeTransferOut, loc, at, &event.TransferOut{TransferID: transfer, ToLocation: to, Lines: lines})
}

// TransferIn receives a transfer.
func TransferIn(id, loc string, at time.Time, transfer, from string, lines ...event.Line) *event.Event {
	return envelope(id, event.TypeTransferIn, loc, at, &event.TransferIn{TransferID: transfer, FromLocation: from, Lines: lines})
}

// Order places an online order on a channel, fulfilled from loc.
func Order(id, loc string, at time.Time, order, channel string, lines ...event.Line) *event.Event {
	o := &event.OnlineOrder{OrderID: order, Channel: channel, Currency: "EUR"}
	for _, l := range lines {
		o.Lines = append(o.Lines, event.SaleLine{SKU: l.SKU, Quantity: l.Quantity, UnitPrice: 1000})
	}
	return envelope(id, event.TypeOnlineOrder, loc, at, o)
}

// Fulfil fulfils order lines from loc.
func Fulfil(id, loc string, at time.Time, order string, lines ...event.Line) *event.Event {
	return envelope(id, event.TypeFulfilment, loc, at, &event.Fulfilment{OrderID: order, Lines: lines})
}

// Cancel cancels an order.
func Cancel(id, loc string, at time.Time, order string) *event.Event {
	return envelope(id, event.TypeOrderCancel, loc, at, &event.OrderCancel{OrderID: order})
}

// Drawer records a drawer count.
func Drawer(id, loc string, at time.Time, counted int64) *event.Event {
	return envelope(id, event.TypeDrawerCount, loc, at, &event.DrawerCount{Register: "r1", Currency: "EUR", Counted: event.Amount(counted)})
}
