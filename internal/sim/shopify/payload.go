package shopify

// Payload shapes of the REST resources Shopify's webhooks serialize, as the
// webhook reference shows them (https://shopify.dev/docs/api/webhooks); the
// doc examples they follow are in testdata/. IDs are uint64 and encode as
// JSON numbers, exactly, past 2^53; money is a decimal string in the shop's
// currency, as Shopify sends it.

type money struct {
	Amount       string `json:"amount"`
	CurrencyCode string `json:"currency_code"`
}

type moneySet struct {
	ShopMoney        money `json:"shop_money"`
	PresentmentMoney money `json:"presentment_money"`
}

type taxLine struct {
	ChannelLiable bool     `json:"channel_liable"`
	Price         string   `json:"price"`
	PriceSet      moneySet `json:"price_set"`
	Rate          float64  `json:"rate"`
	Title         string   `json:"title"`
}

type discountAllocation struct {
	Amount                   string   `json:"amount"`
	AmountSet                moneySet `json:"amount_set"`
	DiscountApplicationIndex int      `json:"discount_application_index"`
}

type discountApplication struct {
	TargetType       string `json:"target_type"`
	Type             string `json:"type"`
	Value            string `json:"value"`
	ValueType        string `json:"value_type"`
	AllocationMethod string `json:"allocation_method"`
	TargetSelection  string `json:"target_selection"`
	Code             string `json:"code,omitempty"`
	Title            string `json:"title,omitempty"`
	Description      string `json:"description,omitempty"`
}

type lineItem struct {
	ID                         uint64               `json:"id"`
	AdminGraphqlAPIID          string               `json:"admin_graphql_api_id"`
	CurrentQuantity            int64                `json:"current_quantity"`
	FulfillableQuantity        int64                `json:"fulfillable_quantity"`
	FulfillmentService         string               `json:"fulfillment_service"`
	FulfillmentStatus          *string              `json:"fulfillment_status"`
	GiftCard                   bool                 `json:"gift_card"`
	Grams                      int                  `json:"grams"`
	Name                       string               `json:"name"`
	Price                      string               `json:"price"`
	PriceSet                   moneySet             `json:"price_set"`
	ProductExists              bool                 `json:"product_exists"`
	ProductID                  uint64               `json:"product_id"`
	Properties                 []any                `json:"properties"`
	Quantity                   int64                `json:"quantity"`
	RequiresShipping           bool                 `json:"requires_shipping"`
	SKU                        string               `json:"sku"`
	Taxable                    bool                 `json:"taxable"`
	Title                      string               `json:"title"`
	TotalDiscount              string               `json:"total_discount"`
	VariantID                  uint64               `json:"variant_id"`
	VariantInventoryManagement string               `json:"variant_inventory_management"`
	VariantTitle               *string              `json:"variant_title"`
	Vendor                     *string              `json:"vendor"`
	TaxLines                   []taxLine            `json:"tax_lines"`
	Duties                     []any                `json:"duties"`
	DiscountAllocations        []discountAllocation `json:"discount_allocations"`
}

type order struct {
	ID                   uint64                `json:"id"`
	AdminGraphqlAPIID    string                `json:"admin_graphql_api_id"`
	CancelReason         *string               `json:"cancel_reason"`
	CancelledAt          *string               `json:"cancelled_at"`
	ClosedAt             *string               `json:"closed_at"`
	Confirmed            bool                  `json:"confirmed"`
	CreatedAt            string                `json:"created_at"`
	Currency             string                `json:"currency"`
	DeviceID             *uint64               `json:"device_id"`
	Email                string                `json:"email"`
	FinancialStatus      string                `json:"financial_status"`
	FulfillmentStatus    *string               `json:"fulfillment_status"`
	LocationID           *uint64               `json:"location_id"`
	Name                 string                `json:"name"`
	Note                 *string               `json:"note"`
	OrderNumber          int                   `json:"order_number"`
	PaymentGatewayNames  []string              `json:"payment_gateway_names"`
	PresentmentCurrency  string                `json:"presentment_currency"`
	ProcessedAt          string                `json:"processed_at"`
	SourceName           string                `json:"source_name"`
	SubtotalPrice        string                `json:"subtotal_price"`
	TaxesIncluded        bool                  `json:"taxes_included"`
	Test                 bool                  `json:"test"`
	TotalDiscounts       string                `json:"total_discounts"`
	TotalLineItemsPrice  string                `json:"total_line_items_price"`
	TotalPrice           string                `json:"total_price"`
	TotalTax             string                `json:"total_tax"`
	TotalTipReceived     string                `json:"total_tip_received"`
	UpdatedAt            string                `json:"updated_at"`
	UserID               *uint64               `json:"user_id"`
	DiscountApplications []discountApplication `json:"discount_applications"`
	Fulfillments         []any                 `json:"fulfillments"`
	LineItems            []lineItem            `json:"line_items"`
	Refunds              []any                 `json:"refunds"`
	ShippingLines        []any                 `json:"shipping_lines"`
}

type transaction struct {
	ID                uint64  `json:"id"`
	AdminGraphqlAPIID string  `json:"admin_graphql_api_id"`
	Amount            string  `json:"amount"`
	Authorization     *string `json:"authorization"`
	CreatedAt         string  `json:"created_at"`
	Currency          string  `json:"currency"`
	Gateway           string  `json:"gateway"`
	Kind              string  `json:"kind"`
	LocationID        *uint64 `json:"location_id"`
	OrderID           uint64  `json:"order_id"`
	ParentID          *uint64 `json:"parent_id"`
	ProcessedAt       string  `json:"processed_at"`
	SourceName        string  `json:"source_name"`
	Status            string  `json:"status"`
	Test              bool    `json:"test"`
}

type refundLineItem struct {
	ID          uint64   `json:"id"`
	LineItemID  uint64   `json:"line_item_id"`
	LocationID  *uint64  `json:"location_id"`
	Quantity    int64    `json:"quantity"`
	RestockType string   `json:"restock_type"`
	Subtotal    float64  `json:"subtotal"`
	SubtotalSet moneySet `json:"subtotal_set"`
	TotalTax    float64  `json:"total_tax"`
	TotalTaxSet moneySet `json:"total_tax_set"`
	LineItem    lineItem `json:"line_item"`
}

type refund struct {
	ID                uint64           `json:"id"`
	AdminGraphqlAPIID string           `json:"admin_graphql_api_id"`
	CreatedAt         string           `json:"created_at"`
	Note              *string          `json:"note"`
	OrderID           uint64           `json:"order_id"`
	ProcessedAt       string           `json:"processed_at"`
	UserID            *uint64          `json:"user_id"`
	Duties            []any            `json:"duties"`
	AdditionalFees    []any            `json:"additional_fees"`
	Return            any              `json:"return"`
	RefundLineItems   []refundLineItem `json:"refund_line_items"`
	Transactions      []transaction    `json:"transactions"`
	OrderAdjustments  []any            `json:"order_adjustments"`
}

type fulfillment struct {
	ID                uint64     `json:"id"`
	AdminGraphqlAPIID string     `json:"admin_graphql_api_id"`
	CreatedAt         string     `json:"created_at"`
	LineItems         []lineItem `json:"line_items"`
	LocationID        uint64     `json:"location_id"`
	Name              string     `json:"name"`
	OrderID           uint64     `json:"order_id"`
	OriginAddress     any        `json:"origin_address"`
	Receipt           struct{}   `json:"receipt"`
	Service           string     `json:"service"`
	ShipmentStatus    *string    `json:"shipment_status"`
	Status            string     `json:"status"`
	TrackingCompany   *string    `json:"tracking_company"`
	TrackingNumber    *string    `json:"tracking_number"`
	TrackingNumbers   []string   `json:"tracking_numbers"`
	TrackingURL       *string    `json:"tracking_url"`
	TrackingURLs      []string   `json:"tracking_urls"`
	UpdatedAt         string     `json:"updated_at"`
}

type inventoryLevel struct {
	InventoryItemID   uint64 `json:"inventory_item_id"`
	LocationID        uint64 `json:"location_id"`
	Available         int64  `json:"available"`
	UpdatedAt         string `json:"updated_at"`
	AdminGraphqlAPIID string `json:"admin_graphql_api_id"`
}

type inventoryItem struct {
	ID                uint64 `json:"id"`
	SKU               string `json:"sku"`
	CreatedAt         string `json:"created_at"`
	UpdatedAt         string `json:"updated_at"`
	RequiresShipping  bool   `json:"requires_shipping"`
	Cost              string `json:"cost"`
	Tracked           bool   `json:"tracked"`
	AdminGraphqlAPIID string `json:"admin_graphql_api_id"`
}
