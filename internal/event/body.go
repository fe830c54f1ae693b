package event

// Line is one SKU and quantity, the unit every stock movement is made of.
type Line struct {
	SKU      string `json:"sku"`
	Quantity Qty    `json:"quantity"`
	// Code is the code as the till scanned or keyed it, set only when the
	// hub's SKU mapping rewrote SKU to a catalog SKU.
	Code string `json:"code,omitempty"`
}

// SaleLine is an item sold (or returned) at a price.
type SaleLine struct {
	LineID string `json:"line_id,omitempty"`
	SKU    string `json:"sku"`
	// Code is the code as the till scanned or keyed it, set only when the
	// hub's SKU mapping rewrote SKU to a catalog SKU.
	Code        string `json:"code,omitempty"`
	Description string `json:"description,omitempty"`
	Quantity    Qty    `json:"quantity"`
	// UnitPrice is the price of one unit (or one kilogram) in minor units.
	UnitPrice Amount `json:"unit_price"`
	// Amount, when the POS sends it, is the extended price before discounts
	// as the till computed it (weighed goods); otherwise it is
	// Quantity × UnitPrice rounded half away from zero.
	Amount    *Amount    `json:"amount,omitempty"`
	Discounts []Discount `json:"discounts,omitempty"`
	Taxes     []Tax      `json:"taxes,omitempty"`
	// Restock, on returns only, says whether the item goes back on the shelf;
	// it defaults to true.
	Restock *bool `json:"restock,omitempty"`
}

// Discount is a reduction on a line, with the cashier's free-text reason.
type Discount struct {
	Amount Amount `json:"amount"`
	Reason string `json:"reason,omitempty"`
	Code   string `json:"code,omitempty"`
}

// Tax is a tax on a line. Included taxes are part of the price already.
type Tax struct {
	Code     string `json:"code,omitempty"`
	RateBP   int64  `json:"rate_bp,omitempty"` // basis points: 1900 = 19 %
	Amount   Amount `json:"amount"`
	Included bool   `json:"included,omitempty"`
}

// TenderKind is how a customer paid.
type TenderKind string

// Tender kinds.
const (
	TenderCard        TenderKind = "card"
	TenderCash        TenderKind = "cash"
	TenderGiftCard    TenderKind = "gift_card"
	TenderStoreCredit TenderKind = "store_credit"
)

// Tender is one payment on a sale or refund on a return. Amount excludes the
// tip; Tip is paid on top.
type Tender struct {
	Kind      TenderKind `json:"kind"`
	Amount    Amount     `json:"amount"`
	Tip       Amount     `json:"tip,omitempty"`
	Reference string     `json:"reference,omitempty"`
	Card      *Card      `json:"card,omitempty"`
}

// Card holds the only card data tillsync keeps past the first hop: never a
// PAN, never sensitive authentication data.
type Card struct {
	Brand    string `json:"brand,omitempty"`
	Last4    string `json:"last4,omitempty"`
	AuthCode string `json:"auth_code,omitempty"`
	Entry    string `json:"entry,omitempty"` // chip, contactless, swipe, keyed, online
}

// Sale is a completed sale at a till.
type Sale struct {
	ReceiptNumber string     `json:"receipt_number,omitempty"`
	Register      string     `json:"register,omitempty"`
	Cashier       string     `json:"cashier,omitempty"`
	Currency      string     `json:"currency"`
	Lines         []SaleLine `json:"lines"`
	Tenders       []Tender   `json:"tenders"`
	Notes         string     `json:"notes,omitempty"`
	// OrderID links a till sale to an online order it settles, if any.
	OrderID string `json:"order_id,omitempty"`
}

// Type implements Body.
func (*Sale) Type() Type { return TypeSale }

// Return is goods brought back, with the refund paid.
type Return struct {
	// OriginalEventID and OriginalReceipt refer to the sale, when known.
	OriginalEventID string     `json:"original_event_id,omitempty"`
	OriginalReceipt string     `json:"original_receipt,omitempty"`
	ReceiptNumber   string     `json:"receipt_number,omitempty"`
	Register        string     `json:"register,omitempty"`
	Cashier         string     `json:"cashier,omitempty"`
	Currency        string     `json:"currency"`
	Lines           []SaleLine `json:"lines"`
	Tenders         []Tender   `json:"tenders"`
	Reason          string     `json:"reason,omitempty"`
	Notes           string     `json:"notes,omitempty"`
}

// Type implements Body.
func (*Return) Type() Type { return TypeReturn }

// Void cancels an earlier sale or return in full (a post-void): its stock
// movements are reversed at the time of the void.
type Void struct {
	VoidedEventID string `json:"voided_event_id"`
	Register      string `json:"register,omitempty"`
	Cashier       string `json:"cashier,omitempty"`
	Reason        string `json:"reason,omitempty"`
}

// Type implements Body.
func (*Void) Type() Type { return TypeVoid }

// Adjustment changes stock on hand by signed quantities for a reason
// (damage, theft, found, correction).
type Adjustment struct {
	Reason string `json:"reason"`
	Lines  []Line `json:"lines"`
	Notes  string `json:"notes,omitempty"`
}

// Type implements Body.
func (*Adjustment) Type() Type { return TypeAdjustment }

// Receipt is goods received from a supplier.
type Receipt struct {
	Supplier      string `json:"supplier,omitempty"`
	PurchaseOrder string `json:"purchase_order,omitempty"`
	Lines         []Line `json:"lines"`
}

// Type implements Body.
func (*Receipt) Type() Type { return TypeReceipt }

// TransferOut is stock leaving this location for another; it is in transit
// at the destination until the matching TransferIn.
type TransferOut struct {
	TransferID string `json:"transfer_id"`
	ToLocation string `json:"to_location"`
	Lines      []Line `json:"lines"`
}

// Type implements Body.
func (*TransferOut) Type() Type { return TypeTransferOut }

// TransferIn is stock arriving from another location.
type TransferIn struct {
	TransferID   string `json:"transfer_id"`
	FromLocation string `json:"from_location"`
	Lines        []Line `json:"lines"`
}

// Type implements Body.
func (*TransferIn) Type() Type { return TypeTransferIn }

// StockCount is an absolute count of SKUs on hand at OccurredAt. Movements
// after that time still apply on top of it.
type StockCount struct {
	Lines []Line `json:"lines"`
	// CountID names the count session, if any.
	CountID string `json:"count_id,omitempty"`
}

// Type implements Body.
func (*StockCount) Type() Type { return TypeStockCount }

// DrawerCount is the cash counted in one register's drawer.
type DrawerCount struct {
	Register string  `json:"register"`
	Cashier  string  `json:"cashier,omitempty"`
	Currency string  `json:"currency"`
	Counted  Amount  `json:"counted"`
	Expected *Amount `json:"expected,omitempty"`
}

// Type implements Body.
func (*DrawerCount) Type() Type { return TypeDrawerCount }

// OnlineOrder is an order from a sales channel; it reserves stock at the
// event's location until fulfilled or cancelled.
type OnlineOrder struct {
	OrderID  string     `json:"order_id"`
	Channel  string     `json:"channel"`
	Currency string     `json:"currency"`
	Lines    []SaleLine `json:"lines"`
}

// Type implements Body.
func (*OnlineOrder) Type() Type { return TypeOnlineOrder }

// Fulfilment ships (or hands over) order lines: the reservation becomes a
// sale and stock leaves the location.
type Fulfilment struct {
	OrderID      string `json:"order_id"`
	FulfilmentID string `json:"fulfilment_id,omitempty"`
	Lines        []Line `json:"lines"`
	TrackingRef  string `json:"tracking_ref,omitempty"`
}

// Type implements Body.
func (*Fulfilment) Type() Type { return TypeFulfilment }

// OrderCancel releases what is still reserved for an order.
type OrderCancel struct {
	OrderID string `json:"order_id"`
	Reason  string `json:"reason,omitempty"`
}

// Type implements Body.
func (*OrderCancel) Type() Type { return TypeOrderCancel }
