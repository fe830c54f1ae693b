package shopify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The payload types below hold the part of Shopify's REST webhook payloads
// that the mapping reads; every other field is ignored. Shapes follow the
// webhook reference (https://shopify.dev/docs/api/webhooks) and the REST
// resources it serializes (Order, Refund, Fulfillment, InventoryLevel,
// InventoryItem, Product); doc-shaped examples live in testdata/.

// ID is a Shopify resource ID, kept as its decimal text. Shopify IDs are
// 64-bit integers that have long passed 2^53 (order and line item IDs of 18
// and 19 digits), so they are never decoded through float64: the JSON number
// text is taken as it is. A string form ("820982911946154508") and a GraphQL
// ID ("gid://shopify/Order/820982911946154508") are accepted too; null is the
// empty ID.
type ID string

// maxIDDigits bounds an ID: an unsigned 64-bit integer has at most 20 digits.
const maxIDDigits = 20

// UnmarshalJSON implements json.Unmarshaler.
func (id *ID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*id = ""
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		u, err := strconv.Unquote(s)
		if err != nil {
			return fmt.Errorf("ID %s is not a valid JSON string", s)
		}
		if i := strings.LastIndexByte(u, '/'); strings.HasPrefix(u, "gid://shopify/") && i >= 0 {
			u = u[i+1:]
		}
		s = u
	}
	if s == "" {
		*id = ""
		return nil
	}
	if len(s) > maxIDDigits || !digits(s) {
		return fmt.Errorf("ID %s is not a non-negative integer of at most %d digits", truncate(string(b)), maxIDDigits)
	}
	// Leading zeros would give one resource two spellings, and so two
	// canonical IDs.
	s = strings.TrimLeft(s, "0")
	if s == "" {
		s = "0"
	}
	*id = ID(s)
	return nil
}

// MarshalJSON writes the ID as a JSON number, as Shopify does.
func (id ID) MarshalJSON() ([]byte, error) {
	if id == "" {
		return []byte("null"), nil
	}
	return []byte(id), nil
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Decimal is a decimal amount as Shopify sends it: usually a string
// ("12.99"), in some places a JSON number (refund_line_items[].subtotal,
// tax_lines[].rate). The text is kept exactly and converted to integer minor
// units only once the currency is known (see minor), so 12.99 never passes
// through a float. null and "" are the empty Decimal.
type Decimal string

// UnmarshalJSON implements json.Unmarshaler.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*d = ""
	case len(b) > 0 && b[0] == '"':
		u, err := strconv.Unquote(string(b))
		if err != nil {
			return fmt.Errorf("amount %s is not a valid JSON string", truncate(string(b)))
		}
		*d = Decimal(u)
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		*d = Decimal(b)
	default:
		return fmt.Errorf("amount %s is neither a string nor a number", truncate(string(b)))
	}
	return nil
}

// errDecimal is wrapped by every malformed-amount error.
var errDecimal = errors.New("malformed decimal")

// minor converts a decimal text to integer minor units of a currency with
// exp decimal places, exactly: "12.99" with exp 2 is 1299, "1000" with exp 0
// is 1000, "10.0" with exp 2 is 1000. More significant decimals than the
// currency has ("12.999" in EUR, "1000.5" in JPY) is an error, never a
// rounding; so are exponents, signs other than a leading '-', and empty
// parts ("5.", ".5").
func minor(s string, exp int) (int64, error) {
	orig := s
	if s == "" {
		return 0, fmt.Errorf("%w: empty amount", errDecimal)
	}
	neg := false
	if s[0] == '-' {
		neg, s = true, s[1:]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if !digits(whole) || (hasDot && !digits(frac)) {
		return 0, fmt.Errorf("%w: %q is not a plain decimal number such as 12.99", errDecimal, truncate(orig))
	}
	trimmed := strings.TrimRight(frac, "0")
	if len(trimmed) > exp {
		return 0, fmt.Errorf("%w: %q has more decimal places than the currency's %d", errDecimal, truncate(orig), exp)
	}
	frac += strings.Repeat("0", exp)
	frac = frac[:exp]
	v, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is out of range", errDecimal, truncate(orig))
	}
	if neg {
		v = -v
	}
	return v, nil
}

// basisPoints converts a tax rate given as a fraction ("0.19", 0.0825) to
// basis points (1900, 825), rounding half away from zero past the fourth
// decimal (0.08875 is 888 bp): the rate is informative, the tax amount is
// what is booked and it is exact.
func basisPoints(s string) (int64, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if !digits(whole) || (frac != "" && !digits(frac)) || len(whole) > 6 {
		return 0, fmt.Errorf("%w: tax rate %q is not a plain decimal fraction such as 0.19", errDecimal, truncate(s))
	}
	frac += "00000"
	bp, _ := strconv.ParseInt(whole+frac[:4], 10, 64) // checked digits, bounded length
	if frac[4] >= '5' {
		bp++
	}
	return bp, nil
}

// truncate shortens echoed input in error messages.
func truncate(s string) string {
	const n = 40
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Money is one amount in one currency (a MoneyBag half).
type Money struct {
	Amount       Decimal `json:"amount"`
	CurrencyCode string  `json:"currency_code"`
}

// MoneySet is Shopify's MoneyBag: the amount in the shop's currency and in
// the currency the customer saw.
type MoneySet struct {
	ShopMoney        Money `json:"shop_money"`
	PresentmentMoney Money `json:"presentment_money"`
}

// shop returns the shop-currency amount, or the fallback when there is no
// set.
func (m *MoneySet) shop(fallback Decimal) Decimal {
	if m != nil && m.ShopMoney.Amount != "" {
		return m.ShopMoney.Amount
	}
	return fallback
}

// Order is the REST Order resource as orders/create, orders/paid and
// orders/cancelled deliver it.
type Order struct {
	ID          ID        `json:"id"`
	Name        string    `json:"name"`
	CreatedAt   time.Time `json:"created_at"`
	ProcessedAt time.Time `json:"processed_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	CancelledAt time.Time `json:"cancelled_at"`
	// CancelReason is customer, fraud, inventory, declined, staff or other.
	CancelReason string `json:"cancel_reason"`
	Currency     string `json:"currency"`
	// SourceName is where the order was placed: "web", "pos",
	// "shopify_draft_order", "iphone", "android" or an app's ID.
	SourceName string `json:"source_name"`
	// LocationID is the physical location of a POS order.
	LocationID ID `json:"location_id"`
	// DeviceID is the POS device (register); UserID the staff member.
	DeviceID            ID             `json:"device_id"`
	UserID              ID             `json:"user_id"`
	TaxesIncluded       bool           `json:"taxes_included"`
	TotalPrice          Decimal        `json:"total_price"`
	TotalTipReceived    Decimal        `json:"total_tip_received"`
	PaymentGatewayNames []string       `json:"payment_gateway_names"`
	LineItems           []LineItem     `json:"line_items"`
	ShippingLines       []ShippingLine `json:"shipping_lines"`
	// DiscountApplications explain the discount_allocations of the lines
	// (by index): their code, title or description is the reason.
	DiscountApplications []DiscountApplication `json:"discount_applications"`
	// Transactions are not part of the order webhook payload; a sender
	// that adds them (an app proxy, the simulator) gets exact tenders.
	Transactions []Transaction `json:"transactions"`
	Note         string        `json:"note"`
	Test         bool          `json:"test"`
}

// LineItem is an order line (also embedded in refunds and fulfillments,
// which is where their SKUs come from).
type LineItem struct {
	ID        ID     `json:"id"`
	VariantID ID     `json:"variant_id"`
	ProductID ID     `json:"product_id"`
	SKU       string `json:"sku"`
	Title     string `json:"title"`
	Name      string `json:"name"`
	Quantity  int64  `json:"quantity"`
	// Price is the unit price in the shop's currency, before discounts.
	Price               Decimal              `json:"price"`
	PriceSet            *MoneySet            `json:"price_set"`
	GiftCard            bool                 `json:"gift_card"`
	FulfillmentStatus   string               `json:"fulfillment_status"`
	DiscountAllocations []DiscountAllocation `json:"discount_allocations"`
	TaxLines            []TaxLine            `json:"tax_lines"`
}

// DiscountAllocation is the part of a discount application that fell on a
// line.
type DiscountAllocation struct {
	Amount                   Decimal   `json:"amount"`
	AmountSet                *MoneySet `json:"amount_set"`
	DiscountApplicationIndex int       `json:"discount_application_index"`
}

// DiscountApplication is an order-level discount: a code, a manual
// discount, an automatic discount or a script.
type DiscountApplication struct {
	Type        string `json:"type"`
	Code        string `json:"code"`
	Title       string `json:"title"`
	Description string `json:"description"`
}

// TaxLine is one tax on a line.
type TaxLine struct {
	Title    string    `json:"title"`
	Price    Decimal   `json:"price"`
	PriceSet *MoneySet `json:"price_set"`
	Rate     Decimal   `json:"rate"`
}

// ShippingLine is a shipping charge.
type ShippingLine struct {
	ID                  ID                   `json:"id"`
	Title               string               `json:"title"`
	Price               Decimal              `json:"price"`
	PriceSet            *MoneySet            `json:"price_set"`
	DiscountAllocations []DiscountAllocation `json:"discount_allocations"`
	TaxLines            []TaxLine            `json:"tax_lines"`
}

// Transaction is a payment, capture or refund.
type Transaction struct {
	ID ID `json:"id"`
	// Kind is authorization, capture, sale, void or refund.
	Kind string `json:"kind"`
	// Status is pending, failure, success or error.
	Status         string          `json:"status"`
	Gateway        string          `json:"gateway"`
	Amount         Decimal         `json:"amount"`
	Currency       string          `json:"currency"`
	LocationID     ID              `json:"location_id"`
	SourceName     string          `json:"source_name"`
	Authorization  string          `json:"authorization"`
	PaymentDetails *PaymentDetails `json:"payment_details"`
}

// PaymentDetails is the masked card a transaction used. Only the brand and
// the last four digits are kept; the BIN is never read.
type PaymentDetails struct {
	CreditCardCompany string `json:"credit_card_company"`
	CreditCardNumber  string `json:"credit_card_number"` // "•••• •••• •••• 4242"
}

// Refund is the REST Refund resource as refunds/create delivers it.
type Refund struct {
	ID          ID        `json:"id"`
	OrderID     ID        `json:"order_id"`
	CreatedAt   time.Time `json:"created_at"`
	ProcessedAt time.Time `json:"processed_at"`
	Note        string    `json:"note"`
	// Restock is the legacy whole-refund flag, read only when a line has no
	// restock_type.
	Restock          *bool             `json:"restock"`
	RefundLineItems  []RefundLineItem  `json:"refund_line_items"`
	Transactions     []Transaction     `json:"transactions"`
	OrderAdjustments []OrderAdjustment `json:"order_adjustments"`
}

// RefundLineItem is a refunded quantity of an order line, with the whole
// line item embedded (SKU included).
type RefundLineItem struct {
	ID         ID `json:"id"`
	LineItemID ID `json:"line_item_id"`
	// LocationID is where the item is restocked (null for no_restock).
	LocationID ID    `json:"location_id"`
	Quantity   int64 `json:"quantity"`
	// RestockType is no_restock, cancel, return or legacy_restock.
	RestockType string    `json:"restock_type"`
	Subtotal    Decimal   `json:"subtotal"`
	SubtotalSet *MoneySet `json:"subtotal_set"`
	TotalTax    Decimal   `json:"total_tax"`
	TotalTaxSet *MoneySet `json:"total_tax_set"`
	LineItem    LineItem  `json:"line_item"`
}

// OrderAdjustment is a refunded amount that is not a line: a shipping
// refund or a refund discrepancy.
type OrderAdjustment struct {
	ID     ID      `json:"id"`
	Kind   string  `json:"kind"`
	Amount Decimal `json:"amount"`
	Reason string  `json:"reason"`
}

// Fulfillment is the REST Fulfillment resource as fulfillments/create
// delivers it.
type Fulfillment struct {
	ID      ID `json:"id"`
	OrderID ID `json:"order_id"`
	// Status is pending, open, success, cancelled, error or failure.
	Status          string     `json:"status"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	LocationID      ID         `json:"location_id"`
	Name            string     `json:"name"`
	TrackingNumber  string     `json:"tracking_number"`
	TrackingNumbers []string   `json:"tracking_numbers"`
	LineItems       []LineItem `json:"line_items"`
}

// InventoryLevel is what inventory_levels/update delivers: the available
// quantity of one inventory item at one location.
type InventoryLevel struct {
	InventoryItemID ID `json:"inventory_item_id"`
	LocationID      ID `json:"location_id"`
	// Available is null when the item is not tracked.
	Available *int64    `json:"available"`
	UpdatedAt time.Time `json:"updated_at"`
}

// InventoryItem is what inventory_items/create and /update deliver: the
// item's SKU, which inventory level payloads lack.
type InventoryItem struct {
	ID        ID        `json:"id"`
	SKU       string    `json:"sku"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Product is what products/create and /update deliver; its variants name
// their inventory items and SKUs.
type Product struct {
	ID       ID        `json:"id"`
	Variants []Variant `json:"variants"`
}

// Variant is a product variant.
type Variant struct {
	ID              ID     `json:"id"`
	SKU             string `json:"sku"`
	InventoryItemID ID     `json:"inventory_item_id"`
}

// decode unmarshals a payload, ignoring fields the mapping does not read,
// and describes a failure by the field's path where encoding/json names it.
func decode(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			return fmt.Errorf("field %q must be a JSON %s, got %s", te.Field, te.Type, te.Value)
		case errors.As(err, &se):
			return fmt.Errorf("malformed JSON at byte %d: %w", se.Offset, err)
		}
		return fmt.Errorf("malformed payload: %w", err)
	}
	if rest := bytes.TrimLeft(body[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		return errors.New("malformed payload: unexpected data after the JSON object")
	}
	return nil
}
