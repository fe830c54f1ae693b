package erp

import (
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

// Kind is the ERP record a document becomes.
type Kind string

// Document kinds. Connectors map each to their own record type (NetSuite
// cashSale, SAP sales order, Odoo pos.order, ERPNext Sales Invoice, …).
const (
	// CashSale is a completed till sale.
	CashSale Kind = "cash_sale"
	// CashRefund is money and goods returned; a post-void is a refund that
	// Reverses the voided sale's external ID.
	CashRefund Kind = "cash_refund"
	// InventoryAdjustment changes stock by signed quantities (adjustments,
	// goods received without a purchase order in the ERP).
	InventoryAdjustment Kind = "inventory_adjustment"
	// InventoryCount sets counted quantities.
	InventoryCount Kind = "inventory_count"
	// TransferOrder moves stock between locations.
	TransferOrder Kind = "transfer_order"
	// TransferReceipt books a transfer in at its destination.
	TransferReceipt Kind = "transfer_receipt"
	// SalesOrder is an online order; Fulfilment ships it; OrderCancel
	// closes what is left of it.
	SalesOrder  Kind = "sales_order"
	Fulfilment  Kind = "fulfilment"
	OrderCancel Kind = "order_cancel"
	// Summary is periodic totals per store and interval, by tender and tax
	// code: sanitized aggregates only.
	Summary Kind = "summary"
)

// Lane is a priority lane of the governor: stock-affecting postings go
// before financial summaries when the ERP is saturated.
type Lane int

// Lanes, highest priority first.
const (
	LaneStock Lane = iota
	LaneFinancial
	numLanes
)

// NumLanes is the number of priority lanes.
const NumLanes = int(numLanes)

// Document is one record to create in the ERP, in tillsync's terms.
type Document struct {
	Kind Kind `json:"kind"`
	// ExternalID identifies the record in the ERP (NetSuite externalId,
	// SAP/Odoo/ERPNext external reference); stable across redeliveries.
	ExternalID string `json:"external_id"`
	// Reverses is the external ID of the record a reversal undoes.
	Reverses string `json:"reverses,omitempty"`
	// Location is the store or warehouse; ToLocation the other side of a
	// transfer.
	Location   string `json:"location"`
	ToLocation string `json:"to_location,omitempty"`
	// Date is when it happened; LocalDate the store's own calendar day
	// (what accounting books it on).
	Date      time.Time `json:"date"`
	LocalDate string    `json:"local_date"`
	Currency  string    `json:"currency,omitempty"`
	Lines     []Line    `json:"lines,omitempty"`
	Payments  []Payment `json:"payments,omitempty"`
	Taxes     []TaxLine `json:"taxes,omitempty"`
	// Reference is the POS receipt number, order ID or transfer ID.
	Reference string `json:"reference,omitempty"`
	Memo      string `json:"memo,omitempty"`
	// EventIDs are the events this document carries: one in detail mode,
	// every event of the period in summary mode.
	EventIDs []string `json:"event_ids"`
	// Period bounds a summary.
	PeriodStart time.Time `json:"period_start,omitzero"`
	PeriodEnd   time.Time `json:"period_end,omitzero"`
}

// Line is an item line. Amount is the net line amount in minor units
// (after discounts, taxes included as the till priced them).
type Line struct {
	SKU      string    `json:"sku"`
	Quantity event.Qty `json:"quantity"`
	// Amount is the line total in minor units, 0 for stock-only records.
	Amount   int64  `json:"amount,omitempty"`
	Discount int64  `json:"discount,omitempty"`
	TaxCode  string `json:"tax_code,omitempty"`
	Tax      int64  `json:"tax,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// Payment is a tender total: never card numbers, only the kind, the amount
// and, for cards, the brand.
type Payment struct {
	Method string `json:"method"` // card, cash, gift_card, store_credit
	Brand  string `json:"brand,omitempty"`
	Amount int64  `json:"amount"`
	Tip    int64  `json:"tip,omitempty"`
}

// TaxLine is a tax total by code.
type TaxLine struct {
	Code   string `json:"code"`
	RateBP int64  `json:"rate_bp,omitempty"`
	Amount int64  `json:"amount"`
}

// Lane reports the governor lane a document travels in.
func (d *Document) Lane() Lane {
	if d.Kind == Summary {
		return LaneFinancial
	}
	return LaneStock
}
