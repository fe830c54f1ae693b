package square

// The simulator's own copy of Square's wire shapes, written from Square's
// API reference and kept apart from the source's decoding structs on
// purpose: a misreading of the docs on one side is caught by the other.
// testdata/ holds Square's documented example payloads; shape_test.go
// checks that what the simulator sends has no field they lack.

// Money is an amount in the currency's smallest unit.
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// Order is a Square Order
// (https://developer.squareup.com/reference/square/objects/Order).
type Order struct {
	ID                      string      `json:"id"`
	LocationID              string      `json:"location_id"`
	Source                  *Source     `json:"source,omitempty"`
	LineItems               []LineItem  `json:"line_items,omitempty"`
	Taxes                   []Tax       `json:"taxes,omitempty"`
	Returns                 []Return    `json:"returns,omitempty"`
	ReturnAmounts           *Amounts    `json:"return_amounts,omitempty"`
	Tenders                 []Tender    `json:"tenders,omitempty"`
	Refunds                 []Refund    `json:"refunds,omitempty"`
	Fulfillments            []Fulfilled `json:"fulfillments,omitempty"`
	CreatedAt               string      `json:"created_at"`
	UpdatedAt               string      `json:"updated_at"`
	State                   string      `json:"state"`
	Version                 int64       `json:"version"`
	TotalTaxMoney           Money       `json:"total_tax_money"`
	TotalDiscountMoney      Money       `json:"total_discount_money"`
	TotalTipMoney           Money       `json:"total_tip_money"`
	TotalMoney              Money       `json:"total_money"`
	ClosedAt                string      `json:"closed_at,omitempty"`
	TotalServiceChargeMoney Money       `json:"total_service_charge_money"`
}

// Source names where an order came from.
type Source struct {
	Name string `json:"name"`
}

// Fulfilled is an order fulfillment (pickup, shipment); the simulator only
// records that one exists.
type Fulfilled struct {
	UID   string `json:"uid"`
	Type  string `json:"type"`
	State string `json:"state"`
}

// LineItem is an OrderLineItem.
type LineItem struct {
	UID                      string       `json:"uid"`
	Name                     string       `json:"name"`
	Quantity                 string       `json:"quantity"`
	CatalogObjectID          string       `json:"catalog_object_id,omitempty"`
	VariationName            string       `json:"variation_name,omitempty"`
	ItemType                 string       `json:"item_type"`
	AppliedTaxes             []AppliedTax `json:"applied_taxes,omitempty"`
	BasePriceMoney           Money        `json:"base_price_money"`
	VariationTotalPriceMoney Money        `json:"variation_total_price_money"`
	GrossSalesMoney          Money        `json:"gross_sales_money"`
	TotalTaxMoney            Money        `json:"total_tax_money"`
	TotalDiscountMoney       Money        `json:"total_discount_money"`
	TotalMoney               Money        `json:"total_money"`
	TotalServiceChargeMoney  Money        `json:"total_service_charge_money"`
}

// AppliedTax is a tax applied to a line.
type AppliedTax struct {
	UID          string `json:"uid"`
	TaxUID       string `json:"tax_uid"`
	AppliedMoney Money  `json:"applied_money"`
}

// Tax is an OrderLineItemTax (or OrderReturnTax).
type Tax struct {
	UID             string `json:"uid"`
	CatalogObjectID string `json:"catalog_object_id,omitempty"`
	Name            string `json:"name"`
	Type            string `json:"type"`
	Percentage      string `json:"percentage"`
	AppliedMoney    Money  `json:"applied_money"`
	Scope           string `json:"scope"`
}

// Tender is an order's Tender; amount_money includes tip_money.
type Tender struct {
	ID            string      `json:"id"`
	LocationID    string      `json:"location_id"`
	TransactionID string      `json:"transaction_id"`
	CreatedAt     string      `json:"created_at"`
	AmountMoney   Money       `json:"amount_money"`
	TipMoney      *Money      `json:"tip_money,omitempty"`
	Type          string      `json:"type"`
	CardDetails   *TenderCard `json:"card_details,omitempty"`
	CashDetails   *TenderCash `json:"cash_details,omitempty"`
	PaymentID     string      `json:"payment_id,omitempty"`
}

// TenderCard is TenderCardDetails.
type TenderCard struct {
	Status      string `json:"status"`
	Card        Card   `json:"card"`
	EntryMethod string `json:"entry_method"`
}

// TenderCash is TenderCashDetails.
type TenderCash struct {
	BuyerTenderedMoney Money `json:"buyer_tendered_money"`
	ChangeBackMoney    Money `json:"change_back_money"`
}

// Card is a card's non-confidential details as Square shows them — which
// still include the BIN and expiry: a source must not keep them.
type Card struct {
	CardBrand   string `json:"card_brand"`
	Last4       string `json:"last_4"`
	ExpMonth    int    `json:"exp_month,omitempty"`
	ExpYear     int    `json:"exp_year,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	CardType    string `json:"card_type,omitempty"`
	Bin         string `json:"bin,omitempty"`
}

// CardDetails is a Payment's card_details.
type CardDetails struct {
	Status         string `json:"status"`
	Card           Card   `json:"card"`
	EntryMethod    string `json:"entry_method"`
	CvvStatus      string `json:"cvv_status,omitempty"`
	AvsStatus      string `json:"avs_status,omitempty"`
	AuthResultCode string `json:"auth_result_code,omitempty"`
}

// Refund is an order's Refund.
type Refund struct {
	ID            string `json:"id"`
	LocationID    string `json:"location_id"`
	TransactionID string `json:"transaction_id"`
	TenderID      string `json:"tender_id"`
	CreatedAt     string `json:"created_at"`
	Reason        string `json:"reason"`
	AmountMoney   Money  `json:"amount_money"`
	Status        string `json:"status"`
}

// Return is an OrderReturn.
type Return struct {
	UID             string           `json:"uid"`
	SourceOrderID   string           `json:"source_order_id"`
	ReturnLineItems []ReturnLineItem `json:"return_line_items"`
	ReturnTaxes     []Tax            `json:"return_taxes,omitempty"`
}

// ReturnLineItem is an OrderReturnLineItem.
type ReturnLineItem struct {
	UID                      string       `json:"uid"`
	SourceLineItemUID        string       `json:"source_line_item_uid"`
	Name                     string       `json:"name"`
	Quantity                 string       `json:"quantity"`
	CatalogObjectID          string       `json:"catalog_object_id,omitempty"`
	VariationName            string       `json:"variation_name,omitempty"`
	ItemType                 string       `json:"item_type"`
	AppliedTaxes             []AppliedTax `json:"applied_taxes,omitempty"`
	BasePriceMoney           Money        `json:"base_price_money"`
	VariationTotalPriceMoney Money        `json:"variation_total_price_money"`
	GrossReturnMoney         Money        `json:"gross_return_money"`
	TotalTaxMoney            Money        `json:"total_tax_money"`
	TotalDiscountMoney       Money        `json:"total_discount_money"`
	TotalMoney               Money        `json:"total_money"`
	TotalServiceChargeMoney  Money        `json:"total_service_charge_money"`
}

// Amounts is OrderMoneyAmounts.
type Amounts struct {
	TotalMoney         Money `json:"total_money"`
	TaxMoney           Money `json:"tax_money"`
	DiscountMoney      Money `json:"discount_money"`
	TipMoney           Money `json:"tip_money"`
	ServiceChargeMoney Money `json:"service_charge_money"`
}

// Payment is a Payment as payment.* notifications carry it; amount_money
// excludes the tip, total_money includes it.
type Payment struct {
	ID            string       `json:"id"`
	CreatedAt     string       `json:"created_at"`
	UpdatedAt     string       `json:"updated_at"`
	AmountMoney   Money        `json:"amount_money"`
	TipMoney      *Money       `json:"tip_money,omitempty"`
	TotalMoney    Money        `json:"total_money"`
	ApprovedMoney Money        `json:"approved_money"`
	RefundedMoney *Money       `json:"refunded_money,omitempty"`
	Status        string       `json:"status"`
	SourceType    string       `json:"source_type"`
	CardDetails   *CardDetails `json:"card_details,omitempty"`
	LocationID    string       `json:"location_id"`
	OrderID       string       `json:"order_id"`
	RefundIDs     []string     `json:"refund_ids,omitempty"`
	ReceiptNumber string       `json:"receipt_number"`
	VersionToken  string       `json:"version_token"`
}

// PaymentRefund is the refund of refund.* notifications.
type PaymentRefund struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	AmountMoney Money  `json:"amount_money"`
	PaymentID   string `json:"payment_id"`
	OrderID     string `json:"order_id"`
	LocationID  string `json:"location_id"`
	Reason      string `json:"reason,omitempty"`
	CreatedAt   string `json:"created_at"`
	UpdatedAt   string `json:"updated_at"`
}

// OrderEvent is the object of order.created (order_created) and
// order.updated (order_updated).
type OrderEvent struct {
	OrderID    string `json:"order_id"`
	Version    int64  `json:"version"`
	LocationID string `json:"location_id"`
	State      string `json:"state"`
	CreatedAt  string `json:"created_at"`
	UpdatedAt  string `json:"updated_at,omitempty"`
}

// InventoryCount is one count of inventory.count.updated.
type InventoryCount struct {
	CatalogObjectID   string `json:"catalog_object_id"`
	CatalogObjectType string `json:"catalog_object_type"`
	State             string `json:"state"`
	LocationID        string `json:"location_id"`
	Quantity          string `json:"quantity"`
	CalculatedAt      string `json:"calculated_at"`
}

// Envelope is a webhook notification.
type Envelope struct {
	MerchantID string `json:"merchant_id"`
	Type       string `json:"type"`
	EventID    string `json:"event_id"`
	CreatedAt  string `json:"created_at"`
	Data       Data   `json:"data"`
}

// Data is a notification's data.
type Data struct {
	Type   string         `json:"type"`
	ID     string         `json:"id"`
	Object map[string]any `json:"object"`
}

// APIErrors is the body of an API error answer
// (https://developer.squareup.com/docs/build-basics/handling-errors).
type APIErrors struct {
	Errors []APIError `json:"errors"`
}

// APIError is one entry of it.
type APIError struct {
	Category string `json:"category"`
	Code     string `json:"code"`
	Detail   string `json:"detail,omitempty"`
	Field    string `json:"field,omitempty"`
}
