package square

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// The shapes below are the parts of Square's objects this source reads;
// unknown fields are ignored, as Square adds fields in new versions.

// notification is the envelope of every webhook notification
// (https://developer.squareup.com/reference/square/webhooks/payment.created):
// merchant_id, type, event_id, created_at and data {type, id, object}.
type notification struct {
	MerchantID string `json:"merchant_id"`
	Type       string `json:"type"`
	EventID    string `json:"event_id"`
	CreatedAt  string `json:"created_at"`
	Data       struct {
		Type   string          `json:"type"`
		ID     string          `json:"id"`
		Object json.RawMessage `json:"object"`
	} `json:"data"`
}

// Webhook event types this source maps; others are acknowledged and
// dropped.
const (
	typePaymentCreated = "payment.created"
	typePaymentUpdated = "payment.updated"
	typeRefundCreated  = "refund.created"
	typeRefundUpdated  = "refund.updated"
	typeOrderCreated   = "order.created"
	typeOrderUpdated   = "order.updated"
	typeInventoryCount = "inventory.count.updated"
)

// money is Square's Money: an integer amount in the currency's smallest
// unit and an ISO 4217 code
// (https://developer.squareup.com/docs/build-basics/working-with-monetary-amounts).
type money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// payment is the payment object of payment.created/updated.
type payment struct {
	ID          string `json:"id"`
	Status      string `json:"status"` // APPROVED, PENDING, COMPLETED, CANCELED, FAILED
	OrderID     string `json:"order_id"`
	LocationID  string `json:"location_id"`
	SourceType  string `json:"source_type"`
	UpdatedAt   string `json:"updated_at"`
	AmountMoney *money `json:"amount_money"`
}

// refund is the PaymentRefund of refund.created/updated
// (https://developer.squareup.com/reference/square/webhooks/refund.updated).
type refund struct {
	ID          string `json:"id"`
	Status      string `json:"status"` // PENDING, COMPLETED, REJECTED, FAILED
	OrderID     string `json:"order_id"`
	PaymentID   string `json:"payment_id"`
	LocationID  string `json:"location_id"`
	Reason      string `json:"reason"`
	CreatedAt   string `json:"created_at"`
	UpdatedAt   string `json:"updated_at"`
	AmountMoney *money `json:"amount_money"`
}

// orderSummary is the object of order.created (order_created) and
// order.updated (order_updated): only the ID, version, location and state
// (https://developer.squareup.com/reference/square/webhooks/order.updated).
type orderSummary struct {
	OrderID    string `json:"order_id"`
	LocationID string `json:"location_id"`
	State      string `json:"state"`
	Version    int64  `json:"version"`
}

// inventoryCount is one InventoryCount of inventory.count.updated
// (https://developer.squareup.com/reference/square/webhooks/inventory.count.updated).
type inventoryCount struct {
	CatalogObjectID   string `json:"catalog_object_id"`
	CatalogObjectType string `json:"catalog_object_type"`
	State             string `json:"state"`
	LocationID        string `json:"location_id"`
	Quantity          string `json:"quantity"`
	CalculatedAt      string `json:"calculated_at"`
}

// order is Square's Order as RetrieveOrder returns it
// (https://developer.squareup.com/reference/square/orders-api/retrieve-order).
type order struct {
	ID                 string          `json:"id"`
	LocationID         string          `json:"location_id"`
	State              string          `json:"state"` // OPEN, COMPLETED, CANCELED, DRAFT
	CreatedAt          string          `json:"created_at"`
	UpdatedAt          string          `json:"updated_at"`
	ClosedAt           string          `json:"closed_at"`
	LineItems          []lineItem      `json:"line_items"`
	Taxes              []orderTax      `json:"taxes"`
	Discounts          []orderDiscount `json:"discounts"`
	ServiceCharges     []serviceCharge `json:"service_charges"`
	Fulfillments       []struct{}      `json:"fulfillments"`
	Returns            []orderReturn   `json:"returns"`
	Tenders            []tender        `json:"tenders"`
	Refunds            []orderRefund   `json:"refunds"`
	RoundingAdjustment *rounding       `json:"rounding_adjustment"`
	TotalMoney         *money          `json:"total_money"`
}

// lineItem is an OrderLineItem; a return line item (OrderReturnLineItem)
// has the same fields with gross_return_money for gross_sales_money.
type lineItem struct {
	UID                string            `json:"uid"`
	Name               string            `json:"name"`
	VariationName      string            `json:"variation_name"`
	CatalogObjectID    string            `json:"catalog_object_id"`
	ItemType           string            `json:"item_type"` // ITEM, CUSTOM_AMOUNT, GIFT_CARD
	Quantity           string            `json:"quantity"`
	BasePriceMoney     *money            `json:"base_price_money"`
	GrossSalesMoney    *money            `json:"gross_sales_money"`
	GrossReturnMoney   *money            `json:"gross_return_money"`
	TotalDiscountMoney *money            `json:"total_discount_money"`
	TotalTaxMoney      *money            `json:"total_tax_money"`
	TotalMoney         *money            `json:"total_money"`
	AppliedTaxes       []appliedTax      `json:"applied_taxes"`
	AppliedDiscounts   []appliedDiscount `json:"applied_discounts"`
}

type appliedTax struct {
	TaxUID       string `json:"tax_uid"`
	AppliedMoney *money `json:"applied_money"`
}

type appliedDiscount struct {
	DiscountUID  string `json:"discount_uid"`
	AppliedMoney *money `json:"applied_money"`
}

type orderTax struct {
	UID             string `json:"uid"`
	CatalogObjectID string `json:"catalog_object_id"`
	Name            string `json:"name"`
	Type            string `json:"type"` // ADDITIVE, INCLUSIVE
	Percentage      string `json:"percentage"`
}

type orderDiscount struct {
	UID             string `json:"uid"`
	CatalogObjectID string `json:"catalog_object_id"`
	Name            string `json:"name"`
}

// serviceCharge is an OrderServiceCharge (or OrderReturnServiceCharge):
// applied_money before its taxes, total_tax_money on it.
type serviceCharge struct {
	UID           string `json:"uid"`
	Name          string `json:"name"`
	AppliedMoney  *money `json:"applied_money"`
	TotalTaxMoney *money `json:"total_tax_money"`
	TotalMoney    *money `json:"total_money"`
}

type rounding struct {
	Name        string `json:"name"`
	AmountMoney *money `json:"amount_money"`
}

// tender is an order's Tender. Unlike a Payment's, its amount_money
// includes tip_money
// (https://developer.squareup.com/reference/square/objects/Tender).
type tender struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	PaymentID   string `json:"payment_id"`
	AmountMoney *money `json:"amount_money"`
	TipMoney    *money `json:"tip_money"`
	CardDetails *struct {
		Card *struct {
			CardBrand string `json:"card_brand"`
			Last4     string `json:"last_4"`
		} `json:"card"`
		EntryMethod string `json:"entry_method"`
	} `json:"card_details"`
}

// orderRefund is an order's Refund (status PENDING, APPROVED, REJECTED,
// FAILED; a PaymentRefund's COMPLETED is read as APPROVED).
type orderRefund struct {
	ID          string `json:"id"`
	TenderID    string `json:"tender_id"`
	Reason      string `json:"reason"`
	Status      string `json:"status"`
	AmountMoney *money `json:"amount_money"`
}

// orderReturn is one OrderReturn of a return order
// (https://developer.squareup.com/reference/square/objects/OrderReturn).
type orderReturn struct {
	UID                  string          `json:"uid"`
	SourceOrderID        string          `json:"source_order_id"`
	ReturnLineItems      []lineItem      `json:"return_line_items"`
	ReturnServiceCharges []serviceCharge `json:"return_service_charges"`
	ReturnTaxes          []orderTax      `json:"return_taxes"`
	ReturnDiscounts      []orderDiscount `json:"return_discounts"`
	RoundingAdjustment   *rounding       `json:"rounding_adjustment"`
}

// errMalformed marks a body that is not a Square notification.
var errMalformed = errors.New("malformed notification")

// decodeNotification decodes and checks a notification's envelope.
func decodeNotification(body []byte) (*notification, error) {
	var n notification
	if err := decodeJSON(body, &n); err != nil {
		return nil, err
	}
	switch {
	case n.EventID == "":
		return nil, fmt.Errorf("%w: event_id is missing", errMalformed)
	case n.Type == "":
		return nil, fmt.Errorf("%w: type is missing", errMalformed)
	}
	return &n, nil
}

// object decodes the notification's data.object member key into v.
func (n *notification) object(key string, v any) error {
	var obj map[string]json.RawMessage
	if err := decodeJSON(n.Data.Object, &obj); err != nil {
		return fmt.Errorf("data.object: %w", err)
	}
	raw, ok := obj[key]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return fmt.Errorf("%w: data.object.%s is missing", errMalformed, key)
	}
	if err := decodeJSON(raw, v); err != nil {
		return fmt.Errorf("data.object.%s: %w", key, err)
	}
	return nil
}

// decodeJSON decodes one JSON value; anything but whitespace after it is
// an error.
func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", errMalformed, err)
	}
	if len(bytes.TrimLeft(b[dec.InputOffset():], " \t\r\n")) > 0 {
		return fmt.Errorf("%w: data after the JSON value", errMalformed)
	}
	return nil
}
