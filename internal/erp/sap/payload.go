package sap

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/event"
)

// service is one OData V2 service the connector posts to, with the entity
// set it creates and the field that carries tillsync's external reference.
type service struct {
	name      string // API_SALES_ORDER_SRV
	entitySet string // A_SalesOrder
	refField  string // PurchaseOrderByCustomer
	refMax    int    // length of refField in SAP
	keyField  string // SalesOrder: the number SAP gives the record
}

var (
	// Sales orders keep the external reference in the customer reference
	// (PurchaseOrderByCustomer, BSTKD, 35 characters): it is filterable in
	// A_SalesOrder and is what SAP's own integrations use for the buyer's
	// document number.
	salesOrders = &service{name: "API_SALES_ORDER_SRV", entitySet: "A_SalesOrder",
		refField: "PurchaseOrderByCustomer", refMax: 35, keyField: "SalesOrder"}
	returns = &service{name: "API_CUSTOMER_RETURN_SRV", entitySet: "A_CustomerReturn",
		refField: "PurchaseOrderByCustomer", refMax: 35, keyField: "CustomerReturn"}
	// Material documents keep it in the header text (BKTXT, 25
	// characters); ReferenceDocument (XBLNR, 16 characters) is too short
	// for event IDs and keeps the POS reference (transfer or PO number).
	materialDocs = &service{name: "API_MATERIAL_DOCUMENT_SRV", entitySet: "A_MaterialDocumentHeader",
		refField: "MaterialDocumentHeaderText", refMax: 25, keyField: "MaterialDocument"}
	services = []*service{salesOrders, returns, materialDocs}
)

// reference is the value stored in the service's reference field for an
// external ID: the ID itself when it fits (readable in SAP GUI and Fiori),
// otherwise "~" and a base32 SHA-256 prefix of it. "~" cannot start an
// event ID (see event.validID), so a hashed reference never equals a real
// one; 24 base32 characters are 120 bits, enough to never collide.
func reference(externalID string, maxLen int) string {
	if len(externalID) <= maxLen && !strings.HasPrefix(externalID, "~") {
		return externalID
	}
	sum := sha256.Sum256([]byte(externalID))
	return "~" + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:])[:maxLen-1]
}

// plan is one document turned into the operations of its change set.
type plan struct {
	doc *erp.Document
	svc *service
	ref string
	// bodies are POSTs to svc.entitySet, created atomically in one change
	// set (a stock adjustment with gains and losses is two material
	// documents: SAP allows one GoodsMovementCode per document).
	bodies [][]byte
}

func permanent(format string, a ...any) error {
	return &erp.Error{Class: erp.Permanent, Code: "MAPPING", Err: fmt.Errorf(format, a...)}
}

func (c *Connector) plan(d *erp.Document) (*plan, error) {
	if strings.TrimSpace(d.ExternalID) == "" {
		return nil, permanent("the document has no external ID")
	}
	var (
		p   = &plan{doc: d}
		err error
	)
	switch d.Kind {
	case erp.CashSale:
		p.svc, err = salesOrders, c.salesOrder(p, c.cfg.orderTypeSale)
	case erp.SalesOrder:
		p.svc, err = salesOrders, c.salesOrder(p, c.cfg.orderTypeOnline)
	case erp.Summary:
		p.svc, err = salesOrders, c.salesOrder(p, c.cfg.orderTypeSummary)
	case erp.CashRefund:
		p.svc, err = returns, c.customerReturn(p)
	case erp.InventoryAdjustment, erp.TransferOrder, erp.TransferReceipt:
		p.svc, err = materialDocs, c.materialDocuments(p)
	case erp.InventoryCount:
		return nil, permanent("SAP books stock counts through physical inventory documents (count, then post " +
			"differences as movement types 701/702), which this connector does not create; a counted quantity is " +
			"not a goods movement. Post counts in SAP, or send the differences as adjustments")
	case erp.Fulfilment, erp.OrderCancel:
		return nil, permanent("%s is not posted to SAP by this connector: the outbound delivery and goods issue "+
			"(or the rejection of open items) of an online order are made in SAP", d.Kind)
	default:
		return nil, permanent("unknown document kind %q", d.Kind)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (c *Connector) placeOf(loc string) (place, error) {
	pl, ok := c.cfg.plants[loc]
	if !ok {
		return place{}, permanent("location %q has no SAP plant: add it to the plants setting (e.g. %s=1010)", loc, loc)
	}
	return pl, nil
}

// odataDate formats a calendar day as an OData V2 JSON Edm.DateTime
// ("/Date(<ms since epoch>)/", midnight UTC), the form SAP Gateway reads
// for date fields.
func odataDate(d *erp.Document) string {
	t, err := time.Parse(time.DateOnly, d.LocalDate)
	if err != nil {
		t = d.Date.UTC().Truncate(24 * time.Hour)
	}
	return "/Date(" + strconv.FormatInt(t.UnixMilli(), 10) + ")/"
}

// decimal writes minor units as an exact decimal string with the
// currency's exponent ("1234.50", "500" for JPY): OData V2 JSON carries
// Edm.Decimal as a string, so no float ever touches the amount.
func decimal(minor int64, exp int) string {
	n := uint64(minor) //nolint:gosec // G115: two's complement on purpose; negated below
	sign := ""
	if minor < 0 {
		sign, n = "-", -n
	}
	s := strconv.FormatUint(n, 10)
	if exp == 0 {
		return sign + s
	}
	if len(s) <= exp {
		s = strings.Repeat("0", exp-len(s)+1) + s
	}
	return sign + s[:len(s)-exp] + "." + s[len(s)-exp:]
}

// maxPricingUnit is the largest condition pricing unit (KPEIN, five digits).
const maxPricingUnit = 99999

// pricing expresses a line amount as an SAP condition rate per pricing
// unit, exactly: SAP values a condition as rate × quantity ÷ pricing unit,
// so the connector picks the smallest whole pricing unit n for which the
// rate is a whole number of minor units. 2 × 10.00 gives 10.00 per 1;
// 3 items for 10.00 give 10.00 per 3; 0.25 kg for 5.00 gives 20.00 per 1 kg.
// No division ever rounds: SAP's net value equals the till's to the cent.
func pricing(amount int64, q event.Qty) (rate, per int64, err error) {
	qm := int64(q)
	if qm <= 0 {
		return 0, 0, errors.New("quantity must be positive")
	}
	if amount == 0 {
		return 0, 1, nil
	}
	a := amount
	if a < 0 {
		a = -a
	}
	if a > math.MaxInt64/event.QtyScale || a < 0 {
		return 0, 0, fmt.Errorf("amount %d is out of range", amount)
	}
	g := gcd(qm, a*event.QtyScale)
	per = qm / g
	if per > maxPricingUnit {
		return 0, 0, fmt.Errorf("%d minor units for quantity %s cannot be priced exactly with a pricing unit of at most %d",
			amount, q, maxPricingUnit)
	}
	return amount * event.QtyScale / g, per, nil
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

type pricingElement struct {
	ConditionType         string `json:"ConditionType"`
	ConditionRateValue    string `json:"ConditionRateValue"`
	ConditionCurrency     string `json:"ConditionCurrency"`
	ConditionQuantity     string `json:"ConditionQuantity"`
	ConditionQuantityUnit string `json:"ConditionQuantityUnit"`
}

type salesItem struct {
	SalesOrderItem        string           `json:"SalesOrderItem,omitempty"`
	CustomerReturnItem    string           `json:"CustomerReturnItem,omitempty"`
	Material              string           `json:"Material"`
	RequestedQuantity     string           `json:"RequestedQuantity"`
	RequestedQuantityUnit string           `json:"RequestedQuantityUnit"`
	ProductionPlant       string           `json:"ProductionPlant,omitempty"`
	StorageLocation       string           `json:"StorageLocation,omitempty"`
	PricingElements       []pricingElement `json:"to_PricingElement,omitempty"`
}

type salesText struct {
	Language   string `json:"Language"`
	LongTextID string `json:"LongTextID"`
	LongText   string `json:"LongText"`
}

type salesHeader struct {
	SalesOrderType            string      `json:"SalesOrderType,omitempty"`
	CustomerReturnType        string      `json:"CustomerReturnType,omitempty"`
	SalesOrganization         string      `json:"SalesOrganization"`
	DistributionChannel       string      `json:"DistributionChannel"`
	OrganizationDivision      string      `json:"OrganizationDivision"`
	SoldToParty               string      `json:"SoldToParty"`
	PurchaseOrderByCustomer   string      `json:"PurchaseOrderByCustomer"`
	CustomerPurchaseOrderDate string      `json:"CustomerPurchaseOrderDate,omitempty"`
	SalesOrderDate            string      `json:"SalesOrderDate,omitempty"`
	CustomerReturnDate        string      `json:"CustomerReturnDate,omitempty"`
	SDDocumentReason          string      `json:"SDDocumentReason,omitempty"`
	TransactionCurrency       string      `json:"TransactionCurrency"`
	Items                     []salesItem `json:"to_Item"`
	Texts                     []salesText `json:"to_Text,omitempty"`
}

// maxMaterial is the length of a material number in S/4HANA (MATNR40).
const maxMaterial = 40

func (c *Connector) salesItems(d *erp.Document, returnItems bool) ([]salesItem, error) {
	pl, err := c.placeOf(d.Location)
	if err != nil {
		return nil, err
	}
	exp, ok := event.MinorUnits(d.Currency)
	if !ok {
		return nil, permanent("currency %q is not an ISO 4217 code", d.Currency)
	}
	if len(d.Lines) == 0 {
		return nil, permanent("a %s needs at least one line", d.Kind)
	}
	items := make([]salesItem, 0, len(d.Lines))
	for i, l := range d.Lines {
		if l.SKU == "" || len(l.SKU) > maxMaterial {
			return nil, permanent("line %d: SKU %q is not an SAP material number (1 to %d characters)", i+1, l.SKU, maxMaterial)
		}
		rate, per, err := pricing(l.Amount, l.Quantity)
		if err != nil {
			return nil, permanent("line %d (%s): %v", i+1, l.SKU, err)
		}
		it := salesItem{Material: l.SKU, RequestedQuantity: l.Quantity.String(), RequestedQuantityUnit: c.cfg.unit,
			ProductionPlant: pl.plant, StorageLocation: pl.sloc,
			PricingElements: []pricingElement{{ConditionType: c.cfg.priceCondition, ConditionRateValue: decimal(rate, exp),
				ConditionCurrency: d.Currency, ConditionQuantity: strconv.FormatInt(per, 10), ConditionQuantityUnit: c.cfg.unit}}}
		// Item numbers in SAP's usual steps of 10, given explicitly so the
		// payload (and a retry of it) is deterministic.
		if returnItems {
			it.CustomerReturnItem = strconv.Itoa((i + 1) * 10)
		} else {
			it.SalesOrderItem = strconv.Itoa((i + 1) * 10)
		}
		items = append(items, it)
	}
	return items, nil
}

func (c *Connector) salesOrder(p *plan, orderType string) error {
	d := p.doc
	p.ref = reference(d.ExternalID, salesOrders.refMax)
	items, err := c.salesItems(d, false)
	if err != nil {
		return err
	}
	h := salesHeader{SalesOrderType: orderType, SalesOrganization: c.cfg.salesOrg, DistributionChannel: c.cfg.channel,
		OrganizationDivision: c.cfg.division, SoldToParty: c.cfg.soldTo, PurchaseOrderByCustomer: p.ref,
		CustomerPurchaseOrderDate: odataDate(d), SalesOrderDate: odataDate(d), TransactionCurrency: d.Currency, Items: items}
	if text := c.headerText(d); text != "" {
		// Header text 0001 ("Form header"): the full external ID, the
		// reversal link and, for summaries, the tender and tax totals.
		h.Texts = []salesText{{Language: c.cfg.language, LongTextID: "0001", LongText: text}}
	}
	return p.marshal(h)
}

func (c *Connector) customerReturn(p *plan) error {
	d := p.doc
	p.ref = reference(d.ExternalID, returns.refMax)
	items, err := c.salesItems(d, true)
	if err != nil {
		return err
	}
	h := salesHeader{CustomerReturnType: c.cfg.returnType, SalesOrganization: c.cfg.salesOrg, DistributionChannel: c.cfg.channel,
		OrganizationDivision: c.cfg.division, SoldToParty: c.cfg.soldTo, PurchaseOrderByCustomer: p.ref,
		CustomerReturnDate: odataDate(d), SDDocumentReason: c.cfg.returnReason, TransactionCurrency: d.Currency, Items: items}
	if text := c.headerText(d); text != "" {
		h.Texts = []salesText{{Language: c.cfg.language, LongTextID: "0001", LongText: text}}
	}
	return p.marshal(h)
}

// headerText says what SAP cannot hold in fields: the external ID when
// the reference had to be hashed, what a post-void reverses, and a
// summary's tender and tax totals (sanitized aggregates only).
func (c *Connector) headerText(d *erp.Document) string {
	var parts []string
	if reference(d.ExternalID, salesOrders.refMax) != d.ExternalID {
		parts = append(parts, "tillsync "+d.ExternalID)
	}
	if d.Reverses != "" {
		parts = append(parts, "reverses "+d.Reverses)
	}
	if d.Kind == erp.Summary {
		exp, _ := event.MinorUnits(d.Currency)
		var tenders, taxes []string
		for _, p := range d.Payments {
			name := p.Method
			if p.Brand != "" {
				name += "/" + p.Brand
			}
			tenders = append(tenders, fmt.Sprintf("%s %s", name, decimal(p.Amount, exp)))
		}
		for _, t := range d.Taxes {
			taxes = append(taxes, fmt.Sprintf("%s %s", t.Code, decimal(t.Amount, exp)))
		}
		parts = append(parts, fmt.Sprintf("summary %s %s to %s; tenders (%s): %s; taxes: %s; %d events",
			d.Location, d.PeriodStart.UTC().Format(time.RFC3339), d.PeriodEnd.UTC().Format(time.RFC3339), d.Currency,
			strings.Join(tenders, ", "), strings.Join(taxes, ", "), len(d.EventIDs)))
	}
	return strings.Join(parts, "; ")
}

type materialItem struct {
	Material                     string `json:"Material"`
	Plant                        string `json:"Plant"`
	StorageLocation              string `json:"StorageLocation,omitempty"`
	GoodsMovementType            string `json:"GoodsMovementType"`
	EntryUnit                    string `json:"EntryUnit"`
	QuantityInEntryUnit          string `json:"QuantityInEntryUnit"`
	IssuingOrReceivingPlant      string `json:"IssuingOrReceivingPlant,omitempty"`
	IssuingOrReceivingStorageLoc string `json:"IssuingOrReceivingStorageLoc,omitempty"`
	CostCenter                   string `json:"CostCenter,omitempty"`
	MaterialDocumentItemText     string `json:"MaterialDocumentItemText,omitempty"`
}

type materialHeader struct {
	GoodsMovementCode          string         `json:"GoodsMovementCode"`
	PostingDate                string         `json:"PostingDate"`
	DocumentDate               string         `json:"DocumentDate"`
	MaterialDocumentHeaderText string         `json:"MaterialDocumentHeaderText"`
	ReferenceDocument          string         `json:"ReferenceDocument,omitempty"`
	Items                      []materialItem `json:"to_MaterialDocumentItem"`
}

// materialDocuments maps stock documents to goods movements:
//
//   - adjustments and receipts: gains with movement_gain (501, receipt
//     without purchase order: the POS knows the supplier's PO number at
//     most, never the PO item a 101 needs), losses with movement_loss (551,
//     scrapping). 701/702 are not used: SAP posts them itself from a
//     physical inventory document and refuses them as entered movements.
//   - transfers, two-step: 303 when the goods leave the sending plant
//     (stock in transfer at the receiving plant), 305 when they arrive.
//     A one-step 301 would book the goods into the receiving store before
//     they are there: the ghost inventory tillsync exists to remove. When
//     both locations are one plant, the storage-location pair 313/315.
//
// Movement types: SAP Help "Description of Movement Types" (help.sap.com/
// doc/saphelp_46c/4.6C/ru-RU/e5/ec71005b47d111a4620060b03c3b0e); 701/702
// as physical inventory postings: learning.sap.com "Defining Movement Types
// and Reason Codes" (physical inventory in S/4HANA). All are settings.
func (c *Connector) materialDocuments(p *plan) error {
	d := p.doc
	p.ref = reference(d.ExternalID, materialDocs.refMax)
	var items []materialItem
	switch d.Kind {
	case erp.InventoryAdjustment:
		pl, err := c.placeOf(d.Location)
		if err != nil {
			return err
		}
		for i, l := range d.Lines {
			if l.Quantity == 0 {
				continue
			}
			it, err := c.materialItem(i, l, pl)
			if err != nil {
				return err
			}
			it.GoodsMovementType = c.cfg.moveGain
			if l.Quantity < 0 {
				it.GoodsMovementType = c.cfg.moveLoss
				it.CostCenter = c.cfg.costCenters[d.Location]
			}
			items = append(items, it)
		}
	case erp.TransferOrder, erp.TransferReceipt:
		from, err := c.placeOf(d.Location)
		if err != nil {
			return err
		}
		to, err := c.placeOf(d.ToLocation)
		if err != nil {
			return err
		}
		if from == to {
			return permanent("transfer from %s to %s: both are plant %s storage location %q, so nothing moves in SAP; "+
				"map the locations to different plants or storage locations", d.Location, d.ToLocation, from.plant, from.sloc)
		}
		mt, at, other := c.cfg.moveOut, from, to
		if d.Kind == erp.TransferReceipt {
			mt, at, other = c.cfg.moveIn, to, from
		}
		if from.plant == to.plant {
			mt = map[bool]string{true: "315", false: "313"}[d.Kind == erp.TransferReceipt]
		}
		for i, l := range d.Lines {
			if l.Quantity == 0 {
				continue
			}
			if l.Quantity < 0 {
				return permanent("line %d (%s): a transfer quantity must be positive", i+1, l.SKU)
			}
			it, err := c.materialItem(i, l, at)
			if err != nil {
				return err
			}
			it.GoodsMovementType, it.IssuingOrReceivingPlant, it.IssuingOrReceivingStorageLoc = mt, other.plant, other.sloc
			items = append(items, it)
		}
	}
	if len(items) == 0 {
		return permanent("nothing to post: the %s has no line with a quantity", d.Kind)
	}
	// One material document per GoodsMovementCode, in a stable order.
	byCode := map[string][]materialItem{}
	var codes []string
	for _, it := range items {
		code := goodsMovementCodes[it.GoodsMovementType]
		if _, ok := byCode[code]; !ok {
			codes = append(codes, code)
		}
		byCode[code] = append(byCode[code], it)
	}
	refDoc := ""
	if len(d.Reference) <= 16 {
		refDoc = d.Reference
	}
	for _, code := range codes {
		h := materialHeader{GoodsMovementCode: code, PostingDate: odataDate(d), DocumentDate: odataDate(d),
			MaterialDocumentHeaderText: p.ref, ReferenceDocument: refDoc, Items: byCode[code]}
		if err := p.marshal(h); err != nil {
			return err
		}
	}
	return nil
}

func (c *Connector) materialItem(i int, l erp.Line, at place) (materialItem, error) {
	if l.SKU == "" || len(l.SKU) > maxMaterial {
		return materialItem{}, permanent("line %d: SKU %q is not an SAP material number (1 to %d characters)", i+1, l.SKU, maxMaterial)
	}
	q := l.Quantity
	if q < 0 {
		q = -q
	}
	text := l.Reason
	if r := []rune(text); len(r) > 50 { // SGTXT: 50 characters
		text = string(r[:50])
	}
	return materialItem{Material: l.SKU, Plant: at.plant, StorageLocation: at.sloc, EntryUnit: c.cfg.unit,
		QuantityInEntryUnit: q.String(), MaterialDocumentItemText: text}, nil
}

func (p *plan) marshal(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return permanent("encode %s: %v", p.doc.Kind, err)
	}
	p.bodies = append(p.bodies, b)
	return nil
}
