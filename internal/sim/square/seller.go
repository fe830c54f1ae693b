package square

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure a simulated seller.
type Options struct {
	// SignatureKey and NotificationURL are the webhook subscription's
	// signature key and URL: every notification is signed over them.
	SignatureKey    string
	NotificationURL string
	// AccessToken is the bearer token the API accepts.
	AccessToken string
	MerchantID  string // default "MLEFBHHSJGVHD"
	Currency    string // default "USD"
	// Versions are the Square-Version values the API knows; empty: any
	// well-formed date. RequireVersion refuses requests without the
	// header (real Square falls back to the application's pinned version;
	// requiring it catches clients that forget to pin).
	Versions       []string
	RequireVersion bool
	// RatePerSecond limits API calls (0: unlimited), in bursts of Burst
	// (default 1). Square does not publish its limits.
	RatePerSecond float64
	Burst         int
	// Start is the simulated clock's start (default 2026-11-27T09:00:00Z);
	// every action advances it by a second.
	Start time.Time
	Seed  uint64
}

// Item is a catalog item variation.
type Item struct {
	CatalogObjectID string
	Name            string
	Variation       string
	// Price is the base price in minor units.
	Price int64
	// TaxBP is an additive tax rate in basis points (725 = 7.25 %), 0 for
	// none.
	TaxBP int64
}

// Line is one line of a sale or return: a catalog item and a decimal
// quantity ("2", "0.250").
type Line struct {
	CatalogObjectID string
	Quantity        string
}

// Sale describes a sale to simulate.
type Sale struct {
	LocationID string
	Lines      []Line
	// Tender is CARD (default) or CASH.
	Tender string
	// Tip is added on top (card only).
	Tip int64
}

// Notification is one webhook notification as Square would POST it.
type Notification struct {
	EventID string
	Type    string
	Body    []byte
}

// Stats counts API traffic.
type Stats struct {
	Requests     int
	Served       int
	Throttled    int
	Unauthorized int
	BadVersion   int
	NotFound     int
}

type stockKey struct{ location, catalogID string }

// Seller is a simulated Square seller account.
type Seller struct {
	opt Options

	mu       sync.Mutex
	rng      *rand.Rand
	clock    time.Time
	items    map[string]Item
	orders   map[string]*Order
	payments map[string]*Payment
	refunds  map[string]*PaymentRefund
	stock    map[stockKey]int64 // thousandths
	queue    []Notification
	stats    Stats
	// forced 429s for the next API calls; token bucket for the rate.
	throttle int
	tokens   float64
	last     time.Time
}

// New returns a seller with no items and no stock.
func New(opt Options) *Seller {
	if opt.MerchantID == "" {
		opt.MerchantID = "MLEFBHHSJGVHD"
	}
	if opt.Currency == "" {
		opt.Currency = "USD"
	}
	if opt.Start.IsZero() {
		opt.Start = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	}
	if opt.Burst <= 0 {
		opt.Burst = 1
	}
	return &Seller{opt: opt, rng: rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15)), //nolint:gosec // simulation
		clock: opt.Start, items: map[string]Item{}, orders: map[string]*Order{}, payments: map[string]*Payment{},
		refunds: map[string]*PaymentRefund{}, stock: map[stockKey]int64{}, tokens: float64(opt.Burst)}
}

// Sign returns Square's webhook signature: base64(HMAC-SHA256(key,
// notification URL + body))
// (https://developer.squareup.com/docs/webhooks/step3validate).
func Sign(key, notificationURL string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(notificationURL))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// AddItem adds a catalog item variation.
func (s *Seller) AddItem(it Item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items[it.CatalogObjectID] = it
}

// Order returns a copy of an order (for tests).
func (s *Seller) Order(id string) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return Order{}, false
	}
	return *o, true
}

// Stock returns the stock of an item at a location as a decimal string.
func (s *Seller) Stock(location, catalogID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return qtyString(s.stock[stockKey{location, catalogID}])
}

// Stats returns the API counters.
func (s *Seller) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Drain returns the notifications queued so far, in the order Square
// would first send them, and clears the queue.
func (s *Seller) Drain() []Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queue
	s.queue = nil
	return q
}

// Throttle makes the next n API calls fail with 429 RATE_LIMITED.
func (s *Seller) Throttle(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle += n
}

// SetStock records a physical count: stock of an item at a location
// becomes qty (a decimal string) and inventory.count.updated is queued.
func (s *Seller) SetStock(location, catalogID, qty string) error {
	q, err := parseQty(qty)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.tick()
	s.stock[stockKey{location, catalogID}] = q
	s.queueLocked("inventory.count.updated", "inventory", s.newUUID(), map[string]any{
		"inventory_counts": []InventoryCount{s.countLocked(location, catalogID, "IN_STOCK", q, now)},
	})
	return nil
}

// Sell opens an order and pays it: order.created, payment.created,
// payment.updated, order.updated and inventory.count.updated are queued.
// It returns the order's ID.
func (s *Seller) Sell(sale Sale) (string, error) {
	id, err := s.Open(sale)
	if err != nil {
		return "", err
	}
	return id, s.Pay(id)
}

// Open creates an OPEN order for a sale and queues order.created and, for a
// card sale, payment.created with the payment authorized (APPROVED).
func (s *Seller) Open(sale Sale) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(sale.Lines) == 0 {
		return "", fmt.Errorf("a sale needs lines")
	}
	now := s.tick()
	o := &Order{ID: s.newID(29), LocationID: sale.LocationID, Source: &Source{Name: "Square Point of Sale"},
		CreatedAt: ts(now), UpdatedAt: ts(now), State: "OPEN", Version: 1}
	taxes := map[int64]string{}
	for _, l := range sale.Lines {
		it, ok := s.items[l.CatalogObjectID]
		if !ok {
			return "", fmt.Errorf("no catalog item %q", l.CatalogObjectID)
		}
		q, err := parseQty(l.Quantity)
		if err != nil || q <= 0 {
			return "", fmt.Errorf("quantity %q: must be a positive decimal", l.Quantity)
		}
		li := LineItem{UID: s.newID(22), Name: it.Name, Quantity: l.Quantity, CatalogObjectID: it.CatalogObjectID,
			VariationName: it.Variation, ItemType: "ITEM", BasePriceMoney: s.money(it.Price),
			VariationTotalPriceMoney: s.money(it.Price)}
		gross := mulQty(it.Price, q)
		var tax int64
		if it.TaxBP > 0 {
			uid, ok := taxes[it.TaxBP]
			if !ok {
				uid = s.newID(22)
				taxes[it.TaxBP] = uid
				o.Taxes = append(o.Taxes, Tax{UID: uid, Name: "Sales tax " + percent(it.TaxBP), Type: "ADDITIVE",
					Percentage: percent(it.TaxBP), Scope: "LINE_ITEM"})
			}
			tax = roundDiv(gross*it.TaxBP, 10000)
			li.AppliedTaxes = []AppliedTax{{UID: s.newID(22), TaxUID: uid, AppliedMoney: s.money(tax)}}
		}
		li.GrossSalesMoney, li.TotalTaxMoney, li.TotalDiscountMoney = s.money(gross), s.money(tax), s.money(0)
		li.TotalMoney, li.TotalServiceChargeMoney = s.money(gross+tax), s.money(0)
		o.LineItems = append(o.LineItems, li)
		o.TotalTaxMoney.Amount += tax
		o.TotalMoney.Amount += gross + tax
	}
	for i := range o.Taxes {
		for _, li := range o.LineItems {
			for _, at := range li.AppliedTaxes {
				if at.TaxUID == o.Taxes[i].UID {
					o.Taxes[i].AppliedMoney.Amount += at.AppliedMoney.Amount
				}
			}
		}
		o.Taxes[i].AppliedMoney.Currency = s.opt.Currency
	}
	for _, m := range []*Money{&o.TotalTaxMoney, &o.TotalDiscountMoney, &o.TotalTipMoney, &o.TotalMoney, &o.TotalServiceChargeMoney} {
		m.Currency = s.opt.Currency
	}
	s.orders[o.ID] = o
	s.queueLocked("order.created", "order", o.ID, map[string]any{"order_created": OrderEvent{
		OrderID: o.ID, Version: o.Version, LocationID: o.LocationID, State: o.State, CreatedAt: o.CreatedAt}})

	tender := sale.Tender
	if tender == "" {
		tender = "CARD"
	}
	tip := sale.Tip
	if tender != "CARD" {
		tip = 0
	}
	p := &Payment{ID: s.newID(29), CreatedAt: ts(now), UpdatedAt: ts(now), AmountMoney: o.TotalMoney,
		TotalMoney: s.money(o.TotalMoney.Amount + tip), ApprovedMoney: s.money(o.TotalMoney.Amount + tip),
		Status: "APPROVED", SourceType: tender, LocationID: o.LocationID, OrderID: o.ID,
		ReceiptNumber: "", VersionToken: s.newID(36)}
	p.ReceiptNumber = p.ID[:4]
	if tip > 0 {
		p.TipMoney = ptr(s.money(tip))
	}
	if tender == "CARD" {
		p.CardDetails = &CardDetails{Status: "AUTHORIZED", Card: Card{CardBrand: "VISA", Last4: "1111", ExpMonth: 2,
			ExpYear: 2028, Fingerprint: "sq-1-" + s.newID(40), CardType: "CREDIT", Bin: "411111"},
			EntryMethod: "CONTACTLESS", CvvStatus: "CVV_NOT_CHECKED", AvsStatus: "AVS_NOT_CHECKED", AuthResultCode: s.newID(6)}
		s.payments[p.ID] = p
		s.queuePaymentLocked("payment.created", p)
	} else {
		s.payments[p.ID] = p
	}
	return o.ID, nil
}

// Pay completes an open order's payment and the order: the tender is
// recorded, stock moves out, and payment.updated (payment.created for
// cash), order.updated and inventory.count.updated are queued.
func (s *Seller) Pay(orderID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[orderID]
	if !ok || o.State != "OPEN" {
		return fmt.Errorf("order %q is not open", orderID)
	}
	var p *Payment
	for _, x := range s.payments {
		if x.OrderID == orderID {
			p = x
		}
	}
	if p == nil {
		return fmt.Errorf("order %q has no payment", orderID)
	}
	now := s.tick()
	p.Status, p.UpdatedAt = "COMPLETED", ts(now)
	t := Tender{ID: p.ID, LocationID: o.LocationID, TransactionID: o.ID, CreatedAt: ts(now),
		AmountMoney: p.TotalMoney, TipMoney: p.TipMoney, Type: p.SourceType, PaymentID: p.ID}
	if p.CardDetails != nil {
		p.CardDetails.Status = "CAPTURED"
		t.CardDetails = &TenderCard{Status: "CAPTURED", Card: Card{CardBrand: p.CardDetails.Card.CardBrand,
			Last4: p.CardDetails.Card.Last4, Fingerprint: p.CardDetails.Card.Fingerprint}, EntryMethod: p.CardDetails.EntryMethod}
		s.queuePaymentLocked("payment.updated", p)
	} else {
		t.CashDetails = &TenderCash{BuyerTenderedMoney: p.TotalMoney, ChangeBackMoney: s.money(0)}
		s.queuePaymentLocked("payment.created", p)
	}
	o.Tenders = []Tender{t}
	if p.TipMoney != nil {
		o.TotalTipMoney = *p.TipMoney
		o.TotalMoney.Amount += p.TipMoney.Amount
	}
	o.State, o.UpdatedAt, o.ClosedAt, o.Version = "COMPLETED", ts(now), ts(now), o.Version+1
	s.queueLocked("order.updated", "order", o.ID, map[string]any{"order_updated": OrderEvent{
		OrderID: o.ID, Version: o.Version, LocationID: o.LocationID, State: o.State, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}})
	// Square moves sold stock IN_STOCK → SOLD: the notification carries the
	// count of both states (https://developer.squareup.com/docs/inventory-api/webhooks).
	at := now.Add(time.Millisecond)
	var counts []InventoryCount
	for _, li := range o.LineItems {
		q, _ := parseQty(li.Quantity)
		k := stockKey{o.LocationID, li.CatalogObjectID}
		s.stock[k] -= q
		counts = append(counts, s.countLocked(o.LocationID, li.CatalogObjectID, "IN_STOCK", s.stock[k], at),
			s.countLocked(o.LocationID, li.CatalogObjectID, "SOLD", q, at))
	}
	s.queueLocked("inventory.count.updated", "inventory", s.newUUID(), map[string]any{"inventory_counts": counts})
	return nil
}

// Return returns lines of a completed order at its location with a refund
// to the original tender: a return order (itemized refund) is created and
// refund.created queued with the refund PENDING. SettleRefund completes
// it. It returns the return order's and the refund's IDs.
func (s *Seller) Return(sourceOrderID string, lines []Line, reason string) (orderID, refundID string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	src, ok := s.orders[sourceOrderID]
	if !ok || src.State != "COMPLETED" || len(src.Tenders) == 0 {
		return "", "", fmt.Errorf("order %q is not a completed sale", sourceOrderID)
	}
	now := s.tick()
	r := &Order{ID: s.newID(29), LocationID: src.LocationID, Source: &Source{Name: "Square Point of Sale"},
		CreatedAt: ts(now), UpdatedAt: ts(now), State: "COMPLETED", Version: 1, ClosedAt: ts(now)}
	ret := Return{UID: s.newID(22), SourceOrderID: src.ID}
	var total, tax int64
	for _, l := range lines {
		var sl *LineItem
		for i := range src.LineItems {
			if src.LineItems[i].CatalogObjectID == l.CatalogObjectID {
				sl = &src.LineItems[i]
			}
		}
		if sl == nil {
			return "", "", fmt.Errorf("order %q did not sell %q", sourceOrderID, l.CatalogObjectID)
		}
		q, err := parseQty(l.Quantity)
		if err != nil || q <= 0 {
			return "", "", fmt.Errorf("quantity %q: must be a positive decimal", l.Quantity)
		}
		gross := mulQty(sl.BasePriceMoney.Amount, q)
		rl := ReturnLineItem{UID: s.newID(22), SourceLineItemUID: sl.UID, Name: sl.Name, Quantity: l.Quantity,
			CatalogObjectID: sl.CatalogObjectID, VariationName: sl.VariationName, ItemType: sl.ItemType,
			BasePriceMoney: sl.BasePriceMoney, VariationTotalPriceMoney: sl.VariationTotalPriceMoney,
			GrossReturnMoney: s.money(gross), TotalDiscountMoney: s.money(0), TotalServiceChargeMoney: s.money(0)}
		var lineTax int64
		for _, at := range sl.AppliedTaxes {
			for _, t := range src.Taxes {
				if t.UID != at.TaxUID {
					continue
				}
				bp, _ := parseQty(t.Percentage) // thousandths of a percent
				lineTax = roundDiv(gross*bp, 100000)
				rl.AppliedTaxes = append(rl.AppliedTaxes, AppliedTax{UID: t.UID, TaxUID: t.UID, AppliedMoney: s.money(lineTax)})
				found := false
				for i := range ret.ReturnTaxes {
					if ret.ReturnTaxes[i].UID == t.UID {
						ret.ReturnTaxes[i].AppliedMoney.Amount += lineTax
						found = true
					}
				}
				if !found {
					rt := t
					rt.AppliedMoney = s.money(lineTax)
					ret.ReturnTaxes = append(ret.ReturnTaxes, rt)
				}
			}
		}
		rl.TotalTaxMoney, rl.TotalMoney = s.money(lineTax), s.money(gross+lineTax)
		ret.ReturnLineItems = append(ret.ReturnLineItems, rl)
		total += gross + lineTax
		tax += lineTax
	}
	r.Returns = []Return{ret}
	r.ReturnAmounts = &Amounts{TotalMoney: s.money(total), TaxMoney: s.money(tax), DiscountMoney: s.money(0),
		TipMoney: s.money(0), ServiceChargeMoney: s.money(0)}
	for _, m := range []*Money{&r.TotalTaxMoney, &r.TotalDiscountMoney, &r.TotalTipMoney, &r.TotalMoney, &r.TotalServiceChargeMoney} {
		*m = s.money(0)
	}
	st := src.Tenders[0]
	rf := Refund{ID: st.PaymentID + "_" + s.newID(45), LocationID: r.LocationID, TransactionID: r.ID, TenderID: st.ID,
		CreatedAt: ts(now), Reason: reason, AmountMoney: s.money(total), Status: "PENDING"}
	r.Refunds = []Refund{rf}
	s.orders[r.ID] = r
	pr := &PaymentRefund{ID: rf.ID, Status: "PENDING", AmountMoney: rf.AmountMoney, PaymentID: st.PaymentID, OrderID: r.ID,
		LocationID: r.LocationID, Reason: reason, CreatedAt: ts(now), UpdatedAt: ts(now)}
	s.refunds[pr.ID] = pr
	s.queueRefundLocked("refund.created", pr)
	return r.ID, rf.ID, nil
}

// SettleRefund completes a pending refund: the return order shows it
// APPROVED, the returned goods are back in stock, and refund.updated,
// payment.updated and inventory.count.updated are queued.
func (s *Seller) SettleRefund(refundID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	pr, ok := s.refunds[refundID]
	if !ok || pr.Status != "PENDING" {
		return fmt.Errorf("refund %q is not pending", refundID)
	}
	now := s.tick()
	pr.Status, pr.UpdatedAt = "COMPLETED", ts(now)
	r := s.orders[pr.OrderID]
	for i := range r.Refunds {
		if r.Refunds[i].ID == refundID {
			r.Refunds[i].Status = "APPROVED"
		}
	}
	r.UpdatedAt, r.Version = ts(now), r.Version+1
	s.queueRefundLocked("refund.updated", pr)
	if p, ok := s.payments[pr.PaymentID]; ok {
		p.UpdatedAt = ts(now)
		p.RefundIDs = append(p.RefundIDs, pr.ID)
		refunded := pr.AmountMoney.Amount
		if p.RefundedMoney != nil {
			refunded += p.RefundedMoney.Amount
		}
		p.RefundedMoney = ptr(s.money(refunded))
		s.queuePaymentLocked("payment.updated", p)
	}
	at := now.Add(time.Millisecond)
	var counts []InventoryCount
	for _, ret := range r.Returns {
		for _, rl := range ret.ReturnLineItems {
			q, _ := parseQty(rl.Quantity)
			k := stockKey{r.LocationID, rl.CatalogObjectID}
			s.stock[k] += q
			counts = append(counts, s.countLocked(r.LocationID, rl.CatalogObjectID, "IN_STOCK", s.stock[k], at))
		}
	}
	s.queueLocked("inventory.count.updated", "inventory", s.newUUID(), map[string]any{"inventory_counts": counts})
	return nil
}

// Post is a signed notification ready to send.
type Post struct {
	Notification
	Signature string
}

// Signed signs notifications for delivery.
func (s *Seller) Signed(ns []Notification) []Post {
	out := make([]Post, len(ns))
	for i, n := range ns {
		out[i] = Post{Notification: n, Signature: Sign(s.opt.SignatureKey, s.opt.NotificationURL, n.Body)}
	}
	return out
}

// Shuffle returns the notifications in a random order, as Square may
// deliver them: it makes no ordering promise, and retries come late.
func Shuffle(ns []Notification, seed uint64) []Notification {
	out := append([]Notification(nil), ns...)
	rng := rand.New(rand.NewPCG(seed, 1)) //nolint:gosec // simulation
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// Duplicate returns the notifications with each one repeated (same
// event_id, same body: a redelivery) with probability p, the copy placed
// at a random later position.
func Duplicate(ns []Notification, p float64, seed uint64) []Notification {
	rng := rand.New(rand.NewPCG(seed, 2)) //nolint:gosec // simulation
	out := append([]Notification(nil), ns...)
	for _, n := range ns {
		if rng.Float64() < p {
			at := rng.IntN(len(out) + 1)
			out = append(out[:at], append([]Notification{n}, out[at:]...)...)
		}
	}
	return out
}

func (s *Seller) queuePaymentLocked(typ string, p *Payment) {
	s.queueLocked(typ, "payment", p.ID, map[string]any{"payment": *p})
}

func (s *Seller) queueRefundLocked(typ string, r *PaymentRefund) {
	s.queueLocked(typ, "refund", r.ID, map[string]any{"refund": *r})
}

// queueLocked builds a notification envelope. The object is marshalled
// now: a notification is a snapshot, later changes do not alter it.
func (s *Seller) queueLocked(typ, dataType, dataID string, object map[string]any) {
	env := Envelope{MerchantID: s.opt.MerchantID, Type: typ, EventID: s.newUUID(), CreatedAt: ts(s.clock),
		Data: Data{Type: dataType, ID: dataID, Object: object}}
	body, err := json.Marshal(env)
	if err != nil {
		panic(err) // plain structs: cannot happen
	}
	s.queue = append(s.queue, Notification{EventID: env.EventID, Type: typ, Body: body})
}

func (s *Seller) countLocked(location, catalogID, state string, q int64, at time.Time) InventoryCount {
	return InventoryCount{CatalogObjectID: catalogID, CatalogObjectType: "ITEM_VARIATION", State: state,
		LocationID: location, Quantity: qtyString(q), CalculatedAt: ts(at)}
}

func (s *Seller) tick() time.Time {
	s.clock = s.clock.Add(time.Second)
	return s.clock
}

func (s *Seller) money(a int64) Money { return Money{Amount: a, Currency: s.opt.Currency} }

const idChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func (s *Seller) newID(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = idChars[s.rng.IntN(len(idChars))]
	}
	return string(b)
}

func (s *Seller) newUUID() string {
	const hexd = "0123456789abcdef"
	b := make([]byte, 36)
	for i := range b {
		switch i {
		case 8, 13, 18, 23:
			b[i] = '-'
		default:
			b[i] = hexd[s.rng.IntN(16)]
		}
	}
	return string(b)
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func ptr[T any](v T) *T { return &v }

// parseQty parses a decimal quantity into thousandths (the simulator keeps
// three decimals; Square allows five).
func parseQty(s string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 3 || strings.Trim(whole+frac, "0123456789") != "" {
		return 0, fmt.Errorf("quantity %q: not a decimal with at most 3 places", s)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("quantity %q: %w", s, err)
	}
	f := int64(0)
	if frac != "" {
		f, _ = strconv.ParseInt(frac+strings.Repeat("0", 3-len(frac)), 10, 64)
	}
	q := w*1000 + f
	if neg {
		q = -q
	}
	return q, nil
}

func qtyString(q int64) string {
	sign := ""
	if q < 0 {
		sign, q = "-", -q
	}
	if q%1000 == 0 {
		return sign + strconv.FormatInt(q/1000, 10)
	}
	return sign + strings.TrimRight(fmt.Sprintf("%d.%03d", q/1000, q%1000), "0")
}

// mulQty is price × quantity (thousandths), rounded half up.
func mulQty(price, q int64) int64 { return roundDiv(price*q, 1000) }

func roundDiv(a, b int64) int64 {
	if a < 0 {
		return -roundDiv(-a, b)
	}
	return (a + b/2) / b
}

// percent formats basis points as Square's percentage string ("7.25").
func percent(bp int64) string {
	s := fmt.Sprintf("%d.%02d", bp/100, bp%100)
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}
