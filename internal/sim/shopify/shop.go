// Package shopify simulates the webhook side of a Shopify shop: a scenario
// API that builds doc-shaped payloads (POS and web orders with 18–19 digit
// IDs, payments, fulfillments, refunds, cancellations, inventory levels) and
// an Emitter that delivers them as Shopify does — signed, with Shopify's
// headers, duplicated, out of order, and retried on failure on Shopify's
// schedule compressed in time.
//
// It must not import the source it exercises (internal/source/shopify): it
// speaks only the wire format.
package shopify

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tillsync/tillsync/internal/event"
)

// Delivery is one webhook as Shopify sends it: a topic, a JSON payload and
// the IDs that stay the same across retries.
type Delivery struct {
	Topic string
	Body  []byte
	// EventID is X-Shopify-Event-Id: the same for every delivery of one
	// event (retries and duplicates).
	EventID string
	// TriggeredAt is X-Shopify-Triggered-At: when the event happened;
	// retries keep it, and the payload as it was then.
	TriggeredAt time.Time
}

// Line is an item on an order: SKU, whole units and unit price in minor
// units of the shop's currency.
type Line struct {
	SKU   string
	Qty   int64
	Price int64
}

// Order is an order the shop created, for later fulfillments, refunds and
// cancellations.
type Order struct {
	ID       uint64
	Name     string
	POS      bool
	Location uint64 // 0 for a web order without one
	Lines    []OrderLine
	total    int64
}

// OrderLine is an order line with its Shopify IDs.
type OrderLine struct {
	ID        uint64
	VariantID uint64
	Line
}

// Config describes the simulated shop.
type Config struct {
	// Domain is the myshopify.com domain.
	Domain string
	// Currency is the shop's currency (EUR, USD, JPY, …).
	Currency string
	// Start is the shop's clock at the first event; each event advances it
	// by Step (default 1s) so times are distinct and ordered.
	Start time.Time
	Step  time.Duration
	// Zone is where the shop's timestamps are written (their offset);
	// default UTC.
	Zone *time.Location
}

// Shop builds deliveries. It is safe for concurrent use.
type Shop struct {
	cfg    Config
	exp    int
	mu     sync.Mutex
	clock  time.Time
	nextID uint64
	number int
	items  map[string]uint64 // SKU → inventory item ID
}

// idBase puts every generated ID past 2^53 (9007199254740992) and at 19
// digits: a float64 decoder would corrupt all of them.
const idBase = 5735166398293712345

// New returns a shop.
func New(cfg Config) *Shop {
	if cfg.Step <= 0 {
		cfg.Step = time.Second
	}
	if cfg.Zone == nil {
		cfg.Zone = time.UTC
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	}
	exp, ok := event.MinorUnits(cfg.Currency)
	if !ok {
		exp = 2
	}
	return &Shop{cfg: cfg, exp: exp, clock: cfg.Start, nextID: idBase, number: 1000, items: map[string]uint64{}}
}

// Domain returns the shop's domain.
func (s *Shop) Domain() string { return s.cfg.Domain }

func (s *Shop) id() uint64 {
	s.nextID += 7919 // a prime stride: IDs look unrelated, never collide
	return s.nextID
}

// tick advances the shop's clock and returns the new time.
func (s *Shop) tick() time.Time {
	s.clock = s.clock.Add(s.cfg.Step)
	return s.clock
}

func (s *Shop) ts(t time.Time) string { return t.In(s.cfg.Zone).Format(time.RFC3339) }

// Money formats minor units as Shopify does: "12.99" for EUR, "1000" for JPY.
func (s *Shop) Money(minor int64) string {
	if s.exp == 0 {
		return fmt.Sprint(minor)
	}
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	div := int64(1)
	for range s.exp {
		div *= 10
	}
	return fmt.Sprintf("%s%d.%0*d", sign, minor/div, s.exp, minor%div)
}

func (s *Shop) set(minor int64) moneySet {
	m := money{Amount: s.Money(minor), CurrencyCode: s.cfg.Currency}
	return moneySet{ShopMoney: m, PresentmentMoney: m}
}

func (s *Shop) delivery(topic string, at time.Time, v any) Delivery {
	body, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("sim/shopify: encode %s: %v", topic, err)) // plain structs: cannot fail
	}
	return Delivery{Topic: topic, Body: body, EventID: uuid(), TriggeredAt: at}
}

// uuid returns a random version 4 UUID, the form of Shopify's event and
// webhook IDs.
func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func ptr[T any](v T) *T { return &v }

// Item registers a SKU's inventory item and returns its inventory_items/create
// delivery (which carries the SKU that inventory level payloads lack).
func (s *Shop) Item(sku string) Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.tick()
	id := s.itemID(sku)
	return s.delivery("inventory_items/create", at, inventoryItem{
		ID: id, SKU: sku, CreatedAt: s.ts(at), UpdatedAt: s.ts(at), RequiresShipping: true, Cost: s.Money(480),
		Tracked: true, AdminGraphqlAPIID: fmt.Sprintf("gid://shopify/InventoryItem/%d", id),
	})
}

func (s *Shop) itemID(sku string) uint64 {
	id, ok := s.items[sku]
	if !ok {
		id = s.id()
		s.items[sku] = id
	}
	return id
}

func (s *Shop) lineItems(lines []Line, fulfilled bool) ([]OrderLine, []lineItem, int64) {
	var ols []OrderLine
	var lis []lineItem
	var total int64
	for _, l := range lines {
		ol := OrderLine{ID: s.id(), VariantID: s.id(), Line: l}
		ols = append(ols, ol)
		lis = append(lis, s.lineItem(ol, l.Qty, fulfilled))
		total += l.Qty * l.Price
	}
	return ols, lis, total
}

func (s *Shop) lineItem(ol OrderLine, qty int64, fulfilled bool) lineItem {
	li := lineItem{
		ID: ol.ID, AdminGraphqlAPIID: fmt.Sprintf("gid://shopify/LineItem/%d", ol.ID), CurrentQuantity: qty,
		FulfillableQuantity: qty, FulfillmentService: "manual", Name: "Product " + ol.SKU,
		Price: s.Money(ol.Price), PriceSet: s.set(ol.Price), ProductExists: true, ProductID: ol.VariantID - 1,
		Properties: []any{}, Quantity: qty, RequiresShipping: true, SKU: ol.SKU, Taxable: true,
		Title: "Product " + ol.SKU, TotalDiscount: s.Money(0), VariantID: ol.VariantID,
		VariantInventoryManagement: "shopify", TaxLines: []taxLine{}, Duties: []any{},
		DiscountAllocations: []discountAllocation{},
	}
	if fulfilled {
		li.FulfillableQuantity = 0
		li.FulfillmentStatus = ptr("fulfilled")
	}
	return li
}

// POSOrder is a sale at a till of a Shopify location: orders/create (source
// "pos") and, as POS hands the goods over at once, fulfillments/create.
func (s *Shop) POSOrder(location uint64, lines ...Line) (*Order, []Delivery) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.tick()
	ols, lis, total := s.lineItems(lines, true)
	o := &Order{ID: s.id(), POS: true, Location: location, Lines: ols, total: total}
	s.number++
	o.Name = fmt.Sprintf("#%d", s.number)
	body := s.order(o, at, lis)
	body.SourceName = "pos"
	body.LocationID = ptr(location)
	body.DeviceID = ptr(uint64(4711))
	body.UserID = ptr(uint64(9876543210987))
	body.PaymentGatewayNames = []string{"shopify_payments"}
	body.FinancialStatus = "paid"
	body.FulfillmentStatus = ptr("fulfilled")
	body.ClosedAt = ptr(s.ts(at))
	create := s.delivery("orders/create", at, body)
	ful := s.fulfillment(o, location, at, lis)
	return o, []Delivery{create, ful}
}

// WebOrder is an online store order awaiting fulfillment: orders/create
// (source "web", no location).
func (s *Shop) WebOrder(lines ...Line) (*Order, Delivery) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.tick()
	ols, lis, total := s.lineItems(lines, false)
	o := &Order{ID: s.id(), Lines: ols, total: total}
	s.number++
	o.Name = fmt.Sprintf("#%d", s.number)
	body := s.order(o, at, lis)
	body.SourceName = "web"
	body.PaymentGatewayNames = []string{"shopify_payments"}
	body.FinancialStatus = "authorized"
	body.Email = "jon@example.com"
	return o, s.delivery("orders/create", at, body)
}

func (s *Shop) order(o *Order, at time.Time, lis []lineItem) order {
	total := s.Money(o.total)
	return order{
		ID: o.ID, AdminGraphqlAPIID: fmt.Sprintf("gid://shopify/Order/%d", o.ID), Confirmed: true,
		CreatedAt: s.ts(at), ProcessedAt: s.ts(at), UpdatedAt: s.ts(at), Currency: s.cfg.Currency,
		PresentmentCurrency: s.cfg.Currency, Name: o.Name, OrderNumber: s.number,
		SubtotalPrice: total, TotalDiscounts: s.Money(0), TotalLineItemsPrice: total, TotalPrice: total,
		TotalTax: s.Money(0), TotalTipReceived: s.Money(0), TaxesIncluded: true,
		DiscountApplications: []discountApplication{}, Fulfillments: []any{}, LineItems: lis,
		Refunds: []any{}, ShippingLines: []any{},
	}
}

// Paid is orders/paid for an order.
func (s *Shop) Paid(o *Order) Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.tick()
	_, lis, _ := s.linesOf(o, nil, o.POS)
	body := s.order(o, at, lis)
	body.SourceName = sourceName(o)
	body.FinancialStatus = "paid"
	body.PaymentGatewayNames = []string{"shopify_payments"}
	return s.delivery("orders/paid", at, body)
}

func sourceName(o *Order) string {
	if o.POS {
		return "pos"
	}
	return "web"
}

// linesOf picks order lines by SKU with the given quantities (all lines,
// whole quantity, when want is nil).
func (s *Shop) linesOf(o *Order, want []Line, fulfilled bool) ([]OrderLine, []lineItem, error) {
	var ols []OrderLine
	var lis []lineItem
	if want == nil {
		for _, ol := range o.Lines {
			ols = append(ols, ol)
			lis = append(lis, s.lineItem(ol, ol.Qty, fulfilled))
		}
		return ols, lis, nil
	}
	for _, w := range want {
		found := false
		for _, ol := range o.Lines {
			if ol.SKU == w.SKU {
				ols = append(ols, OrderLine{ID: ol.ID, VariantID: ol.VariantID, Line: Line{SKU: ol.SKU, Qty: w.Qty, Price: ol.Price}})
				lis = append(lis, s.lineItem(ol, w.Qty, fulfilled))
				found = true
				break
			}
		}
		if !found {
			return nil, nil, fmt.Errorf("order %d has no line with SKU %q", o.ID, w.SKU)
		}
	}
	return ols, lis, nil
}

// Fulfil ships order lines (all when lines is empty; Line.Price is ignored)
// from a location: fulfillments/create.
func (s *Shop) Fulfil(o *Order, location uint64, lines ...Line) (Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.tick()
	_, lis, err := s.linesOf(o, nilIfEmpty(lines), true)
	if err != nil {
		return Delivery{}, err
	}
	return s.fulfillment(o, location, at, lis), nil
}

func nilIfEmpty(l []Line) []Line {
	if len(l) == 0 {
		return nil
	}
	return l
}

func (s *Shop) fulfillment(o *Order, location uint64, at time.Time, lis []lineItem) Delivery {
	id := s.id()
	tn := fmt.Sprintf("1Z%012d", id%1_000_000_000_000)
	return s.delivery("fulfillments/create", at, fulfillment{
		ID: id, AdminGraphqlAPIID: fmt.Sprintf("gid://shopify/Fulfillment/%d", id), CreatedAt: s.ts(at),
		LineItems: lis, LocationID: location, Name: o.Name + ".1", OrderID: o.ID, Service: "manual",
		Status: "success", TrackingCompany: ptr("UPS"), TrackingNumber: &tn, TrackingNumbers: []string{tn},
		TrackingURLs: []string{}, UpdatedAt: s.ts(at),
	})
}

// Restock types of a refund line
// (https://shopify.dev/docs/api/admin-graphql/latest/enums/RefundLineItemRestockType).
const (
	RestockReturn = "return"
	RestockCancel = "cancel"
	RestockNone   = "no_restock"
)

// Refund refunds order lines (all when lines is empty; Line.Price is
// ignored) with one restock type, restocking at location (ignored for
// no_restock), paid back by one refund transaction: refunds/create.
func (s *Shop) Refund(o *Order, location uint64, restockType string, lines ...Line) (Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.tick()
	ols, lis, err := s.linesOf(o, nilIfEmpty(lines), restockType != RestockCancel)
	if err != nil {
		return Delivery{}, err
	}
	id := s.id()
	var loc *uint64
	if restockType != RestockNone {
		loc = ptr(location)
	}
	var rlis []refundLineItem
	var total int64
	for i, ol := range ols {
		sub := ol.Qty * ol.Price
		total += sub
		rlis = append(rlis, refundLineItem{
			ID: s.id(), LineItemID: ol.ID, LocationID: loc, Quantity: ol.Qty, RestockType: restockType,
			Subtotal: float(sub, s.exp), SubtotalSet: s.set(sub), TotalTaxSet: s.set(0), LineItem: lis[i],
		})
	}
	tx := transaction{
		ID: s.id(), Amount: s.Money(total), CreatedAt: s.ts(at), Currency: s.cfg.Currency,
		Gateway: "shopify_payments", Kind: "refund", OrderID: o.ID, ProcessedAt: s.ts(at),
		SourceName: sourceName(o), Status: "success",
	}
	tx.AdminGraphqlAPIID = fmt.Sprintf("gid://shopify/OrderTransaction/%d", tx.ID)
	if o.POS {
		tx.LocationID = ptr(o.Location)
	}
	return s.delivery("refunds/create", at, refund{
		ID: id, AdminGraphqlAPIID: fmt.Sprintf("gid://shopify/Refund/%d", id), CreatedAt: s.ts(at),
		OrderID: o.ID, ProcessedAt: s.ts(at), Duties: []any{}, AdditionalFees: []any{},
		RefundLineItems: rlis, Transactions: []transaction{tx}, OrderAdjustments: []any{},
	}), nil
}

// float renders minor units as the JSON number Shopify uses for
// refund_line_items[].subtotal (e.g. 11.99). Only the sim writes it; the
// source reads subtotal_set's string first.
func float(minor int64, exp int) float64 {
	f := float64(minor)
	for range exp {
		f /= 10
	}
	return f
}

// Cancel cancels an order: orders/cancelled.
func (s *Shop) Cancel(o *Order, reason string) Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.tick()
	_, lis, _ := s.linesOf(o, nil, o.POS)
	body := s.order(o, at, lis)
	body.SourceName = sourceName(o)
	body.CancelReason = ptr(reason)
	body.CancelledAt = ptr(s.ts(at))
	body.FinancialStatus = "voided"
	if o.POS {
		body.LocationID = ptr(o.Location)
	}
	return s.delivery("orders/cancelled", at, body)
}

// Level is inventory_levels/update: the available quantity of a SKU at a
// location, as of the shop's clock.
func (s *Shop) Level(sku string, location uint64, available int64) Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.tick()
	item := s.itemID(sku)
	return s.delivery("inventory_levels/update", at, inventoryLevel{
		InventoryItemID: item, LocationID: location, Available: available, UpdatedAt: s.ts(at),
		AdminGraphqlAPIID: fmt.Sprintf("gid://shopify/InventoryLevel/%d?inventory_item_id=%d", location, item),
	})
}

// ShortDomain is the shop's name without ".myshopify.com".
func (s *Shop) ShortDomain() string { return strings.TrimSuffix(s.cfg.Domain, ".myshopify.com") }
