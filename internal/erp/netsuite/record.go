package netsuite

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tillsync/tillsync/internal/erp"
)

// The REST record shapes tillsync writes. References to other records are
// objects with an internal "id" or an "externalId"; sublists are objects
// with an "items" array (Oracle, "Using External IDs" and "Working with
// Sublists": https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/chapter_1545142407.html).
// Items are referenced by external ID = SKU and locations by external ID =
// tillsync location, so an account is set up once (items and locations
// carry those external IDs, which NetSuite's CSV import sets) and no ID
// table lives in tillsync. Structs, not maps, keep the JSON in a stable
// order for the golden files.

// ref points at another record.
type ref struct {
	ID         string `json:"id,omitempty"`
	ExternalID string `json:"externalId,omitempty"`
}

func byID(id string) *ref {
	if id == "" {
		return nil
	}
	return &ref{ID: id}
}

func byExternalID(id string) ref { return ref{ExternalID: id} }

// sublist is a NetSuite sublist ("item", "inventory", "line").
type sublist[T any] struct {
	Items []T `json:"items"`
}

// customPrice is NetSuite's "Custom" price level (internal ID -1): the line
// keeps the amount sent instead of being repriced from the item's price
// levels — the till's price is what the customer paid.
var customPrice = &ref{ID: "-1"}

// itemLine is a line of the "item" sublist of a sale, refund or order.
type itemLine struct {
	Item     ref         `json:"item"`
	Quantity json.Number `json:"quantity"`
	Price    *ref        `json:"price,omitempty"`
	// Amount is the net line amount (after discounts, before tax).
	Amount json.Number `json:"amount,omitempty"`
	// TaxCode and Tax1Amt book the tax the till charged on the line
	// (legacy tax engine): NetSuite keeps the amount given instead of
	// recomputing it, so a one-cent rounding difference cannot creep in.
	TaxCode *ref        `json:"taxCode,omitempty"`
	Tax1Amt json.Number `json:"tax1Amt,omitempty"`
}

// salesRecord is a cashSale, cashRefund or salesOrder.
type salesRecord struct {
	Entity      ref    `json:"entity"`
	Subsidiary  *ref   `json:"subsidiary,omitempty"`
	Location    ref    `json:"location"`
	TranDate    string `json:"tranDate"`
	OtherRefNum string `json:"otherRefNum,omitempty"`
	Memo        string `json:"memo,omitempty"`
	// OrderStatus "B" (Pending Fulfillment) lets a web order be fulfilled
	// without an approval step.
	OrderStatus *ref              `json:"orderStatus,omitempty"`
	Item        sublist[itemLine] `json:"item"`
}

// adjustLine is a line of an inventoryAdjustment's "inventory" sublist:
// either a signed change (adjustQtyBy) or, for a count, the counted
// quantity (newQuantity), from which NetSuite computes the change against
// its own on-hand quantity.
type adjustLine struct {
	Item        ref         `json:"item"`
	Location    ref         `json:"location"`
	AdjustQtyBy json.Number `json:"adjustQtyBy,omitempty"`
	NewQuantity json.Number `json:"newQuantity,omitempty"`
	Memo        string      `json:"memo,omitempty"`
}

// adjustment is an inventoryAdjustment.
type adjustment struct {
	Subsidiary  *ref                `json:"subsidiary,omitempty"`
	Account     ref                 `json:"account"`
	AdjLocation ref                 `json:"adjLocation"`
	TranDate    string              `json:"tranDate"`
	Memo        string              `json:"memo,omitempty"`
	Inventory   sublist[adjustLine] `json:"inventory"`
}

// transferLine is a line of a transferOrder.
type transferLine struct {
	Item     ref         `json:"item"`
	Quantity json.Number `json:"quantity"`
}

// transferOrder moves stock from location to transferLocation.
type transferOrder struct {
	Subsidiary       *ref                  `json:"subsidiary,omitempty"`
	Location         ref                   `json:"location"`
	TransferLocation ref                   `json:"transferLocation"`
	TranDate         string                `json:"tranDate"`
	OrderStatus      ref                   `json:"orderStatus"`
	Memo             string                `json:"memo,omitempty"`
	Item             sublist[transferLine] `json:"item"`
}

// transformed is the body of a !transform: the new record's external ID
// and date; its lines come from the source record (every open line).
type transformed struct {
	ExternalID string `json:"externalId"`
	TranDate   string `json:"tranDate"`
	Memo       string `json:"memo,omitempty"`
}

// closeLines closes sales order lines (what is left of them).
type closeLines struct {
	Item sublist[closeLine] `json:"item"`
}

type closeLine struct {
	Line     int  `json:"line"`
	IsClosed bool `json:"isClosed"`
}

// journalLine is a line of a journalEntry: a debit or a credit.
type journalLine struct {
	Account  ref         `json:"account"`
	Debit    json.Number `json:"debit,omitempty"`
	Credit   json.Number `json:"credit,omitempty"`
	Memo     string      `json:"memo,omitempty"`
	Location *ref        `json:"location,omitempty"`
}

// journal is a journalEntry.
type journal struct {
	Subsidiary *ref                 `json:"subsidiary,omitempty"`
	TranDate   string               `json:"tranDate"`
	Memo       string               `json:"memo,omitempty"`
	Line       sublist[journalLine] `json:"line"`
}

// orderStatusPendingFulfillment is the status a web order and a transfer
// order are created in (Oracle, "Transfer Order" record sample:
// https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_0817021034.html).
const orderStatusPendingFulfillment = "B"

// tranDate is the day a document is booked on: the store's own calendar
// day.
func tranDate(d *erp.Document) string {
	if d.LocalDate != "" {
		return d.LocalDate
	}
	return d.Date.UTC().Format("2006-01-02")
}

// memo joins parts and keeps within NetSuite's 999-character memo.
func memo(parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			kept = append(kept, p)
		}
	}
	s := strings.Join(kept, " · ")
	const limit = 999
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// salesRecord maps a sale, a refund or a web order.
func (c *Connector) salesRecord(d *erp.Document) (*salesRecord, error) {
	if len(d.Lines) == 0 {
		return nil, fmt.Errorf("a %s needs at least one line", d.Kind)
	}
	r := &salesRecord{
		Entity: ref{ID: c.cfg.customer}, Subsidiary: byID(c.cfg.subsidiary), Location: byExternalID(d.Location),
		TranDate: tranDate(d),
	}
	switch d.Kind {
	case erp.SalesOrder:
		// otherRefNum ("PO #") carries the web order number: fulfilments and
		// cancellations find the order by it, as e-commerce connectors do.
		r.OtherRefNum = d.Reference
		r.OrderStatus = &ref{ID: orderStatusPendingFulfillment}
		r.Memo = memo("web order "+d.Reference, d.Memo)
	default:
		receipt := ""
		if d.Reference != "" {
			receipt = "POS receipt " + d.Reference
		}
		r.Memo = memo(receipt, d.Memo)
	}
	for i, l := range d.Lines {
		if l.SKU == "" {
			return nil, fmt.Errorf("line %d has no SKU", i+1)
		}
		net, err := money(l.Amount-l.Tax, d.Currency)
		if err != nil {
			return nil, err
		}
		ln := itemLine{Item: byExternalID(l.SKU), Quantity: quantity(l.Quantity), Price: customPrice, Amount: net}
		if l.TaxCode != "" {
			ln.TaxCode = &ref{ExternalID: l.TaxCode}
		}
		if l.Tax != 0 {
			if ln.Tax1Amt, err = money(l.Tax, d.Currency); err != nil {
				return nil, err
			}
		}
		r.Item.Items = append(r.Item.Items, ln)
	}
	return r, nil
}

// adjustment maps a stock adjustment, a receipt without a purchase order
// in NetSuite, or a count.
func (c *Connector) adjustment(d *erp.Document) (*adjustment, error) {
	if c.cfg.adjustmentAcct == "" {
		return nil, misconfigured("setting adjustment_account is not set: inventory adjustments and counts need the GL account they post against")
	}
	if len(d.Lines) == 0 {
		return nil, fmt.Errorf("a %s needs at least one line", d.Kind)
	}
	what := "POS stock adjustment"
	if d.Kind == erp.InventoryCount {
		what = "POS stock count"
	}
	if d.Reference != "" {
		what += " " + d.Reference
	}
	a := &adjustment{
		Subsidiary: byID(c.cfg.subsidiary), Account: ref{ID: c.cfg.adjustmentAcct}, AdjLocation: byExternalID(d.Location),
		TranDate: tranDate(d), Memo: memo(what, d.Memo),
	}
	for i, l := range d.Lines {
		if l.SKU == "" {
			return nil, fmt.Errorf("line %d has no SKU", i+1)
		}
		ln := adjustLine{Item: byExternalID(l.SKU), Location: byExternalID(d.Location), Memo: memo(l.Reason)}
		if d.Kind == erp.InventoryCount {
			ln.NewQuantity = quantity(l.Quantity)
		} else {
			ln.AdjustQtyBy = quantity(l.Quantity)
		}
		a.Inventory.Items = append(a.Inventory.Items, ln)
	}
	return a, nil
}

// transferOrder maps the shipping side of a transfer.
func (c *Connector) transferOrder(d *erp.Document) (*transferOrder, error) {
	if d.ToLocation == "" || d.ToLocation == d.Location {
		return nil, fmt.Errorf("transfer %s needs a destination other than %s", d.Reference, d.Location)
	}
	if len(d.Lines) == 0 {
		return nil, fmt.Errorf("transfer %s has no lines", d.Reference)
	}
	t := &transferOrder{
		Subsidiary: byID(c.cfg.subsidiary), Location: byExternalID(d.Location), TransferLocation: byExternalID(d.ToLocation),
		TranDate: tranDate(d), OrderStatus: ref{ID: orderStatusPendingFulfillment}, Memo: memo("POS transfer "+d.Reference, d.Memo),
	}
	for i, l := range d.Lines {
		if l.SKU == "" {
			return nil, fmt.Errorf("line %d has no SKU", i+1)
		}
		if l.Quantity <= 0 {
			return nil, fmt.Errorf("line %d (%s) ships %s; a transfer order line needs a positive quantity", i+1, l.SKU, l.Quantity)
		}
		t.Item.Items = append(t.Item.Items, transferLine{Item: byExternalID(l.SKU), Quantity: quantity(l.Quantity)})
	}
	return t, nil
}

// journal maps a summary: a journal entry that debits each tender's
// clearing account, credits each tax's liability account, tips payable
// and net sales. It balances by construction (net sales are the tenders
// less tax), amounts are signed so a period with more refunds than sales
// turns debits into credits, and it books money only: stock moves through
// the stock lane (adjustments, transfers, detail postings), which is why a
// summary travels in the financial lane.
//
// Why a journal entry and not a cash sale of totals: a cash sale needs one
// payment method and NetSuite's own tax computation over item lines, while
// a period mixes tenders and the tills already computed the tax by code —
// a journal books exactly those totals, to the accounts the accountant
// chose, and posts nothing twice when detail postings also move stock.
func (c *Connector) journal(d *erp.Document) (*journal, error) {
	if c.cfg.salesAcct == "" {
		return nil, misconfigured("setting sales_account is not set: summaries credit net sales to it")
	}
	type entry struct {
		account, memo string
		amount        int64 // positive: debit
	}
	var entries []entry
	var paid, tips, taxed int64
	for _, p := range d.Payments {
		acct := c.cfg.paymentAccounts[p.Method+":"+p.Brand]
		if acct == "" {
			acct = c.cfg.paymentAccounts[p.Method]
		}
		if acct == "" {
			return nil, misconfigured("setting payment_accounts has no account for tender %q", p.Method)
		}
		entries = append(entries, entry{acct, memo(p.Method, p.Brand), p.Amount + p.Tip})
		paid += p.Amount
		tips += p.Tip
	}
	for _, t := range d.Taxes {
		acct := c.cfg.taxAccounts[t.Code]
		if acct == "" {
			acct = c.cfg.taxAccounts["*"]
		}
		if acct == "" {
			return nil, misconfigured("setting tax_accounts has no account for tax code %q (nor a * default)", t.Code)
		}
		entries = append(entries, entry{acct, "tax " + t.Code, -t.Amount})
		taxed += t.Amount
	}
	if tips != 0 {
		if c.cfg.tipsAcct == "" {
			return nil, misconfigured("setting tips_account is not set, and the summary carries tips")
		}
		entries = append(entries, entry{c.cfg.tipsAcct, "tips", -tips})
	}
	entries = append(entries, entry{c.cfg.salesAcct, "net sales", -(paid - taxed)})

	j := &journal{Subsidiary: byID(c.cfg.subsidiary), TranDate: tranDate(d),
		Memo: memo(fmt.Sprintf("tillsync summary %s %s–%s, %d events", d.Location,
			d.PeriodStart.UTC().Format("2006-01-02T15:04Z"), d.PeriodEnd.UTC().Format("2006-01-02T15:04Z"), len(d.EventIDs)), d.Memo)}
	loc := &ref{ExternalID: d.Location}
	for _, e := range entries {
		if e.amount == 0 {
			continue
		}
		ln := journalLine{Account: ref{ID: e.account}, Memo: e.memo, Location: loc}
		var err error
		if e.amount > 0 {
			ln.Debit, err = money(e.amount, d.Currency)
		} else {
			ln.Credit, err = money(-e.amount, d.Currency)
		}
		if err != nil {
			return nil, err
		}
		j.Line.Items = append(j.Line.Items, ln)
	}
	if len(j.Line.Items) == 0 {
		return nil, fmt.Errorf("summary %s has nothing to book", d.ExternalID)
	}
	return j, nil
}
